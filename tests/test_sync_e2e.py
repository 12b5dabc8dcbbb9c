"""End to end: a real sandbox on loopback, a real DuckDB file, full then incremental syncs."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from pipelines.atera.records import comment_keys, parse_timestamp
from pipelines.sandbox import AteraSandbox
from pipelines.sync import run_sync
from tests.conftest import TEST_API_KEY, config_for
from tests.warehouse import Target, assert_table_matches, state_of

OPEN_STATUS_LISTINGS = 3  # GET /tickets?ticketStatus=Open, Pending, Resolved: a page each


def account_calls(sandbox: AteraSandbox) -> int:
    """Calls for the customer and contract listings of one run: one per 50 of each."""
    snapshot = sandbox.snapshot()
    return sum(max(1, -(-len(snapshot[table]) // 50)) for table in ("customers", "contracts"))


def expected_contracts(sandbox: AteraSandbox) -> list[dict]:
    """The API's contracts with `Default` under the name it lands as (`is_default`)."""
    return [
        {("IsDefault" if field == "Default" else field): value for field, value in c.items()}
        for c in sandbox.snapshot()["contracts"]
    ]


def expected_comments(sandbox: AteraSandbox) -> list[dict]:
    """The API's comments with the key the pipeline gives them (the published API has none)."""
    comments = sandbox.snapshot()["comments"]
    by_ticket: dict[int, list[dict]] = {}
    for comment in comments:
        by_ticket.setdefault(comment["TicketID"], []).append(comment)
    keyed = []
    for ticket_id, rows in by_ticket.items():
        api_rows = [{k: v for k, v in r.items() if k != "TicketID"} for r in rows]
        for row, key in zip(rows, comment_keys(ticket_id, api_rows), strict=True):
            keyed.append({**row, "CommentKey": key})
    return keyed


@pytest.fixture(params=["contract", "published"])
def sandbox(request: pytest.FixtureRequest) -> Iterator[AteraSandbox]:
    """The end-to-end suite runs against both API shapes: the contract and Atera's published one."""
    with AteraSandbox(
        api_key=TEST_API_KEY, tickets=120, seed=7, rate_limit=None, api_shape=request.param
    ) as server:
        yield server


def assert_warehouse_equals_sandbox(duckdb_path: Target, sandbox: AteraSandbox) -> None:
    snapshot = sandbox.snapshot()
    work_hour_key = "WorkHoursID" if sandbox.api_shape == "published" else "WorkHourID"
    assert_table_matches(duckdb_path, "tickets", snapshot["tickets"])
    assert_table_matches(duckdb_path, "comments", expected_comments(sandbox), "CommentKey")
    assert_table_matches(duckdb_path, "work_hours", snapshot["work_hours"], work_hour_key)
    assert_table_matches(
        duckdb_path,
        "billable_durations",
        snapshot["billable_durations"],
        "TicketID" if sandbox.api_shape != "published" else "ticketId",
    )
    assert_table_matches(duckdb_path, "customers", snapshot["customers"], "CustomerID")
    assert_table_matches(duckdb_path, "contracts", expected_contracts(sandbox), "ContractID")


def open_ticket_ids(sandbox: AteraSandbox) -> set[int]:
    return {t["TicketID"] for t in sandbox.snapshot()["tickets"] if t["TicketStatus"] != "Closed"}


def modified_after(sandbox: AteraSandbox, instant) -> set[int]:
    return {
        t["TicketID"]
        for t in sandbox.snapshot()["tickets"]
        if sandbox.store.modification_time(t["TicketID"]) > instant
    }


def created_id(response: httpx.Response) -> int:
    """The new ticket's id: `TicketID` (seed) or the string `ActionID` (published API)."""
    body = response.json()
    return int(body.get("TicketID") or body["ActionID"])


def api(sandbox: AteraSandbox) -> httpx.Client:
    return httpx.Client(base_url=sandbox.api_url, headers={"X-API-KEY": TEST_API_KEY})


def change_data_through_the_api(sandbox: AteraSandbox) -> set[int]:
    """Create tickets, move statuses, add comments and work hours; return touched ids."""
    snapshot = sandbox.snapshot()
    tickets = snapshot["tickets"]
    touched: set[int] = set()
    with api(sandbox) as http:
        some = tickets[0]
        for title in ("VPN down for the whole office", "New laptop for the accountant"):
            response = http.post(
                "/tickets",
                json={
                    "TicketTitle": title,
                    "EndUserID": some["EndUserID"],
                    "TicketPriority": "High",
                    "TicketType": "Incident",
                },
            )
            assert response.status_code in (200, 201), response.text
            touched.add(created_id(response))
        opened = [t for t in tickets if t["TicketStatus"] == "Open"][:2]
        for ticket in opened:
            response = http.post(
                f"/tickets/{ticket['TicketID']}", json={"TicketStatus": "Resolved"}
            )
            assert response.status_code == 200, response.text
            touched.add(ticket["TicketID"])
        resolved = [t for t in tickets if t["TicketStatus"] == "Resolved"][:1]
        for ticket in resolved:
            response = http.post(f"/tickets/{ticket['TicketID']}", json={"TicketStatus": "Closed"})
            assert response.status_code == 200, response.text
            touched.add(ticket["TicketID"])
        pending = [t for t in tickets if t["TicketStatus"] == "Pending"][:1]
        for ticket in pending + opened[:1]:
            response = http.post(
                f"/tickets/{ticket['TicketID']}/comments",
                json={"CommentText": "Checked the logs, rebooting the switch", "IsInternal": False},
            )
            assert response.status_code in (200, 201), response.text
            touched.add(ticket["TicketID"])
    target = pending[0] if pending else opened[0]
    now = sandbox.now()
    sandbox.store.add_work_hours(
        target["TicketID"],
        target["TechnicianContactID"],
        now - timedelta(hours=1),
        now,
        True,
        "Replaced the switch",
    )
    return touched


