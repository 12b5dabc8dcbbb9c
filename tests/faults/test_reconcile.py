"""Tickets deleted in Atera are found by a reconciliation and left out of the marts."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import duckdb

from pipelines.models import run_models
from pipelines.sandbox import AteraSandbox
from pipelines.sync import run_sync
from pipelines.warehouse import Warehouse
from tests.conftest import config_for


def query(duckdb_path: Path, sql: str, params: list | None = None) -> list[tuple]:
    with duckdb.connect(str(duckdb_path), read_only=True) as con:
        return con.execute(sql, params or []).fetchall()


def test_reconcile_marks_deleted_tickets_and_the_marts_leave_them_out(
    sandbox: AteraSandbox, tmp_path: Path
):
    duckdb_path = tmp_path / "atera.duckdb"
    config = config_for(sandbox)
    first = run_sync(config, duckdb_path)
    assert first.reconcile is None  # a full listing needs no reconciliation

    tickets = sandbox.snapshot()["tickets"]
    gone = [tickets[3]["TicketID"], tickets[40]["TicketID"]]
    commented = {c["TicketID"] for c in sandbox.snapshot()["comments"]}
    for ticket_id in gone:
        sandbox.store.delete_ticket(ticket_id)
    sandbox.advance(3600)

    def with_models(work: Path, data_as_of: datetime | None) -> None:
        with duckdb.connect(str(work)) as con:
            run_models(con, data_as_of=data_as_of)

    result = run_sync(config, duckdb_path, reconcile=True, after_load=with_models)
    assert result.reconcile is not None
    assert result.reconcile.deleted == set(gone)
    assert result.reconcile.missed == set()

    marked = query(duckdb_path, "select ticket_id, deleted_at from atera_raw.deleted_tickets")
    assert {row[0] for row in marked} == set(gone)
    noticed = marked[0][1]
    assert abs((noticed - sandbox.now()).total_seconds()) < 120  # the server's clock
    # the raw rows stay (history), the marts leave the ticket and its children out
    assert len(query(duckdb_path, "select * from atera_raw.tickets")) == 120
    in_marts = {
        r[0]
        for r in query(duckdb_path, "select ticket_id from analytics.fct_ticket_first_response_sla")
    }
    assert in_marts.isdisjoint(gone)
    assert len(in_marts) == 118
    # dbt's staging models stay in the working copy (the published file shows the marts)
    work = Warehouse.at(duckdb_path).work
    staged = {r[0] for r in query(work, "select distinct ticket_id from staging.stg_comments")}
    assert staged.isdisjoint(gone)
    assert (commented - set(gone)) <= staged

    # deleted tickets are no longer fetched every night
    sandbox.reset_request_log()
    run_sync(config, duckdb_path)
    for ticket_id in gone:
        assert sandbox.request_count(f"/tickets/{ticket_id}") == 0


def test_reconcile_loads_tickets_a_sync_missed_and_their_children_next(
    sandbox: AteraSandbox, tmp_path: Path
):
    duckdb_path = tmp_path / "atera.duckdb"
    config = config_for(sandbox)
    run_sync(config, duckdb_path)
    missed = sandbox.snapshot()["tickets"][7]["TicketID"]
    # as if the ticket had never been seen: remove it from the working copy
    with duckdb.connect(str(Warehouse.at(duckdb_path).work)) as con:
        for table in ("tickets", "comments", "work_hours", "billable_durations"):
            con.execute(f"delete from atera_raw.{table} where ticket_id = ?", [missed])

    result = run_sync(config, duckdb_path, reconcile=True)
    assert result.reconcile.missed == {missed}
    assert query(
        duckdb_path, "select count(*) from atera_raw.tickets where ticket_id = ?", [missed]
    ) == [(1,)]

    sandbox.reset_request_log()
    run_sync(config, duckdb_path)
    assert sandbox.request_count(f"/tickets/{missed}/comments") == 1
    from tests.test_sync_e2e import assert_warehouse_equals_sandbox

    assert_warehouse_equals_sandbox(duckdb_path, sandbox)


def test_a_run_reconciles_by_itself_when_the_last_listing_is_old(
    sandbox: AteraSandbox, tmp_path: Path
):
    duckdb_path = tmp_path / "atera.duckdb"
    config = config_for(sandbox, reconcile_every_days=2)
    run_sync(config, duckdb_path)
    sandbox.advance(86400)
    assert run_sync(config, duckdb_path).reconcile is None
    sandbox.advance(86400 + 60)
    sandbox.reset_request_log()
    due = run_sync(config, duckdb_path)
    assert due.reconcile is not None
    assert sandbox.request_count("/api/v3/tickets?page=") == 3  # 120 tickets, 50 per page
    assert run_sync(config, duckdb_path).reconcile is None
