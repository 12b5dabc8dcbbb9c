"""`atera_raw.customers` and `atera_raw.contracts`: listed whole once per run, replaced whole.

Against the real sandbox over HTTP and real DuckDB files: the tables equal what
the sandbox serves in both API shapes, the published tickets name their
contract, the listings cost one call per 50 records once per run (not per
chunk of a full sync), an account whose API refuses them (403/404) still syncs
and keeps the rows it had, and any other failure fails the run without moving
the watermark or losing tickets.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from pathlib import Path

import duckdb
import httpx
import pytest

from pipelines.sandbox import AteraSandbox
from pipelines.sync import SyncError, run_sync
from tests.conftest import TEST_API_KEY, config_for
from tests.test_sync_e2e import assert_warehouse_equals_sandbox, expected_contracts
from tests.warehouse import assert_table_matches, state_of, table_fingerprint


@pytest.fixture(params=["contract", "published"])
def sandbox(request: pytest.FixtureRequest) -> Iterator[AteraSandbox]:
    with AteraSandbox(
        api_key=TEST_API_KEY, tickets=60, seed=23, rate_limit=None, api_shape=request.param
    ) as server:
        yield server


def rows(duckdb_path: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(duckdb_path), read_only=True) as con:
        return con.execute(sql).fetchall()


def last_run(duckdb_path: Path) -> tuple[str, list[str]]:
    status, problems = rows(
        duckdb_path, "select status, problems from atera_meta.sync_runs order by started_at desc"
    )[0]
    return status, json.loads(problems)


def move_a_ticket_over_the_api(sandbox: AteraSandbox) -> tuple[int, str]:
    """Move a ticket that is not Closed on (to Resolved, or Resolved to Closed): (id, status)."""
    ticket = next(t for t in sandbox.snapshot()["tickets"] if t["TicketStatus"] != "Closed")
    status = "Closed" if ticket["TicketStatus"] == "Resolved" else "Resolved"
    with httpx.Client(base_url=sandbox.api_url, headers={"X-API-KEY": TEST_API_KEY}) as api:
        api.post(f"/tickets/{ticket['TicketID']}", json={"TicketStatus": status}).raise_for_status()
    return int(ticket["TicketID"]), status


def test_customers_and_contracts_equal_the_sandbox_once_per_run(
    sandbox: AteraSandbox, tmp_path: Path
) -> None:
    duckdb_path = tmp_path / "atera.duckdb"
    served = sandbox.snapshot()
    assert len(served["customers"]) == 40 and 50 < len(served["contracts"]) <= 100

    # a full sync in three chunks of one page of 25: the listings still run once, a call
    # per 25 records
    pages = {table: math.ceil(len(served[table]) / 25) for table in ("customers", "contracts")}
    assert pages == {"customers": 2, "contracts": 3}
    config = config_for(sandbox, full_sync_chunk_pages=1, page_size=25)
    first = run_sync(config, duckdb_path)
    assert first.chunks == 3
    assert_table_matches(duckdb_path, "customers", served["customers"], "CustomerID")
    assert_table_matches(duckdb_path, "contracts", expected_contracts(sandbox), "ContractID")
    assert sandbox.request_count("/api/v3/customers?") == pages["customers"]
    assert sandbox.request_count("/api/v3/contracts?") == pages["contracts"]
    assert rows(duckdb_path, "select count(*) from atera_raw.contracts where is_default") == [(40,)]
    assert rows(duckdb_path, "select count(*) from atera_raw.customers") == [(40,)]

    # the published tickets name their contract; the ticket contract has no such field
    contract_ids = rows(duckdb_path, "select contract_id from atera_raw.tickets")
    if sandbox.api_shape == "published":
        assert {c for (c,) in contract_ids} == {t["ContractID"] for t in served["tickets"]}
        orphans = rows(
            duckdb_path,
            "select count(*) from atera_raw.tickets t left join atera_raw.contracts c "
            "using (contract_id) where c.contract_id is null or c.customer_id <> t.customer_id",
        )
        assert orphans == [(0,)]
    else:
        assert {c for (c,) in contract_ids} == {None}

    # an incremental run lists them again, whole
    sandbox.advance(3600)
    sandbox.reset_request_log()
    run_sync(config, duckdb_path)
    assert sandbox.request_count("/api/v3/customers?") == pages["customers"]
    assert sandbox.request_count("/api/v3/contracts?") == pages["contracts"]
    assert rows(duckdb_path, "select count(*) from atera_raw.contracts") == [
        (len(served["contracts"]),)
    ]


@pytest.mark.parametrize(("api_shape", "status"), [("contract", 403), ("published", 404)])
def test_refused_listings_keep_the_previous_rows_and_the_sync_goes_on(
    tmp_path: Path, api_shape: str, status: int
) -> None:
    with AteraSandbox(
        api_key=TEST_API_KEY, tickets=30, seed=29, rate_limit=None, api_shape=api_shape
    ) as sandbox:
        refused_listing_keeps_its_rows(sandbox, tmp_path / "atera.duckdb", status)


def refused_listing_keeps_its_rows(sandbox: AteraSandbox, duckdb_path: Path, status: int) -> None:
    config = config_for(sandbox)
    run_sync(config, duckdb_path)
    contracts_before = rows(duckdb_path, "select *  from atera_raw.contracts order by all")
    watermark_before = state_of(duckdb_path)["watermark"]

    sandbox.advance(3600)
    moved, moved_to = move_a_ticket_over_the_api(sandbox)
    sandbox.inject_fault(r"^/api/v3/contracts", status=status, times=None)
    result = run_sync(config, duckdb_path)

    # the tickets synced and the watermark moved as usual
    assert result.report.mode == "incremental"
    assert rows(
        duckdb_path, f"select ticket_status from atera_raw.tickets where ticket_id = {moved}"
    ) == [(moved_to,)]
    assert state_of(duckdb_path)["watermark"] > watermark_before
    # the contracts were not replaced (same rows, same load), the customers were
    assert rows(duckdb_path, "select * from atera_raw.contracts order by all") == contracts_before
    assert_table_matches(duckdb_path, "customers", sandbox.snapshot()["customers"], "CustomerID")
    problem = next(p for p in result.report.problems if "contracts" in p)
    assert f"HTTP {status}" in problem and "keeps the rows" in problem
    assert last_run(duckdb_path) == ("success", result.report.problems)


def test_a_first_sync_without_access_to_them_has_empty_tables(tmp_path: Path) -> None:
    duckdb_path = tmp_path / "atera.duckdb"
    with AteraSandbox(api_key=TEST_API_KEY, tickets=20, seed=5, rate_limit=None) as sandbox:
        sandbox.inject_fault(r"^/api/v3/(customers|contracts)", status=404, times=None)
        result = run_sync(config_for(sandbox), duckdb_path)
    assert result.rows["tickets"] == 20
    assert len([p for p in result.report.problems if "HTTP 404" in p]) == 2
    assert rows(duckdb_path, "select count(*) from atera_raw.customers") == [(0,)]
    assert rows(duckdb_path, "select count(*) from atera_raw.contracts") == [(0,)]


def test_a_failing_listing_fails_the_run_and_loses_nothing(
    sandbox: AteraSandbox, tmp_path: Path
) -> None:
    duckdb_path = tmp_path / "atera.duckdb"
    config = config_for(sandbox)
    run_sync(config, duckdb_path)
    before_tables = table_fingerprint(duckdb_path)
    before_state = state_of(duckdb_path)

    sandbox.advance(3600)
    moved, moved_to = move_a_ticket_over_the_api(sandbox)
    sandbox.inject_fault(r"^/api/v3/customers", status=500, times=None)
    with pytest.raises(SyncError) as failure:
        run_sync(config, duckdb_path)
    assert "/customers" in str(failure.value) and "HTTP 500" in str(failure.value)
    assert "watermark did not move" in str(failure.value)
    assert table_fingerprint(duckdb_path) == before_tables
    assert state_of(duckdb_path) == before_state
    assert last_run(duckdb_path)[0] == "failed"

    # the next run loads what the failed one did not, the moved ticket included
    sandbox.clear_faults()
    run_sync(config, duckdb_path)
    assert_warehouse_equals_sandbox(duckdb_path, sandbox)
    assert rows(
        duckdb_path, f"select ticket_status from atera_raw.tickets where ticket_id = {moved}"
    ) == [(moved_to,)]
