"""Change detection on its own: which children a sync fetches, from what the listings show.

A fake Atera (httpx.MockTransport) serves the change listing, the status-filtered
ticket listing, the account-wide work hours and the bulk billable durations; the
state is a plain dict standing in for dlt's source state.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any

import httpx
import pytest

from pipelines.atera.client import AteraClient
from pipelines.atera.fingerprints import BILLABLE, COMMENTS, WORK_HOURS
from pipelines.atera.plan import SyncPlan

SERVER_NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
ALL = {COMMENTS, WORK_HOURS, BILLABLE}


class FakeAtera:
    """Serves `tickets`; `changed` ids form the change listing."""

    def __init__(self, tickets: list[dict], *, honours_status: bool = True) -> None:
        self.tickets = {t["TicketID"]: t for t in tickets}
        self.changed: set[int] = set()
        self.work_hours: list[dict] = []
        self.billable: dict[int, float] = {}
        self.honours_status = honours_status
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        path = request.url.path.removeprefix("/api/v3")
        headers = {"Date": format_datetime(SERVER_NOW, usegmt=True)}
        if request.method == "POST":
            ids = json.loads(request.content)
            body: Any = [
                {"TotalDurationHours": self.billable.get(i, 0.0), "ticketId": i} for i in ids
            ]
            return httpx.Response(200, json=body, headers=headers)
        if path == "/workhours":
            items = self.work_hours
        elif path in ("/tickets/statusmodified", "/tickets/lastmodified"):
            items = [self.tickets[i] for i in sorted(self.changed)]
        else:
            status = request.url.params.get("ticketStatus")
            items = [
                t
                for t in self.tickets.values()
                if not (status and self.honours_status) or t["TicketStatus"] == status
            ]
        body = {"items": items, "page": 1, "totalPages": 1, "totalItems": len(items)}
        return httpx.Response(200, json=body, headers=headers)

    def paths(self) -> list[str]:
        return [r.url.path.removeprefix("/api/v3") for r in self.requests]


def ticket(ticket_id: int, status: str = "Open", activity: str = "2026-05-01T00:00:00Z") -> dict:
    return {"TicketID": ticket_id, "TicketStatus": status, "LastActivityDate": activity}


def published_ticket(ticket_id: int, user: str | None = None, tech: str | None = None) -> dict:
    return {
        "TicketID": ticket_id,
        "TicketStatus": "Open",
        "LastEndUserCommentTimestamp": user,
        "LastTechnicianCommentTimestamp": tech,
    }


LOADED: dict[int, list[int]] = {}


def run(fake: FakeAtera, state: dict[str, Any], shape: str, **options: Any) -> SyncPlan:
    """One load of the plan: listing, detection, then fetching and observing every child.

    A ticket's children are stood in for by its billable total, as the fake serves it.
    """
    client = AteraClient("https://atera.test", "k", transport=httpx.MockTransport(fake))
    plan = SyncPlan(client, lambda: state, api_shape=shape, **options)
    LOADED[id(plan)] = [t["TicketID"] for t in plan.list_tickets()]
    for kind in ALL:
        for ticket_id in plan.detection.wanted(kind, plan.child_targets()):
            hours = fake.billable.get(ticket_id, 0.0)
            record = {"TotalDurationHours": hours} if kind == BILLABLE else {"n": hours}
            plan.detection.observe(kind, ticket_id, [record])
    return plan


def wanted(plan: SyncPlan) -> dict[int, set[str]]:
    targets = plan.child_targets()
    return {t: {k for k in ALL if plan.detection.wanted(k, [t])} for t in targets}


def test_contract_children_follow_last_activity_date() -> None:
    fake = FakeAtera([ticket(1), ticket(2), ticket(3, "Pending"), ticket(4, "Closed")])
    state: dict[str, Any] = {}
    first = run(fake, state, "contract")
    assert first.report.mode == "full"
    assert wanted(first) == {1: ALL, 2: ALL, 3: ALL, 4: ALL}

    fake.requests.clear()
    nothing = run(fake, state, "contract")
    assert nothing.report.mode == "incremental"
    assert wanted(nothing) == {}
    assert nothing.report.child_fetches_skipped == 3 * 3  # three open tickets, three kinds
    statuses = [r.url.params.get("ticketStatus") for r in fake.requests[1:]]
    assert statuses == ["Open", "Pending", "Resolved"]

    fake.tickets[2] = ticket(2, activity="2026-06-01T11:00:00Z")  # a new comment, say
    fake.tickets[5] = ticket(5, activity="2026-06-01T12:00:00Z")  # the change listing missed it
    fake.changed = {2}
    moved = run(fake, state, "contract")
    assert wanted(moved) == {2: ALL, 5: ALL}
    assert moved.report.tickets_refreshed == 1  # ticket 5 is loaded although unlisted
    assert sorted(LOADED[id(moved)]) == [2, 5]

    # the overlap lists ticket 2 again: same LastActivityDate, nothing to fetch
    again = run(fake, state, "contract")
    assert wanted(again) == {}


def test_a_ticket_no_listing_shows_is_fetched_as_before() -> None:
    fake = FakeAtera([ticket(1), ticket(2)])
    state: dict[str, Any] = {}
    run(fake, state, "contract")
    del fake.tickets[2]  # closed without the change listing saying so, or deleted
    plan = run(fake, state, "contract")
    assert wanted(plan) == {2: ALL}


def test_a_server_that_ignores_the_status_filter_is_listed_once() -> None:
    fake = FakeAtera([ticket(1), ticket(2, "Closed")], honours_status=False)
    state: dict[str, Any] = {}
    run(fake, state, "contract")
    fake.requests.clear()
    plan = run(fake, state, "contract")
    assert fake.paths() == ["/tickets/statusmodified", "/tickets"]
    assert wanted(plan) == {}


def test_published_comments_work_hours_and_billable_have_their_own_signals() -> None:
    fake = FakeAtera([published_ticket(i) for i in (1, 2, 3, 4)])
    fake.tickets[1]["LastTechnicianCommentTimestamp"] = "2026-05-01T00:00:00"
    state: dict[str, Any] = {}
    run(fake, state, "published")

    fake.tickets[1]["LastTechnicianCommentTimestamp"] = "2026-06-01T10:00:00"  # a new reply
    fake.work_hours = [
        {"WorkHoursID": 7, "TicketID": 2, "StartWorkHour": "2026-05-30T09:00:00", "Billiable": True}
    ]
    fake.billable[3] = 1.5  # time logged long ago on ticket 3: only its total moved
    fake.changed = {3}
    plan = run(fake, state, "published")
    assert wanted(plan) == {
        1: {COMMENTS},
        2: {WORK_HOURS, BILLABLE},
        3: {COMMENTS, WORK_HOURS, BILLABLE},  # newly listed, and its total differs
    }
    assert fake.paths().count("/tickets/billableduration") == 1  # 50 ids a call

    # the next run sees the same: the overlap lists ticket 3 again, the window record 7
    plan = run(fake, state, "published")
    assert wanted(plan) == {}

    fake.work_hours = []  # record 7 was deleted
    plan = run(fake, state, "published")
    assert wanted(plan) == {2: {WORK_HOURS, BILLABLE}}


@pytest.mark.parametrize("shape", ["contract", "published"])
def test_the_safety_net_fetches_every_open_ticket_and_counts_what_was_missed(shape: str) -> None:
    make = ticket if shape == "contract" else published_ticket
    fake = FakeAtera([make(1), make(2), make(3)])
    state: dict[str, Any] = {}
    run(fake, state, shape)
    assert run(fake, state, shape).report.safety_net is False

    fake.billable[2] = 9.0  # a change no signal shows (observed as the fetched content)
    state["change_detection"]["safety_net_at"] = (SERVER_NOW - timedelta(days=8)).isoformat()
    plan = run(fake, state, shape)
    assert plan.report.safety_net
    assert set(wanted(plan)) == {1, 2, 3}
    assert plan.report.change_detection_missed == 3  # ticket 2, all three kinds
    assert plan.report.child_fetches_skipped == 0
    assert state["change_detection"]["safety_net_at"] == SERVER_NOW.isoformat()
    assert run(fake, state, shape, safety_net_every_days=0).report.safety_net is False


def test_a_ticket_closed_since_the_last_run_is_not_fetched_again_in_the_overlap() -> None:
    fake = FakeAtera([published_ticket(1), published_ticket(2)])
    state: dict[str, Any] = {}
    run(fake, state, "published")
    fake.tickets[1] = {**fake.tickets[1], "TicketStatus": "Closed"}
    fake.changed = {1}
    closing = run(fake, state, "published")
    assert wanted(closing) == {1: {COMMENTS, BILLABLE}}  # newly listed
    again = run(fake, state, "published")  # the overlap lists it once more
    assert wanted(again) == {}
    fake.changed = set()
    run(fake, state, "published")
    assert "1" not in state["change_detection"]["tickets"]  # Closed: nothing kept


def test_contract_a_ticket_quiet_since_the_last_run_needs_no_signal_of_its_own() -> None:
    fake = FakeAtera([ticket(1), ticket(2, "Closed")])
    state: dict[str, Any] = {}
    run(fake, state, "contract")
    # listed again (the overlap), Closed, nothing kept about it: it was last active before
    # the last run started, which fetched its children after that
    fake.changed = {2}
    assert wanted(run(fake, state, "contract")) == {}
    fake.tickets[2] = ticket(2, "Closed", activity="2026-06-01T12:00:00Z")
    assert wanted(run(fake, state, "contract")) == {2: ALL}
