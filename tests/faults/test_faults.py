"""Faults injected through the sandbox: the run either recovers, or fails clearly and
moves neither the published warehouse nor the watermark."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from datetime import datetime
from pathlib import Path

import duckdb
import pytest

from pipelines.sandbox import AteraSandbox
from pipelines.sync import SyncError, run_sync
from tests.conftest import config_for
from tests.test_sync_e2e import assert_warehouse_equals_sandbox, change_data_through_the_api
from tests.warehouse import state_of, table_fingerprint


def history(duckdb_path: Path) -> list[dict]:
    with duckdb.connect(str(duckdb_path), read_only=True) as con:
        cursor = con.execute("select * from atera_meta.sync_runs order by started_at")
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


@pytest.fixture
def synced(sandbox: AteraSandbox, tmp_path: Path):
    """A warehouse after one clean full sync, and data changed since."""
    duckdb_path = tmp_path / "atera.duckdb"
    run_sync(config_for(sandbox), duckdb_path)
    change_data_through_the_api(sandbox)
    sandbox.advance(3600)
    return duckdb_path


def assert_failed_run_changed_nothing(duckdb_path: Path, run, match: str) -> str:
    tables, state = table_fingerprint(duckdb_path), state_of(duckdb_path)
    with pytest.raises(SyncError, match=match) as failure:
        run()
    assert table_fingerprint(duckdb_path) == tables
    assert state_of(duckdb_path) == state
    last = history(duckdb_path)[-1]
    assert last["status"] == "failed"
    assert last["watermark_after"] is None
    assert str(failure.value) == last["error"]
    return str(failure.value)


def test_a_burst_of_429s_is_waited_out_and_reported(sandbox: AteraSandbox, synced: Path):
    sandbox.inject_fault(r"/comments", status=429, times=4, headers={"Retry-After": "0"})
    sandbox.inject_fault(r"/workhours", status=429, times=2)  # no Retry-After: backoff
    result = run_sync(config_for(sandbox, max_attempts=6), synced)
    assert result.retries == 6
    assert_warehouse_equals_sandbox(synced, sandbox)
    assert history(synced)[-1]["retries"] == 6


@pytest.mark.parametrize(
    ("fault", "match"),
    [
        ({"status": 503, "times": 2}, None),
        ({"status": 0, "times": 2}, None),  # connection reset
        ({"status": 200, "times": 1, "delay_s": 1.5}, None),  # read timeout, then fine
        ({"status": 200, "times": 1, "body": "<html>Maintenance</html>"}, None),
    ],
)
def test_transient_failures_are_retried(sandbox: AteraSandbox, synced: Path, fault, match):
    if fault["status"] == 200 and "body" not in fault:
        fault = {**fault, "body": "{}"}
    sandbox.inject_fault(r"/tickets/statusmodified", **fault)
    result = run_sync(config_for(sandbox, timeout_seconds=0.5), synced)
    assert result.retries >= 1
    assert_warehouse_equals_sandbox(synced, sandbox)


@pytest.mark.parametrize(
    ("fault", "match"),
    [
        ({"status": 500}, "HTTP 500 after 3 attempts"),
        ({"status": 0}, "failed on all 3 attempts"),
        ({"status": 200, "delay_s": 1.0, "body": "{}"}, "timed out"),
        ({"status": 403}, "rejected the API key with HTTP 403"),
    ],
)
def test_persistent_failures_fail_clearly_and_change_nothing(
    sandbox: AteraSandbox, synced: Path, fault, match
):
    sandbox.inject_fault(r"/billableduration", times=None, **fault)
    sandbox.reset_request_log()
    config = config_for(sandbox, timeout_seconds=0.3)
    assert_failed_run_changed_nothing(synced, lambda: run_sync(config, synced), match)
    if fault["status"] == 403:
        # no retries for a rejected key: each call went once, then the run stopped
        paths = [p for _, p, _, _ in sandbox.request_log if p.endswith("/billableduration")]
        assert len(paths) == len(set(paths))
        assert len(paths) <= config.concurrency * 4


@pytest.mark.parametrize(
    ("body", "content_type", "match"),
    [
        ("{not json", "application/json", "not JSON"),
        ("<html><body>Service Unavailable</body></html>", "text/html", "not JSON"),
        ('{"data": []}', "application/json", "'items'"),
    ],
)
def test_bad_payloads_fail_clearly_and_change_nothing(
    sandbox: AteraSandbox, synced: Path, body, content_type, match
):
    sandbox.inject_fault(
        r"/tickets/statusmodified", status=200, times=None, body=body, content_type=content_type
    )
    config = config_for(sandbox)
    message = assert_failed_run_changed_nothing(synced, lambda: run_sync(config, synced), match)
    assert "base_url" in message or "listing" in message


def test_a_ticket_deleted_between_listing_and_children_is_skipped_and_recorded(
    sandbox: AteraSandbox, synced: Path
):
    open_ticket = next(
        t for t in sandbox.snapshot()["tickets"] if t["TicketStatus"] in ("Open", "Pending")
    )
    ticket_id = open_ticket["TicketID"]
    sandbox.inject_fault(rf"/tickets/{ticket_id}/", status=404, times=None)
    result = run_sync(config_for(sandbox), synced)
    assert result.report.missing_ticket_ids == {ticket_id}
    assert json.loads(history(synced)[-1]["missing_ticket_ids"]) == [ticket_id]
    # the vanished ticket is not asked for again
    sandbox.reset_request_log()
    run_sync(config_for(sandbox), synced)
    assert sandbox.request_count(f"/tickets/{ticket_id}/") == 0


def test_odd_values_new_fields_and_changed_types_are_kept_and_recorded(
    sandbox: AteraSandbox, synced: Path
):
    tickets = sandbox.snapshot()["tickets"]
    odd = dict(tickets[0], TicketPriority="Urgent", TicketStatus="Waiting on vendor")
    extra = dict(tickets[1], SlaPolicyName="Gold", CustomerID="CUST-77")
    page = {"items": [odd, extra], "totalItems": 2, "page": 1, "itemsInPage": 50, "totalPages": 1}
    sandbox.inject_fault(r"/tickets/statusmodified", status=200, body=json.dumps(page))
    result = run_sync(config_for(sandbox), synced)
    assert any("Urgent" in p for p in result.report.problems)
    assert any("Waiting on vendor" in p for p in result.report.problems)
    assert "Urgent" in history(synced)[-1]["problems"]
    with duckdb.connect(str(synced), read_only=True) as con:
        row = con.execute(
            "select ticket_priority, ticket_status from atera_raw.tickets where ticket_id = ?",
            [odd["TicketID"]],
        ).fetchone()
        assert row == ("Urgent", "Waiting on vendor")
        columns = {
            r[0]
            for r in con.execute(
                "select column_name from information_schema.columns "
                "where table_schema = 'atera_raw' and table_name = 'tickets'"
            ).fetchall()
        }
        assert "sla_policy_name" in columns
        # a text value in a bigint column lands in a variant column, not as a crash
        assert any(c.startswith("customer_id__v_") for c in columns)
        assert con.execute(
            "select customer_id from atera_raw.tickets where ticket_id = ?", [extra["TicketID"]]
        ).fetchone() == (None,)


def test_tickets_created_while_a_full_sync_pages_are_caught_by_the_next_run(tmp_path: Path):
    from pipelines.atera.client import AteraClient
    from tests.conftest import TEST_API_KEY

    duckdb_path = tmp_path / "atera.duckdb"
    with AteraSandbox(api_key=TEST_API_KEY, tickets=160, seed=9, rate_limit=None) as sandbox:
        some_user = sandbox.snapshot()["tickets"][0]["EndUserID"]
        original = AteraClient.iter_pages
        created: list[int] = []

        def pages_with_new_tickets(self, *args, **kwargs):
            for page in original(self, *args, **kwargs):
                yield page
                if page.number == 1 and not created:  # new tickets arrive mid-listing
                    for title in ("Created while paging", "Also created while paging"):
                        ticket = sandbox.store.create_ticket(
                            {"TicketTitle": title, "EndUserID": some_user}
                        )
                        created.append(ticket["TicketID"])

        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(AteraClient, "iter_pages", pages_with_new_tickets)
            run_sync(config_for(sandbox), duckdb_path)
        assert len(created) == 2
        run_sync(config_for(sandbox), duckdb_path)
        assert_warehouse_equals_sandbox(duckdb_path, sandbox)
        with duckdb.connect(str(duckdb_path), read_only=True) as con:
            ids = {r[0] for r in con.execute("select ticket_id from atera_raw.tickets").fetchall()}
        assert set(created) <= ids


READER = textwrap.dedent(
    """
    import sys, duckdb
    con = duckdb.connect(sys.argv[1], read_only=True)
    print(con.execute("select count(*) from atera_raw.tickets").fetchone()[0], flush=True)
    sys.stdin.readline()
    print(con.execute("select count(*) from atera_raw.tickets").fetchone()[0], flush=True)
    """
)


def test_a_reader_holding_the_warehouse_open_neither_blocks_the_run_nor_sees_half_a_load(
    sandbox: AteraSandbox, synced: Path
):
    before = table_fingerprint(synced)["tickets"]
    reader = subprocess.Popen(
        [sys.executable, "-c", READER, str(synced)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert int(reader.stdout.readline()) == len(before)
        result = run_sync(config_for(sandbox), synced)  # the reader still has the file open
        assert result.report.tickets_listed > 0
        reader.stdin.write("\n")
        reader.stdin.flush()
        # the open connection keeps its consistent snapshot: the old, complete one
        assert int(reader.stdout.readline()) == len(before)
    finally:
        reader.kill()
        reader.wait()
    assert_warehouse_equals_sandbox(synced, sandbox)


def test_failing_models_still_publish_the_raw_data_and_fail_the_run(
    sandbox: AteraSandbox, synced: Path
):
    def failing_models(work: Path, data_as_of: datetime | None) -> None:
        raise RuntimeError("data test assert_something failed")

    with pytest.raises(SyncError, match="SQL models failed") as failure:
        run_sync(config_for(sandbox), synced, after_load=failing_models)
    assert "assert_something" in str(failure.value)
    # the raw data of the run is complete, so readers get it
    assert_warehouse_equals_sandbox(synced, sandbox)
    runs = history(synced)
    assert [r["status"] for r in runs] == ["success", "failed"]
    assert "assert_something" in runs[-1]["error"]
    assert runs[-1]["watermark_after"] > runs[0]["watermark_after"]  # the data did land

    run_sync(config_for(sandbox), synced)
    assert [r["status"] for r in history(synced)] == ["success", "failed", "success"]