def test_full_then_incremental_syncs_mirror_the_sandbox(sandbox: AteraSandbox, tmp_path: Path):
    duckdb_path = tmp_path / "atera.duckdb"
    config = config_for(sandbox)

    first = run_sync(config, duckdb_path)
    assert first.report.mode == "full"
    assert first.rows["tickets"] == 120
    assert_warehouse_equals_sandbox(duckdb_path, sandbox)
    assert first.api_calls == sandbox.request_count()

    open_before = open_ticket_ids(sandbox)
    touched = change_data_through_the_api(sandbox)
    # let the changes fall out of the next run's overlap window, so that the third
    # run has nothing new to see
    sandbox.advance(3600)
    sandbox.reset_request_log()

    second = run_sync(config, duckdb_path)
    assert second.report.mode == "incremental"
    # the changes, plus whatever else was modified within the overlap window
    changed = modified_after(sandbox, second.report.modified_after)
    assert touched <= changed
    assert second.report.tickets_listed == len(changed)
    assert_warehouse_equals_sandbox(duckdb_path, sandbox)
    # change detection: the touched tickets' children, not every open ticket's
    assert len(touched) <= second.report.child_targets <= len(changed | open_before)
    assert second.report.child_fetches_skipped > 0
    assert sandbox.request_count("modified") == 1
    assert sandbox.request_count("ticketStatus=") == OPEN_STATUS_LISTINGS

    sandbox.reset_request_log()
    third = run_sync(config, duckdb_path)
    assert third.report.tickets_listed == 0
    assert_warehouse_equals_sandbox(duckdb_path, sandbox)
    # only the calls it must: one empty change listing, one page per open status (and the
    # published API's work-hour window), the customers and contracts; no ticket shows
    # activity, so no child is fetched
    window = 1 if sandbox.api_shape == "published" else 0
    assert sandbox.request_count() == 1 + OPEN_STATUS_LISTINGS + window + account_calls(sandbox)
    assert third.report.child_targets == 0
    assert third.report.child_fetches_skipped == 3 * len(open_ticket_ids(sandbox))
    assert third.rows.get("tickets", 0) == 0


def test_watermark_follows_the_server_clock_not_the_local_one(tmp_path: Path):
    duckdb_path = tmp_path / "atera.duckdb"
    skew = timedelta(days=-3)  # the server runs three days behind this machine
    server_now = datetime.now(UTC) + skew
    with AteraSandbox(
        api_key=TEST_API_KEY, tickets=30, seed=3, rate_limit=None, now=server_now
    ) as sandbox:
        sandbox.clock_offset = skew
        config = config_for(sandbox)
        first = run_sync(config, duckdb_path)
        server_start = first.report.server_time
        assert server_start is not None
        assert abs((server_start - sandbox.now()).total_seconds()) < 60
        watermark = parse_timestamp(state_of(duckdb_path)["watermark"])
        assert watermark == server_start - timedelta(seconds=config.overlap_seconds)

        sandbox.advance(3600)
        with api(sandbox) as http:
            created = created_id(
                http.post(
                    "/tickets",
                    json={
                        "TicketTitle": "Printer on fire",
                        "EndUserID": sandbox.snapshot()["tickets"][0]["EndUserID"],
                    },
                )
            )
        second = run_sync(config, duckdb_path)
        # a watermark from this machine's clock would sit three days in the server's
        # future and miss the new ticket
        assert second.report.modified_after < sandbox.now() - timedelta(minutes=30)
        assert created in modified_after(sandbox, second.report.modified_after)
        assert second.report.tickets_listed == len(
            modified_after(sandbox, second.report.modified_after)
        )
        assert_warehouse_equals_sandbox(duckdb_path, sandbox)


def test_lost_working_folder_restores_the_watermark_from_the_warehouse(
    sandbox: AteraSandbox, tmp_path: Path
):
    import shutil

    from pipelines.warehouse import Warehouse

    duckdb_path = tmp_path / "atera.duckdb"
    config = config_for(sandbox)
    run_sync(config, duckdb_path)
    # this machine loses everything but the published warehouse file
    warehouse = Warehouse.at(duckdb_path)
    shutil.rmtree(warehouse.pipelines_dir)
    warehouse.work.unlink()
    sandbox.advance(3600)
    sandbox.reset_request_log()
    again = run_sync(config, duckdb_path)
    assert again.report.mode == "incremental"
    assert sandbox.request_count("/tickets?page=") == 0  # no full listing
    assert_warehouse_equals_sandbox(duckdb_path, sandbox)


