"""Atera sandbox: a test double of Atera's ticket API, for the demo and the tests.

It is a real loopback HTTP server with seeded, fictional data. ``atera-sync run``
uses it when no API key is configured (the demo), and the test suite syncs from
it over real HTTP. It is never used against real Atera, and the product code
(:mod:`pipelines.atera`, :mod:`pipelines.sync`, ...) does not depend on it.

It serves one of two API shapes (:mod:`.shapes`): ``contract``, the ticket
contract this project was specified from, and ``published``, Atera's published
OpenAPI v3, each with the timestamp format of choice (:mod:`.timestamps`).

Modules, one job each:

* ``data.py``: the seeded data and the store that applies Atera's business rules.
* ``accounts.py``: customers and contracts (``/customers``, ``/contracts``), one
  default contract per customer and sometimes a second; the published tickets'
  ``ContractID`` and contract-dependent ``FirstResponseDueDate``.
* ``sla_audit.py``: with ``sla_audit_tickets=True``, three fixed tickets after the
  seeded ones that exercise the SLA rules: (a) resolved within target and
  answered publicly by a technician later (fulfilled by the resolution); (b) a
  first-response field more than a minute later than an earlier public
  technician comment; (c) a first-response field before the ticket's creation.
  Their times and expected readings are in that module's docstring.
* ``dtos.py``: the published shape's payloads (DTOs), built from the store.
* ``shapes.py``: the API shape names (``contract``, ``published``) and their old names.
* ``timestamps.py``: writing timestamps as ISO 8601, 7-digit ISO or .NET ``/Date()/``.
* ``routes/``: both shapes' routes side by side: ``common.py`` (what a route
  gets and returns), ``contract.py`` and ``published.py`` (route table, handlers,
  error bodies).
* ``server.py``: HTTP only: auth, rate limit, fault injection, request log,
  dispatch to the routes (:class:`AteraSandbox`).
* ``world_state.py``, ``world_activity.py``: the demo's stable world (the store
  saved beside the warehouse, and the activity played between two runs).
* ``cli.py``: the one command line, ``atera-sync sandbox`` and
  ``python -m pipelines.sandbox`` (``__main__.py`` runs it).
"""

from __future__ import annotations

from pipelines.sandbox.server import AteraSandbox
from pipelines.sandbox.shapes import API_SHAPES, CONTRACT, PUBLISHED, normalize_api_shape
from pipelines.sandbox.timestamps import TIMESTAMP_FORMATS

__all__ = [
    "API_SHAPES",
    "CONTRACT",
    "PUBLISHED",
    "TIMESTAMP_FORMATS",
    "AteraSandbox",
    "normalize_api_shape",
]
