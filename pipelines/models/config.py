"""Read the `[models]` settings through dlt's config providers.

Values come from environment variables (`MODELS__PAUSE_SLA_WHEN_PENDING`,
`MODELS__SLA_TARGETS__CRITICAL`, `MODELS__BUSINESS_HOURS__MONDAY`, ...),
then `.dlt/config.toml` in the working directory, then the defaults in
`pipelines.models.settings`. A single value set in the environment
overrides the same key of a TOML table.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import dlt

from pipelines.models.errors import ModelSettingsError
from pipelines.models.settings import (
    KNOWN_PRIORITIES,
    SCOPES,
    WEEKDAYS,
    BusinessHours,
    ModelSettings,
    ScopedTargets,
    priority_minutes,
)

SECTION = "models"


def _get(key: str, expected_type: type | None = None) -> Any:
    try:
        return dlt.config.get(f"{SECTION}.{key}", expected_type)  # type: ignore[arg-type]
    except Exception as exc:  # dlt raises its own coercion errors
        raise ModelSettingsError(f"cannot read [{SECTION}] {key}: {exc}") from exc


def _table(key: str) -> dict[str, Any]:
    value = _get(key, dict)
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise ModelSettingsError(f"[{SECTION}.{key}] must be a table, got {value!r}")
    return dict(value)


def _sla_targets() -> dict[str, float]:
    targets: dict[str, Any] = _table("sla_targets")
    for priority in KNOWN_PRIORITIES:
        for spelling in (priority, priority.lower(), priority.upper()):
            value = _get(f"sla_targets.{spelling}", float)
            if value is not None:
                targets[priority] = value
                break
    return targets


def _scoped_targets() -> tuple[ScopedTargets, ...]:
    """Targets per customer or contract: `[models.sla_targets_by_customer.<id>]`,
    `[models.sla_targets_by_contract.<id>]` and the same for `resolution_targets`."""
    found: dict[tuple[str, int], dict[str, dict[str, float]]] = {}
    for scope in SCOPES:
        for kind in ("sla_targets", "resolution_targets"):
            key = f"{kind}_by_{scope}"
            for raw_id, table in _table(key).items():
                where = f"{SECTION}.{key}.{raw_id}"
                try:
                    scope_id = int(str(raw_id).strip())
                except ValueError as exc:
                    raise ModelSettingsError(
                        f"[{where}]: {raw_id!r} is not a {scope} id (a whole number)"
                    ) from exc
                if not isinstance(table, Mapping):
                    raise ModelSettingsError(f"[{where}] must be a table of priority = minutes")
                entry = found.setdefault((scope, scope_id), {})
                entry[kind] = priority_minutes(where, table)
    return tuple(
        ScopedTargets(
            scope,
            scope_id,
            first_response=kinds.get("sla_targets", {}),
            resolution=kinds.get("resolution_targets", {}),
        )
        for (scope, scope_id), kinds in sorted(found.items())
    )


def _business_hours(table: dict[str, Any]) -> BusinessHours | None:
    enabled = _get("business_hours.enabled", bool)
    if enabled is None:
        enabled = bool(table.get("enabled", False))
    if not enabled:
        return None
    days: dict[str, Any] = {k: v for k, v in table.items() if k.lower() in WEEKDAYS}
    for day in WEEKDAYS:
        value = _get(f"business_hours.{day}")
        if value is not None:
            days[day] = value
    holidays = _get("business_hours.holidays", list)
    if holidays is None:
        holidays = table.get("holidays", [])
    return BusinessHours.from_config(days, holidays)


def load_model_settings() -> ModelSettings:
    """Resolve the `[models]` settings from the environment, `.dlt/config.toml` and defaults.

    Returns:
        The settings to pass to `run_models`.

    Raises:
        ModelSettingsError: a value cannot be read or is invalid (the message names it).
    """
    business_table = _table("business_hours")
    pause = _get("pause_sla_when_pending", bool)
    time_zone = _get("time_zone", str)
    targets_source = _get("targets_source", str)
    return ModelSettings(
        sla_targets=_sla_targets(),
        resolution_targets=_table("resolution_targets"),
        scoped_targets=_scoped_targets(),
        targets_source=targets_source or "priority",
        pause_sla_when_pending=bool(pause) if pause is not None else False,
        time_zone=time_zone or "UTC",
        business_hours=_business_hours(business_table),
    )