def test_child_endpoints_with_the_full_paging_envelope(tmp_path: Path):
    duckdb_path = tmp_path / "atera.duckdb"
    with AteraSandbox(
        api_key=TEST_API_KEY, tickets=40, seed=11, rate_limit=None, child_envelope="paged"
    ) as sandbox:
        run_sync(config_for(sandbox, page_size=2), duckdb_path)
        assert_warehouse_equals_sandbox(duckdb_path, sandbox)


def test_published_api_without_the_bulk_endpoints_falls_back_to_per_ticket_calls(
    tmp_path: Path,
):
    duckdb_path = tmp_path / "atera.duckdb"
    with AteraSandbox(
        api_key=TEST_API_KEY, tickets=60, seed=13, rate_limit=None, api_shape="published"
    ) as sandbox:
        # a server that implements workhoursrecords but not the account-wide or bulk calls
        sandbox.inject_fault(r"^/api/v3/workhours$", status=404, times=None)
        sandbox.inject_fault(
            r"^/api/v3/tickets/billableduration$", status=405, times=None, method="POST"
        )
        run_sync(config_for(sandbox, full_sync_chunk_pages=1), duckdb_path)
        assert_warehouse_equals_sandbox(duckdb_path, sandbox)
        assert sandbox.request_count("/workhoursrecords") == 60
        assert sandbox.request_count("/workhours") == 1 + 60  # one try, then per ticket
        assert state_of(duckdb_path)["account_work_hours"] is False


def _dates(duckdb_path: Path) -> dict[str, list[tuple]]:
    """Every timestamp column of the raw tables, row by row, and any text variant columns."""
    import duckdb

    with duckdb.connect(str(duckdb_path), read_only=True) as con:
        columns = con.execute(
            "select table_name, column_name, data_type from information_schema.columns "
            "where table_schema = 'atera_raw' and table_name not like '_dlt%' "
            "order by all"
        ).fetchall()
        variants = [f"{t}.{c}" for t, c, _ in columns if "__v_" in c]
        dates: dict[str, list[tuple]] = {"variant columns": [tuple(variants)]}
        for table in sorted({t for t, _, _ in columns} - {"ticket_status_snapshots"}):
            stamps = [
                c
                for t, c, kind in columns
                # observed_at is when a sync saw the data, not data the API sent
                if t == table and kind.startswith("TIMESTAMP") and c != "observed_at"
            ]
            if stamps:
                sql = f"select {', '.join(stamps)} from atera_raw.{table} order by all"
                dates[table] = con.execute(sql).fetchall()
    return dates


@pytest.mark.parametrize("timestamp_format", ["iso7", "dotnet", "dotnet-offset"])
def test_dates_in_every_format_atera_sends_land_as_the_same_instants(
    tmp_path: Path, timestamp_format: str
) -> None:
    now = datetime(2026, 5, 4, 12, 0, tzinfo=UTC)
    landed = {}
    for label, fmt in (("iso", "iso"), ("other", timestamp_format)):
        with AteraSandbox(
            api_key=TEST_API_KEY,
            tickets=40,
            seed=11,
            now=now,
            rate_limit=None,
            api_shape="published",
            timestamp_format=fmt,
        ) as sandbox:
            result = run_sync(config_for(sandbox), tmp_path / label / "atera.duckdb")
        assert result.report.problems == [], result.report.problems[:3]
        landed[label] = _dates(tmp_path / label / "atera.duckdb")
    assert landed["other"]["variant columns"] == [()]
    assert landed["other"]["tickets"] and landed["other"]["comments"]
    assert landed["other"] == landed["iso"]


def test_an_unreadable_date_is_kept_and_recorded_as_a_problem(tmp_path: Path) -> None:
    with AteraSandbox(api_key=TEST_API_KEY, tickets=10, seed=3, rate_limit=None) as sandbox:
        listing = sandbox.snapshot()["tickets"]
        page = {
            "items": [{**listing[0], "TicketCreatedDate": "soon"}, *listing[1:]],
            "totalItems": len(listing),
            "page": 1,
            "totalPages": 1,
        }
        sandbox.inject_fault(
            r"/api/v3/tickets$", status=200, body=json.dumps(page, default=str), method="GET"
        )
        result = run_sync(config_for(sandbox), tmp_path / "atera.duckdb")
    problem = next(p for p in result.report.problems if "TicketCreatedDate" in p)
    assert f"ticket {listing[0]['TicketID']}" in problem and "'soon'" in problem
    import duckdb

    with duckdb.connect(str(tmp_path / "atera.duckdb"), read_only=True) as con:
        kept = con.execute(
            "select ticket_created_date__v_text from atera_raw.tickets where ticket_id = ?",
            [listing[0]["TicketID"]],
        ).fetchone()
        recorded = con.execute("select problems from atera_meta.sync_runs").fetchone()
    assert kept == ("soon",)
    assert recorded is not None and "TicketCreatedDate" in recorded[0]
