"""Faults on a real PostgreSQL server: a run killed mid-load, a concurrent run.

(A failing model and a mart changed under a user's view are in tests/test_postgres_e2e.py,
on the warehouse whose marts that file builds: a dbt build on PostgreSQL is the slow part.)
"""

from __future__ import annotations

import signal
from pathlib import Path
from typing import Any

from pipelines.sandbox import AteraSandbox
from pipelines.server_lock import ServerRunLock
from pipelines.server_warehouse import ServerWarehouse
from pipelines.sync import run_sync
from tests.conftest import config_for
from tests.faults.test_kill import sync_in_child
from tests.test_postgres_e2e import atera_sync, output, rows, runs
from tests.test_sync_e2e import assert_warehouse_equals_sandbox, change_data_through_the_api
from tests.warehouse import query_rows


def server_state(state_root: Path) -> dict[str, Any]:
    """The Atera source state as the server holds it, restored like a fresh machine would
    (dlt trusts only the state of loads that completed)."""
    pipeline = ServerWarehouse("postgres", state_root=state_root).pipeline()
    pipeline.sync_destination()
    return dict(pipeline.state.get("sources", {}).get("atera", {}))


def raw_fingerprint(dsn: str) -> dict[str, list[tuple]]:
    tables = rows(
        dsn,
        "select table_name from information_schema.tables "
        "where table_schema = 'atera_raw' and table_name not like '\\_dlt%'",
    )
    return {
        name: sorted(query_rows(dsn, f"select * from atera_raw.{name}")[1], key=repr)
        for (name,) in tables
    }


def test_a_first_sync_killed_mid_load_is_completed_by_the_next_run(
    sandbox: AteraSandbox, postgres_dsn: str, tmp_path: Path
) -> None:
    path = tmp_path / "atera.duckdb"
    killed = sync_in_child(sandbox, path, "load:1", destination="postgres")
    assert killed.returncode == -signal.SIGKILL, killed.stderr[-2000:]
    assert server_state(tmp_path / "fresh") == {}  # no watermark for data that did not land

    run_sync(config_for(sandbox), path, destination="postgres")
    assert_warehouse_equals_sandbox(postgres_dsn, sandbox)
    assert [r["status"] for r in runs(postgres_dsn)] == ["success"]


def test_an_incremental_sync_killed_mid_load_keeps_the_watermark_and_recovers(
    sandbox: AteraSandbox, postgres_dsn: str, tmp_path: Path
) -> None:
    """Killed once six table jobs have landed: their tables are committed, so the next run
    cannot load the same package again (unique `_dlt_id`), discards it and loads again from
    the watermark that landed."""
    path = tmp_path / "atera.duckdb"
    config = config_for(sandbox)
    run_sync(config, path, destination="postgres")
    landed = server_state(tmp_path / "before")["watermark"]
    change_data_through_the_api(sandbox)
    sandbox.advance(3600)
    before = raw_fingerprint(postgres_dsn)

    killed = sync_in_child(sandbox, path, "load:6", destination="postgres")
    # dlt committed some of the killed run's tables: readers see them before the run ends
    after = raw_fingerprint(postgres_dsn)
    assert [t for t in after if after[t] != before.get(t)]
    assert killed.returncode == -signal.SIGKILL, killed.stderr[-2000:]
    # whatever tables dlt committed before the kill, the watermark is the last complete one
    assert server_state(tmp_path / "after-kill")["watermark"] == landed
    assert [r["status"] for r in runs(postgres_dsn)] == ["success"]

    # the next run (its lock freed with the killed one's connection) finishes the load
    resumed = run_sync(config, path, destination="postgres")
    assert resumed.report.mode == "incremental"
    assert_warehouse_equals_sandbox(postgres_dsn, sandbox)
    assert server_state(tmp_path / "after")["watermark"] > landed


def test_a_concurrent_run_exits_3_and_writes_nothing(
    sandbox: AteraSandbox, postgres_dsn: str, tmp_path: Path
) -> None:
    holder = ServerWarehouse("postgres", state_root=tmp_path / "holder")
    with ServerRunLock(holder.credentials, holder.label):
        completed = atera_sync(
            tmp_path,
            postgres_dsn,
            "run",
            "--destination",
            "postgres",
            "--base-url",
            sandbox.base_url,
        )
    assert completed.returncode == 3, output(completed)
    assert "already writing" in output(completed)
    assert sandbox.request_count() == 0
    schemas = rows(
        postgres_dsn,
        "select nspname from pg_namespace where nspname in ('atera_raw', 'atera_meta', "
        "'analytics', 'analytics__build')",
    )
    assert schemas == []
