"""Faults on a real PostgreSQL server: a run killed mid-load, a concurrent run; and the
reconciliation that finds tickets deleted in Atera.

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
    path = tmp_path / "atera.duckdb"
    config = config_for(sandbox)
    run_sync(config, path, destination="postgres")
    landed = server_state(tmp_path / "before")["watermark"]
    change_data_through_the_api(sandbox)
    sandbox.advance(3600)
    before = raw_fingerprint(postgres_dsn)

    # killed once the load has prepared its tables, before any job ran: readers see no
    # change (no table replaced whole was emptied ahead of its new rows)
    killed = sync_in_child(sandbox, path, "jobs:1", destination="postgres")
    assert killed.returncode == -signal.SIGKILL, killed.stderr[-2000:]
    assert raw_fingerprint(postgres_dsn) == before
    assert server_state(tmp_path / "after-first-kill")["watermark"] == landed

    # killed again once six table jobs landed: dlt committed those tables, readers see them
    killed = sync_in_child(sandbox, path, "load:6", destination="postgres")
    assert killed.returncode == -signal.SIGKILL, killed.stderr[-2000:]
    after = raw_fingerprint(postgres_dsn)
    assert [table for table in after if after[table] != before.get(table)]
    # whatever tables landed, the watermark is the last complete load's
    assert server_state(tmp_path / "after-second-kill")["watermark"] == landed
    assert [r["status"] for r in runs(postgres_dsn)] == ["success"]

    # the next run (the lock went with the killed one's connection) cannot load the same
    # package again over the tables it committed (unique _dlt_id): it discards it and loads
    # again from the watermark that landed
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


def test_reconcile_marks_deleted_tickets_on_the_server(
    sandbox: AteraSandbox, postgres_dsn: str, tmp_path: Path
) -> None:
    path = tmp_path / "atera.duckdb"
    config = config_for(sandbox)
    run_sync(config, path, destination="postgres")
    tickets = sandbox.snapshot()["tickets"]
    gone = {tickets[3]["TicketID"], tickets[40]["TicketID"]}
    for ticket_id in gone:
        sandbox.store.delete_ticket(ticket_id)
    sandbox.advance(3600)

    result = run_sync(config, path, destination="postgres", reconcile=True)
    assert result.reconcile is not None
    assert result.reconcile.deleted == gone
    marked = rows(postgres_dsn, "select ticket_id, deleted_at from atera_raw.deleted_tickets")
    assert {ticket_id for ticket_id, _ in marked} == gone
    assert all(abs((at - sandbox.now()).total_seconds()) < 120 for _, at in marked)
    # the raw rows stay (history); the deleted tickets are not fetched again
    assert rows(postgres_dsn, "select count(*) from atera_raw.tickets") == [(len(tickets),)]
    sandbox.reset_request_log()
    run_sync(config, path, destination="postgres")
    for ticket_id in gone:
        assert sandbox.request_count(f"/tickets/{ticket_id}") == 0
