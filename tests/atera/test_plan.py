"""The sync plan on its own: watermark, full-sync chunks, change detection, API shape.

A fake Atera (httpx.MockTransport) serves tickets with a fixed `Date` header;
the state is a plain dict standing in for dlt's source state.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any

import httpx
import pytest

from pipelines.atera.client import AteraClient
from pipelines.atera.plan import SyncPlan

SERVER_NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
OVERLAP = timedelta(seconds=600)


class FakeAtera:
    """Serves `tickets` 2 per page, in the contract's or the published envelope."""

    def __init__(
        self, tickets: list[dict], *, published: bool = False, date_header: bool = True
    ) -> None:
        self.tickets = tickets
        self.published = published
        self.date_header = date_header
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        number = int(request.url.params.get("page", 1))
        size = 2
        total_pages = max(1, -(-len(self.tickets) // size))
        items = self.tickets[(number - 1) * size : number * size]
        body: dict[str, Any] = {"items": items, "page": number, "totalPages": total_pages}
        if self.published:
            body["totalItemCount"] = len(self.tickets)
            body["nextLink"] = "next" if number < total_pages else ""
        else:
            body["totalItems"] = len(self.tickets)
        headers = {"Date": format_datetime(SERVER_NOW, usegmt=True)} if self.date_header else {}
        return httpx.Response(200, json=body, headers=headers)

    def paths(self) -> list[str]:
        return [r.url.path.removeprefix("/api/v3") for r in self.requests]


def ticket(ticket_id: int, status: str = "Open", **fields: Any) -> dict:
    return {"TicketID": ticket_id, "TicketStatus": status, "TicketPriority": "High", **fields}


def plan_for(
    fake: FakeAtera, state: dict[str, Any], **options: Any
) -> tuple[SyncPlan, AteraClient]:
    client = AteraClient("https://atera.test", "k", transport=httpx.MockTransport(fake))
    return SyncPlan(client, lambda: state, overlap_seconds=600, **options), client


def test_the_plan_calls_nothing_until_asked_to_list() -> None:
    fake = FakeAtera([ticket(1)])
    plan, _ = plan_for(fake, {})
    assert fake.requests == []
    with pytest.raises(RuntimeError, match="list_tickets"):
        plan.child_targets()
    plan.list_tickets()
    with pytest.raises(RuntimeError, match="once"):
        plan.list_tickets()


def test_first_sync_lists_everything_and_sets_the_watermark_from_the_server_clock() -> None:
    fake = FakeAtera([ticket(1), ticket(2, "Closed"), ticket(3, "Resolved")])
    state: dict[str, Any] = {}
    plan, _ = plan_for(fake, state)
    listed = plan.list_tickets()
    assert [t["TicketID"] for t in listed] == [1, 2, 3]
    assert fake.paths() == ["/tickets", "/tickets"]
    assert plan.report.mode == "full"
    assert plan.report.server_time == SERVER_NOW
    assert state["watermark"] == (SERVER_NOW - OVERLAP).isoformat()
    assert state["last_run_started_at"] == SERVER_NOW.isoformat()
    assert state["open_ticket_ids"] == [1, 3]  # Closed tickets are final
    assert state["api_shape"] == "contract"
    assert plan.child_targets() == [1, 2, 3]


def test_the_published_envelope_is_recognised_and_remembered() -> None:
    fake = FakeAtera([ticket(1)], published=True)
    state: dict[str, Any] = {}
    plan, _ = plan_for(fake, state)
    plan.list_tickets()
    assert plan.api_shape() == "published"
    assert state["api_shape"] == "published"


def test_an_incremental_sync_fetches_children_of_changed_open_and_pending_tickets() -> None:
    watermark = SERVER_NOW - timedelta(days=1)
    state: dict[str, Any] = {
        "watermark": watermark.isoformat(),
        "open_ticket_ids": [5, 6],
        "pending_children_ids": [9],
        "api_shape": "contract",
    }
    fake = FakeAtera([ticket(6, "Closed"), ticket(7)])
    plan, _ = plan_for(fake, state)
    plan.list_tickets()
    # the change listing, then the open tickets (this server ignores ticketStatus: one
    # listing of every ticket does); without signals from an earlier sync, every
    # changed, open and pending ticket's children are fetched
    assert fake.paths() == ["/tickets/statusmodified", "/tickets"]
    assert fake.requests[1].url.params["ticketStatus"] == "Open"
    assert fake.requests[0].url.params["modifiedAfter"] == "2026-05-31T12:00:00Z"
    assert plan.report.mode == "incremental"
    assert plan.child_targets() == [5, 6, 7, 9]
    assert state["open_ticket_ids"] == [5, 7]
    assert state["pending_children_ids"] == []
    assert state["watermark"] == (SERVER_NOW - OVERLAP).isoformat()


@pytest.mark.parametrize(
    ("remembered", "endpoint", "parameter"),
    [
        ({"api_shape": "published"}, "/tickets/lastmodified", "date"),
        ({"api_flavor": "v3"}, "/tickets/lastmodified", "date"),  # written by 0.1
        ({"api_flavor": "seed"}, "/tickets/statusmodified", "modifiedAfter"),
        ({}, "/tickets/statusmodified", "modifiedAfter"),
    ],
)
def test_the_remembered_shape_picks_the_incremental_endpoint(
    remembered: dict[str, str], endpoint: str, parameter: str
) -> None:
    state: dict[str, Any] = {"watermark": SERVER_NOW.isoformat(), **remembered}
    fake = FakeAtera([])
    plan, _ = plan_for(fake, state)
    plan.list_tickets()
    assert fake.paths()[0] == endpoint
    assert parameter in fake.requests[0].url.params
    assert "api_flavor" not in state  # rewritten under its current name
    assert state["api_shape"] in ("contract", "published")


def test_a_configured_endpoint_wins_over_the_shape() -> None:
    state: dict[str, Any] = {"watermark": SERVER_NOW.isoformat(), "api_shape": "contract"}
    fake = FakeAtera([])
    plan, _ = plan_for(fake, state, incremental_endpoint="lastmodified")
    plan.list_tickets()
    assert fake.paths()[0] == "/tickets/lastmodified"


def test_a_full_sync_lands_in_chunks_and_sets_the_watermark_from_its_first_chunk() -> None:
    tickets = [ticket(i) for i in range(1, 10)]  # 5 pages of 2
    state: dict[str, Any] = {}
    fake = FakeAtera(tickets)
    first, _ = plan_for(fake, state, full_sync_chunk_pages=2)
    assert [t["TicketID"] for t in first.list_tickets()] == [1, 2, 3, 4]
    assert state["full_sync"] == {"next_page": 3, "started_at": SERVER_NOW.isoformat()}
    assert "watermark" not in state  # not before the whole listing landed
    assert not first.report.full_sync_done

    second, _ = plan_for(fake, state, full_sync_chunk_pages=2)
    assert [t["TicketID"] for t in second.list_tickets()] == [5, 6, 7, 8]
    assert state["full_sync"]["next_page"] == 5
    assert second.child_targets() == [5, 6, 7, 8]  # a chunk fetches its own tickets' children

    third, _ = plan_for(fake, state, full_sync_chunk_pages=2)
    assert [t["TicketID"] for t in third.list_tickets()] == [9]
    assert third.report.full_sync_done
    assert "full_sync" not in state
    assert state["watermark"] == (SERVER_NOW - OVERLAP).isoformat()
    assert state["open_ticket_ids"] == list(range(1, 10))


def test_without_a_date_header_the_watermark_follows_the_data() -> None:
    fake = FakeAtera(
        [ticket(1, LastActivityDate="2026-05-30T08:00:00Z"), ticket(2, LastActivityDate=None)],
        date_header=False,
    )
    state: dict[str, Any] = {}
    plan, _ = plan_for(fake, state)
    plan.list_tickets()
    assert plan.report.server_time_source == "latest LastActivityDate"
    expected = datetime(2026, 5, 30, 8, 0, tzinfo=UTC) - OVERLAP
    assert state["watermark"] == expected.isoformat()


def test_a_vanished_ticket_is_no_longer_fetched() -> None:
    state: dict[str, Any] = {}
    plan, _ = plan_for(FakeAtera([ticket(1), ticket(2)]), state)
    plan.list_tickets()
    plan.forget_ticket(2)
    assert state["open_ticket_ids"] == [1]
    assert plan.report.missing_ticket_ids == {2}


def test_undocumented_values_are_reported_and_kept() -> None:
    fake = FakeAtera([ticket(1, "Waiting on vendor"), ticket(2)])
    plan, _ = plan_for(fake, {})
    listed = plan.list_tickets()
    assert listed[0]["TicketStatus"] == "Waiting on vendor"
    assert any("Waiting on vendor" in p for p in plan.report.problems)


def test_the_account_wide_work_hour_listing_runs_in_the_first_chunk_only() -> None:
    state: dict[str, Any] = {}
    fake = FakeAtera([ticket(i) for i in range(1, 6)], published=True)
    first, _ = plan_for(fake, state, full_sync_chunk_pages=1)
    first.list_tickets()
    assert first.account_work_hours_due()
    first.remember_account_work_hours(True)
    assert first.account_work_hours_listed()
    later, _ = plan_for(fake, state, full_sync_chunk_pages=1)
    later.list_tickets()
    assert not later.account_work_hours_due()
    assert later.account_work_hours_listed()
