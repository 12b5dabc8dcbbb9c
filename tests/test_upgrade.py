"""A warehouse written by atera-sync 0.1 is upgraded in place by a current sync.

The fixtures are two whole warehouses that the release v0.1.0 built, one per
API shape (see tests/fixtures/README.md), with the relations of its own model
engine, which the dbt project replaces: their state
names the API shape with 0.1's `api_flavor = "seed"` or `"v3"`, and the
contract-shaped one lacks the columns that the raw schema now declares.
Status snapshots are history that Atera cannot give again, so the upgrade
must keep every one of them.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import duckdb
import httpx
import pytest

from pipelines.models import run_models
from pipelines.sandbox import AteraSandbox
from pipelines.sync import run_sync
from pipelines.warehouse import Warehouse
from tests.conftest import config_for
from tests.warehouse import state_of

FIXTURES = Path(__file__).parent / "fixtures"
OLD_NAMES = {"contract": "seed", "published": "v3"}
INCREMENTAL_ENDPOINTS = {"contract": "statusmodified", "published": "lastmodified"}
NEW_COLUMNS = {
    "tickets": {"technician_first_comment_date", "ticket_number", "first_response_due_date"},
    "comments": {"date", "technician_contact_id", "end_user_id"},
    "work_hours": {"work_hours_id", "start_work_hour", "billiable"},
}
"""Columns of the published API that 0.1 never created for a contract-shaped account."""
FIXTURE_NOW = datetime(2026, 11, 2, 12, 0, tzinfo=UTC)
FIXTURE_KEY = "k"


def restore_fixture(fixture: Path, duckdb_path: Path) -> None:
    """Build a 0.1 warehouse file from its export."""
    duckdb_path.parent.mkdir(parents=True, exist_ok=True)
    with duckdb.connect(str(duckdb_path)) as con:
        con.execute((fixture / "schema.sql").read_text())
        load = (fixture / "load.sql").read_text().replace("{fixture}", fixture.as_posix())
        con.execute(load)


def columns(con: duckdb.DuckDBPyConnection, table: str) -> set[str]:
    rows = con.execute(
        "select column_name from information_schema.columns "
        "where table_schema = 'atera_raw' and table_name = ?",
        [table],
    ).fetchall()
    return {name for (name,) in rows}


def schemas(con: duckdb.DuckDBPyConnection) -> set[str]:
    rows = con.execute("select schema_name from duckdb_schemas()").fetchall()
    return {name for (name,) in rows}


def change_an_open_ticket(sandbox: AteraSandbox) -> int:
    """Raise the priority of an open ticket over the API; return its id."""
    with httpx.Client(base_url=sandbox.api_url, headers={"X-API-KEY": sandbox.api_key}) as api:
        listing = api.get("/tickets", params={"page": 1, "itemsInPage": 50}).json()["items"]
        ticket = next(t for t in listing if t["TicketStatus"] != "Closed")
        new_priority = "Low" if ticket["TicketPriority"] == "Critical" else "Critical"
        api.post(
            f"/tickets/{ticket['TicketID']}", json={"TicketPriority": new_priority}
        ).raise_for_status()
    return int(ticket["TicketID"])


def column_type(con: duckdb.DuckDBPyConnection, table: str, column: str) -> str:
    row = con.execute(
        "select data_type from information_schema.columns "
        "where table_schema = 'atera_raw' and table_name = ? and column_name = ?",
        [table, column],
    ).fetchone()
    assert row is not None, f"atera_raw.{table}.{column} is missing"
    return str(row[0])


@pytest.fixture(params=["contract", "published"])
def shape(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture()
def old_warehouse(tmp_path: Path, shape: str) -> Path:
    duckdb_path = tmp_path / "data" / "atera.duckdb"
    restore_fixture(FIXTURES / f"warehouse_0_1_{shape}", duckdb_path)
    Warehouse.at(duckdb_path).prepare()  # 0.1 kept the same working copy beside it
    return duckdb_path


def test_fixture_is_a_0_1_warehouse(old_warehouse: Path, shape: str) -> None:
    state = state_of(old_warehouse)
    assert state["api_flavor"] == OLD_NAMES[shape]
    assert "api_shape" not in state
    if shape == "contract":
        with duckdb.connect(str(old_warehouse), read_only=True) as con:
            for table, new in NEW_COLUMNS.items():
                assert not new & columns(con, table), table


def test_a_current_sync_upgrades_a_0_1_warehouse_in_place(old_warehouse: Path, shape: str) -> None:
    with duckdb.connect(str(old_warehouse), read_only=True) as con:
        old_snapshots = con.execute(
            "select ticket_id, observed_at, ticket_status from atera_raw.ticket_status_snapshots"
        ).fetchall()
        old_runs = con.execute("select run_id from atera_meta.sync_runs").fetchall()
        old_tickets = con.execute("select count(*) from atera_raw.tickets").fetchone()
    assert old_snapshots and old_runs

    with AteraSandbox(
        api_key=FIXTURE_KEY,
        tickets=30,
        seed=5,
        now=FIXTURE_NOW,
        rate_limit=None,
        api_shape=shape,
    ) as sandbox:
        sandbox.advance(3 * 3600)
        changed = change_an_open_ticket(sandbox)
        result = run_sync(config_for(sandbox), old_warehouse)
        open_ids = {
            t["TicketID"] for t in sandbox.snapshot()["tickets"] if t["TicketStatus"] != "Closed"
        }

    # the remembered shape is read under its old name: still incremental, still lastmodified
    assert result.report.mode == "incremental"
    assert result.report.api_shape == shape
    assert result.report.incremental_endpoint == INCREMENTAL_ENDPOINTS[shape]
    state = state_of(old_warehouse)
    assert state["api_shape"] == shape
    assert "api_flavor" not in state

    with duckdb.connect(str(old_warehouse)) as con:
        # declared columns are added, typed, even where this account's API never fills them
        for table, new in NEW_COLUMNS.items():
            assert new <= columns(con, table), table
        assert column_type(con, "tickets", "technician_first_comment_date") == (
            "TIMESTAMP WITH TIME ZONE"
        )
        assert column_type(con, "work_hours", "billiable") == "BOOLEAN"
        # history is kept: every old snapshot and run, plus this run's
        snapshots = set(
            con.execute(
                "select ticket_id, observed_at, ticket_status "
                "from atera_raw.ticket_status_snapshots"
            ).fetchall()
        )
        assert set(old_snapshots) <= snapshots
        # the changed ticket, and the open tickets this first run loads once more because no
        # earlier run kept their signals (change detection has nothing to compare with yet)
        seen = {t for t, _, _ in snapshots - set(old_snapshots)}
        assert changed in seen
        assert seen <= {changed} | open_ids
        runs = {r for (r,) in con.execute("select run_id from atera_meta.sync_runs").fetchall()}
        assert {r for (r,) in old_runs} < runs
        # the run history gains change detection's columns in place; old rows keep NULLs
        detection = con.execute(
            "select run_id, child_fetches_skipped, safety_net, change_detection_missed "
            "from atera_meta.sync_runs"
        ).fetchall()
        for run_id, skipped, safety_net, missed in detection:
            if (run_id,) in old_runs:
                assert (skipped, safety_net, missed) == (None, None, None)
            else:  # no signals kept yet: every open ticket's children, and the safety net
                assert (skipped, safety_net, missed) == (0, True, 0)
        assert con.execute("select count(*) from atera_raw.tickets").fetchone() == old_tickets
        # 0.1's engine's own schema is not published, and the marts build on the file
        assert "raw_contract" not in schemas(con)
        models = run_models(con, as_of=FIXTURE_NOW)
        assert models.tests_passed > 0
        assert "analytics.fct_ticket_first_response_sla" in models.models
        tickets = con.execute(
            "select count(*) from analytics.fct_ticket_first_response_sla"
        ).fetchone()
        assert tickets == old_tickets


def test_a_0_1_warehouse_gets_ticket_versions_customers_contracts_and_contract_id(
    old_warehouse: Path, shape: str
) -> None:
    with duckdb.connect(str(old_warehouse), read_only=True) as con:
        assert {"ticket_versions", "customers", "contracts"}.isdisjoint(
            {
                t
                for (t,) in con.execute(
                    "select table_name from information_schema.tables "
                    "where table_schema = 'atera_raw'"
                ).fetchall()
            }
        )
        assert "contract_id" not in columns(con, "tickets")
        old_tickets = con.execute(
            "select ticket_id, ticket_priority, last_activity_date from atera_raw.tickets"
        ).fetchall()
        old_snapshots = con.execute("select * from atera_raw.ticket_status_snapshots").fetchall()

    with AteraSandbox(
        api_key=FIXTURE_KEY, tickets=30, seed=5, now=FIXTURE_NOW, rate_limit=None, api_shape=shape
    ) as sandbox:
        sandbox.advance(3 * 3600)
        changed = change_an_open_ticket(sandbox)
        result = run_sync(config_for(sandbox), old_warehouse)
        served = sandbox.snapshot()
        changed_contract = next(
            t.get("ContractID") for t in served["tickets"] if t["TicketID"] == changed
        )

    with duckdb.connect(str(old_warehouse), read_only=True) as con:
        assert column_type(con, "tickets", "contract_id") == "BIGINT"
        assert column_type(con, "contracts", "is_default") == "BOOLEAN"
        # the history begins with this sync: the tickets it listed (the changed one, and
        # any open ticket whose row differs from the stored one), at its server time
        versions = con.execute(
            "select ticket_id, observed_at, ticket_priority from atera_raw.ticket_versions"
        ).fetchall()
        listed = {
            ticket_id
            for (ticket_id,) in con.execute(
                "select ticket_id from atera_raw.tickets where _dlt_load_id = "
                "(select max(load_id) from atera_raw._dlt_loads)"
            ).fetchall()
        }
        priority = next(t["TicketPriority"] for t in served["tickets"] if t["TicketID"] == changed)
        assert (changed, result.report.server_time, priority) in versions
        assert {row[0] for row in versions} == listed
        assert {row[1] for row in versions} == {result.report.server_time}
        assert con.execute("select count(*) from atera_raw.customers").fetchone() == (
            len(served["customers"]),
        )
        assert con.execute("select count(*) from atera_raw.contracts").fetchone() == (
            len(served["contracts"]),
        )
        # the tickets the sync did not list are kept as they were, without a contract
        kept = [
            row
            for row in con.execute(
                "select ticket_id, ticket_priority, last_activity_date, contract_id "
                "from atera_raw.tickets"
            ).fetchall()
            if row[0] not in listed
        ]
        assert {row[:3] for row in kept} == {row for row in old_tickets if row[0] not in listed}
        assert {row[3] for row in kept} == {None}
        contract_id = con.execute(
            "select contract_id from atera_raw.tickets where ticket_id = ?", [changed]
        ).fetchone()
        assert contract_id == (changed_contract,)  # None on the contract shape
        assert set(old_snapshots) <= set(
            con.execute("select * from atera_raw.ticket_status_snapshots").fetchall()
        )
