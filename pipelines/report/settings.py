"""`[report]` settings: whether `atera-sync run` writes the report after each run, and where.

From the environment (`REPORT__ENABLED`, `REPORT__PATH`), then `.dlt/config.toml`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import dlt

from pipelines.report.build import DEFAULT_REPORT_FILE

SECTION = "report"


class ReportSettingsError(ValueError):
    """A `[report]` value cannot be read."""


@dataclass(frozen=True)
class ReportSettings:
    enabled: bool = False
    path: Path | None = None
    """None: `atera-report.html` beside the warehouse file."""

    def path_for(self, duckdb_path: Path) -> Path:
        return self.path if self.path is not None else duckdb_path.parent / DEFAULT_REPORT_FILE


def _get(key: str, expected_type: type) -> Any:
    try:
        return dlt.config.get(f"{SECTION}.{key}", expected_type)
    except Exception as exc:  # dlt raises its own coercion errors
        raise ReportSettingsError(f"cannot read [{SECTION}] {key}: {exc}") from exc


def load_report_settings() -> ReportSettings:
    """Resolve `[report] enabled` (default false) and `[report] path`."""
    enabled = _get("enabled", bool)
    path = _get("path", str)
    return ReportSettings(
        enabled=bool(enabled) if enabled is not None else False,
        path=Path(path) if path else None,
    )
