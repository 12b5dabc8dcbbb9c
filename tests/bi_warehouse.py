"""A warehouse built from the sandbox with its SQL models, for the BI-facing tests."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import duckdb

from pipelines.models import run_models
from pipelines.sandbox import AteraSandbox
from pipelines.sync import SyncResult, run_sync
from tests.conftest import config_for

AS_OF = datetime(2026, 11, 2, 12, 0, tzinfo=UTC)


def build_models(work: Path, data_as_of: datetime | None = None) -> None:
    """The after-load step of `atera-sync run`: the SQL models on the working copy (judged
    at a fixed instant, whatever the sync's server time)."""
    with duckdb.connect(str(work)) as con:
        run_models(con, as_of=AS_OF)


def sync_with_models(sandbox: AteraSandbox, duckdb_path: Path) -> SyncResult:
    """One `atera-sync run` against the sandbox: sync, models, publish."""
    return run_sync(config_for(sandbox), duckdb_path, after_load=build_models)
