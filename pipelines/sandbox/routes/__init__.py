"""Both API shapes' routes, side by side: :mod:`.contract` and :mod:`.published`.

Each module holds one shape's route table, its handlers and its
:class:`~pipelines.sandbox.routes.common.ShapeSpec` (auth scheme, error
bodies, timestamp fields); :mod:`.common` holds what routes get and return.
"""

from __future__ import annotations

from pipelines.sandbox.routes import contract, published
from pipelines.sandbox.routes.common import ShapeSpec
from pipelines.sandbox.shapes import CONTRACT, PUBLISHED

#: API shape -> how to serve it.
SPECS: dict[str, ShapeSpec] = {CONTRACT: contract.SPEC, PUBLISHED: published.SPEC}

__all__ = ["SPECS", "ShapeSpec"]
