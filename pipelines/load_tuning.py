"""dlt settings for the load path: what a large full sync needs to stay fast and small.

`apply_load_tuning()` sets them in dlt's config, before the pipeline is made:

* Arrow batches (`pipelines.atera.arrow_batches`) get dlt's own `_dlt_id` and
  `_dlt_load_id` columns, which the dict rows got from the JSON normalizer: the
  raw tables keep the same columns whichever way a batch came.
"""

from __future__ import annotations

from typing import Any, Final

import dlt

LOAD_SETTINGS: Final[dict[str, Any]] = {
    "normalize.parquet_normalizer.add_dlt_id": True,
    "normalize.parquet_normalizer.add_dlt_load_id": True,
}
"""dlt config key -> value."""


def apply_load_tuning() -> None:
    """Set `LOAD_SETTINGS` in dlt's config (in code: they need no `.dlt/config.toml`)."""
    for key, value in LOAD_SETTINGS.items():
        dlt.config[key] = value
