"""`--destination postgres` on a real PostgreSQL server: full, incremental and no-op runs."""

from __future__ import annotations

from pathlib import Path

import psycopg2
import pytest

from pipelines.sandbox import AteraSandbox
from pipelines.server_lock import ServerRunLock
from pipelines.server_warehouse import ServerWarehouse
from pipelines.sync import SyncAlreadyRunning, run_sync
from tests.conftest import config_for


def _rows(dsn: str, sql: str) -> list[tuple]:
    with psycopg2.connect(dsn) as con, con.cursor() as cursor:
        cursor.execute(sql)
        return cursor.fetchall()


def test_full_then_incremental_sync_lands_the_sandbox_in_postgres(
    sandbox: AteraSandbox, postgres_dsn: str, tmp_path: Path
) -> None:
    config = config_for(sandbox)
    first = run_sync(config, tmp_path / "atera.duckdb", destination="postgres")
    assert first.report.mode == "full"
    assert first.rows["tickets"] == 120
    ids = {i for (i,) in _rows(postgres_dsn, "select ticket_id from atera_raw.tickets")}
    assert len(ids) == 120
    second = run_sync(config, tmp_path / "atera.duckdb", destination="postgres")
    assert second.report.mode == "incremental"
    runs = _rows(postgres_dsn, "select status, mode from atera_meta.sync_runs order by started_at")
    assert runs == [("success", "full"), ("success", "incremental")]
    assert not (tmp_path / "atera.duckdb").exists()  # nothing written to a DuckDB file


def test_a_second_run_is_refused_while_one_holds_the_lock(
    sandbox: AteraSandbox, postgres_dsn: str, tmp_path: Path
) -> None:
    warehouse = ServerWarehouse("postgres", state_root=tmp_path)
    with (
        ServerRunLock(warehouse.credentials, warehouse.label),
        pytest.raises(SyncAlreadyRunning, match="already writing"),
    ):
        run_sync(config_for(sandbox), tmp_path / "atera.duckdb", destination="postgres")
