"""Change detection end to end: nightly runs that fetch only what changed, never missing a change.

500 tickets on both API shapes. Between runs, 1 % of the tickets change over the
API (status, public and internal comments, work hours logged now and logged two
days late, a new ticket); after every run the warehouse must equal what the
sandbox serves, and the run must stay within the call budget:

* 1 % changed: at most 1.25 x (1 + ceil(tickets / 50) + 3 x changed tickets);
* nothing changed: at most 1 + ceil(tickets / 50) + 2.

A week later the safety net fetches every open ticket's children and finds
nothing that change detection missed.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import duckdb
import httpx
import pytest

from pipelines.sandbox import AteraSandbox
from pipelines.sync import run_sync
from tests.conftest import TEST_API_KEY, config_for
from tests.test_sync_e2e import assert_warehouse_equals_sandbox

TICKETS = 500
CHANGED = 5  # 1 %


def one_percent_target(changed: int) -> float:
    return 1.25 * (1 + math.ceil(TICKETS / 50) + 3 * changed)


NO_CHANGE_TARGET = 1 + math.ceil(TICKETS / 50) + 2


@pytest.fixture(params=["contract", "published"], scope="module")
def sandbox(request: pytest.FixtureRequest) -> Iterator[AteraSandbox]:
    with AteraSandbox(
        api_key=TEST_API_KEY, tickets=TICKETS, seed=21, rate_limit=None, api_shape=request.param
    ) as server:
        yield server


def change_one_percent(sandbox: AteraSandbox, round_number: int) -> set[int]:
    """Change five tickets (and create one): every kind of change the API allows."""
    open_tickets = [t for t in sandbox.snapshot()["tickets"] if t["TicketStatus"] != "Closed"]
    picked = open_tickets[round_number * CHANGED : (round_number + 1) * CHANGED]
    ids = [int(t["TicketID"]) for t in picked]
    headers = {"X-API-KEY": sandbox.api_key}
    with httpx.Client(base_url=sandbox.api_url, headers=headers) as api:
        status = "Resolved" if picked[0]["TicketStatus"] != "Resolved" else "Open"
        api.post(f"/tickets/{ids[0]}", json={"TicketStatus": status}).raise_for_status()
        for ticket_id, internal in ((ids[1], False), (ids[2], True)):
            comment = {"CommentText": f"round {round_number}", "IsInternal": internal}
            api.post(f"/tickets/{ticket_id}/comments", json=comment).raise_for_status()
        created = api.post(
            "/tickets",
            json={
                "TicketTitle": f"New in round {round_number}",
                "EndUserID": picked[0]["EndUserID"],
            },
        )
        created.raise_for_status()
    now = sandbox.now()
    technician = next(iter(sandbox.store.technicians))
    for ticket_id, start in ((ids[3], now - timedelta(hours=2)), (ids[4], now - timedelta(days=2))):
        # the second one is time logged two days late
        sandbox.store.add_work_hours(ticket_id, technician, start, start + timedelta(hours=1), True)
    return set(ids)


def history(duckdb_path: Path) -> list[tuple]:
    with duckdb.connect(str(duckdb_path), read_only=True) as con:
        return con.execute(
            "select mode, api_calls, child_fetches_skipped, safety_net, change_detection_missed "
            "from atera_meta.sync_runs order by started_at"
        ).fetchall()


def test_nightly_runs_fetch_what_changed_within_the_budget(
    sandbox: AteraSandbox, tmp_path: Path
) -> None:
    duckdb_path = tmp_path / "atera.duckdb"
    config = config_for(sandbox)
    full = run_sync(config, duckdb_path)
    assert full.report.mode == "full"
    assert_warehouse_equals_sandbox(duckdb_path, sandbox)

    calls: list[int] = []
    for round_number in range(2):
        sandbox.advance(3600)
        change_one_percent(sandbox, round_number)
        sandbox.reset_request_log()
        nightly = run_sync(config, duckdb_path)
        assert_warehouse_equals_sandbox(duckdb_path, sandbox)
        assert nightly.api_calls == sandbox.request_count()
        assert nightly.api_calls <= one_percent_target(CHANGED + 1), sandbox.request_log
        assert nightly.report.child_fetches_skipped > 0
        calls.append(nightly.api_calls)

        # right after: the overlap lists the same tickets again, and nothing is fetched
        sandbox.reset_request_log()
        again = run_sync(config, duckdb_path)
        assert_warehouse_equals_sandbox(duckdb_path, sandbox)
        assert again.api_calls <= NO_CHANGE_TARGET, sandbox.request_log
        assert again.report.child_targets == 0

    sandbox.advance(3600)
    sandbox.reset_request_log()
    quiet = run_sync(config, duckdb_path)
    assert quiet.api_calls <= NO_CHANGE_TARGET
    assert quiet.report.child_targets == 0

    # a week later the safety net fetches everything open, and change detection missed nothing
    sandbox.advance(8 * 86400)
    change_one_percent(sandbox, 2)
    week = run_sync(config, duckdb_path)
    assert week.report.safety_net
    assert week.report.change_detection_missed == 0
    assert_warehouse_equals_sandbox(duckdb_path, sandbox)

    runs = history(duckdb_path)
    assert [r[0] for r in runs] == ["full"] + ["incremental"] * 6
    assert runs[0][2:] == (0, False, None)
    assert all(r[2] > 0 for r in runs[1:6])  # skipped fetches recorded
    assert runs[-1][3:] == (True, 0)
    print(
        f"{sandbox.api_shape}: full {full.api_calls}, 1 % changed {calls}, none {quiet.api_calls}"
    )


@pytest.mark.parametrize("shape", ["contract", "published"])
def test_the_safety_net_counts_what_change_detection_cannot_see(shape: str, tmp_path: Path) -> None:
    duckdb_path = tmp_path / "atera.duckdb"
    with AteraSandbox(
        api_key=TEST_API_KEY, tickets=60, seed=8, rate_limit=None, api_shape=shape
    ) as sandbox:
        check_the_safety_net(sandbox, duckdb_path)


def check_the_safety_net(sandbox: AteraSandbox, duckdb_path: Path) -> None:
    config = config_for(sandbox)
    run_sync(config, duckdb_path)
    # the first nightly after a full sync also fetches the children of tickets modified in
    # the overlap before it (a full sync records no change listing), and whether the
    # sandbox has such tickets depends on the wall clock: start from a nightly run
    run_sync(config, duckdb_path)
    # a comment edited behind the API's back: no timestamp moves, no listing shows it
    ticket_id = next(
        int(t["TicketID"])
        for t in sandbox.snapshot()["tickets"]
        if t["TicketStatus"] != "Closed" and sandbox.store.comments(int(t["TicketID"]))
    )
    with sandbox.store.lock:
        sandbox.store._comments[ticket_id][0]["CommentText"] = "edited silently"
    sandbox.advance(3600)
    nightly = run_sync(config, duckdb_path)
    assert nightly.report.child_targets == 0  # nothing shows it

    sandbox.advance(8 * 86400)
    week = run_sync(config, duckdb_path)
    assert week.report.safety_net
    assert week.report.change_detection_missed == 1
    assert_warehouse_equals_sandbox(duckdb_path, sandbox)  # and the safety net repaired it
