"""SQL models over the synced Atera data: a dbt project (`sql/`) run in this process.

Public API::

    from pipelines.models import run_models, ModelSettings, ModelsResult, DataTestFailed
    from pipelines.models import load_model_settings

    settings = load_model_settings()        # defaults, overridden by [models] in dlt config
    result = run_models(con, as_of=None, settings=settings)
    result.models, result.tests_passed, result.duration_s, result.compliance_by_priority

Modules: `settings` (what can be configured), `config` (reading `[models]`),
`business_calendar` (open intervals in UTC, passed to dbt as a var),
`dbt_build` (dbt with a generated profile), `warehouse_schemas` (publishing
the marts, removing stale relations), `runner`, `errors`.
"""

from __future__ import annotations

from pipelines.models.config import load_model_settings
from pipelines.models.errors import (
    DataTestFailed,
    ModelBuildError,
    ModelProjectError,
    ModelsError,
    ModelSettingsError,
)
from pipelines.models.runner import ModelsResult, run_models
from pipelines.models.settings import BusinessHours, ModelSettings

__all__ = [
    "BusinessHours",
    "DataTestFailed",
    "ModelBuildError",
    "ModelProjectError",
    "ModelSettings",
    "ModelSettingsError",
    "ModelsError",
    "ModelsResult",
    "load_model_settings",
    "run_models",
]
