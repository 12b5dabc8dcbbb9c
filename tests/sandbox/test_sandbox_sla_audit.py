"""The SLA-audit tickets: three fixed tickets that exercise the SLA rules, in both API shapes."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from pipelines.sandbox import AteraSandbox
from pipelines.sandbox.data import parse_iso
from tests.sandbox import FIXED_NOW, client, make_sandbox

TICKETS = 20
#: FIXED_NOW is Friday 2025-03-14 12:00 UTC: T0 is the Tuesday 09:00 at least a week before.
T0 = datetime(2025, 3, 4, 9, 0, tzinfo=UTC)
assert FIXED_NOW.weekday() == 4 and T0.weekday() == 1


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


@pytest.fixture(scope="module", params=["contract", "published"])
def sb(request: pytest.FixtureRequest) -> Iterator[AteraSandbox]:
    sandbox = make_sandbox(tickets=TICKETS, api_shape=request.param, sla_audit_tickets=True)
    yield sandbox
    sandbox.stop()


@pytest.fixture(scope="module")
def api(sb: AteraSandbox) -> Iterator[httpx.Client]:
    with client(sb) as c:
        yield c


def first_response_field(ticket: dict) -> datetime:
    """FirstResponseDate (contract) or TechnicianFirstCommentDate (published)."""
    value = ticket.get("FirstResponseDate") or ticket.get("TechnicianFirstCommentDate")
    return parse_iso(value)


def public_technician_comments(api: httpx.Client, ticket_id: int) -> list[datetime]:
    comments = api.get(f"/tickets/{ticket_id}/comments").json()["items"]
    dates = []
    for comment in comments:
        if comment["IsInternal"]:
            continue
        by_technician = comment.get("TechnicianContactID") or (
            comment.get("CreatorContactID", 0) < 20001  # technicians' ids are below contacts'
        )
        if by_technician:
            dates.append(parse_iso(comment.get("CommentDate") or comment["Date"]))
    return sorted(dates)


def test_they_follow_the_seeded_tickets(sb: AteraSandbox, api: httpx.Client) -> None:
    first_extra = 10001 + TICKETS
    assert sb.sla_audit_ids == {
        "resolved_in_time": first_extra,
        "late_first_response_field": first_extra + 1,
        "first_response_before_creation": first_extra + 2,
    }
    body = api.get("/tickets", params={"itemsInPage": 50}).json()
    assert [t["TicketID"] for t in body["items"]][-3:] == list(sb.sla_audit_ids.values())
    with make_sandbox(tickets=TICKETS, api_shape=sb.api_shape) as plain:
        assert plain.sla_audit_ids == {} and len(plain.store) == TICKETS


def test_resolved_within_target_then_answered_later(sb: AteraSandbox, api: httpx.Client) -> None:
    ticket = api.get(f"/tickets/{sb.sla_audit_ids['resolved_in_time']}").json()
    assert (ticket["TicketPriority"], ticket["TicketStatus"]) == ("Critical", "Closed")
    assert parse_iso(ticket["TicketCreatedDate"]) == T0
    assert parse_iso(ticket["TicketResolvedDate"]) == at(10)
    assert first_response_field(ticket) == at(90)
    assert public_technician_comments(api, ticket["TicketID"]) == [at(90)]


def test_a_first_response_field_later_than_an_earlier_answer(
    sb: AteraSandbox, api: httpx.Client
) -> None:
    ticket = api.get(f"/tickets/{sb.sla_audit_ids['late_first_response_field']}").json()
    assert (ticket["TicketPriority"], ticket["TicketStatus"]) == ("High", "Closed")
    assert parse_iso(ticket["TicketCreatedDate"]) == T0
    assert first_response_field(ticket) == at(300)
    assert public_technician_comments(api, ticket["TicketID"]) == [at(30)]
    assert parse_iso(ticket["TicketResolvedDate"]) == at(360)


def test_a_first_response_field_before_creation(sb: AteraSandbox, api: httpx.Client) -> None:
    ticket = api.get(f"/tickets/{sb.sla_audit_ids['first_response_before_creation']}").json()
    assert (ticket["TicketPriority"], ticket["TicketStatus"]) == ("Medium", "Closed")
    created = parse_iso(ticket["TicketCreatedDate"])
    assert created == T0
    assert first_response_field(ticket) == at(-15) < created
    assert public_technician_comments(api, ticket["TicketID"]) == [at(45)]
    assert parse_iso(ticket["TicketResolvedDate"]) == at(180)


def test_writes_after_building_them_use_the_sandbox_clock_again(sb: AteraSandbox) -> None:
    assert abs((sb.store.clock() - sb.now()).total_seconds()) < 5
