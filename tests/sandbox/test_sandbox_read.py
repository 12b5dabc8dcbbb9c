"""Reading endpoints of the sandbox: auth, paging, tickets, comments, work hours."""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from pipelines.sandbox import AteraSandbox
from tests.sandbox import (
    COMMENT_FIELDS,
    ENVELOPE_FIELDS,
    TICKET_FIELDS,
    WORK_HOUR_FIELDS,
    client,
    make_sandbox,
)

TS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
TICKETS = 150
Snapshot = dict[str, list[dict[str, Any]]]


@pytest.fixture(scope="module")
def sb() -> Iterator[AteraSandbox]:
    sandbox = make_sandbox(tickets=TICKETS)
    yield sandbox
    sandbox.stop()


@pytest.fixture(scope="module")
def api(sb: AteraSandbox) -> Iterator[httpx.Client]:
    with client(sb) as c:
        yield c


def _ticket_with(sb: AteraSandbox, predicate: Callable[[int, Snapshot], bool]) -> int:
    """The first seeded ticket id for which ``predicate(ticket_id, snapshot)`` holds."""
    snap = sb.snapshot()
    for ticket in snap["tickets"]:
        if predicate(ticket["TicketID"], snap):
            return ticket["TicketID"]
    raise AssertionError("no seeded ticket matches")


# --------------------------------------------------------------------------- auth


@pytest.mark.parametrize("path", ["/tickets", "/tickets/10001", "/no/such/route"])
def test_missing_api_key_is_401_before_routing(sb: AteraSandbox, path: str) -> None:
    with client(sb, api_key=None) as anon:
        response = anon.get(path)
    assert response.status_code == 401
    assert response.json() == {"message": "Unauthorized"}


def test_wrong_api_key_is_401(sb: AteraSandbox) -> None:
    with client(sb, api_key="not-the-key") as wrong:
        response = wrong.post("/tickets", json={"TicketTitle": "x"})
    assert response.status_code == 401
    assert response.json() == {"message": "Unauthorized"}


def test_base_and_api_urls(sb: AteraSandbox) -> None:
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+", sb.base_url)
    assert sb.api_url == sb.base_url + "/api/v3"
    assert sb.port > 0


# --------------------------------------------------------------------------- paging


def test_default_page_envelope(api: httpx.Client) -> None:
    body = api.get("/tickets").json()
    assert set(body) == ENVELOPE_FIELDS
    assert body["page"] == 1
    assert body["itemsInPage"] == 20
    assert body["totalItems"] == TICKETS
    assert body["totalPages"] == math.ceil(TICKETS / 20)
    assert len(body["items"]) == 20
    assert [t["TicketID"] for t in body["items"]] == list(range(10001, 10021))


def test_page_size_is_capped_at_50_and_at_least_1(api: httpx.Client) -> None:
    big = api.get("/tickets", params={"itemsInPage": 500}).json()
    assert big["itemsInPage"] == 50
    assert len(big["items"]) == 50
    assert big["totalPages"] == math.ceil(TICKETS / 50)
    tiny = api.get("/tickets", params={"itemsInPage": 0}).json()
    assert tiny["itemsInPage"] == 1
    assert len(tiny["items"]) == 1
    assert tiny["totalPages"] == TICKETS


def test_pages_cover_all_tickets_in_ascending_order(api: httpx.Client) -> None:
    ids: list[int] = []
    page = 1
    while True:
        body = api.get("/tickets", params={"page": page, "itemsInPage": 50}).json()
        if not body["items"]:
            break
        ids.extend(t["TicketID"] for t in body["items"])
        page += 1
    assert page - 1 == math.ceil(TICKETS / 50)
    assert ids == sorted(ids)
    assert len(ids) == len(set(ids)) == TICKETS


def test_page_beyond_end_is_empty_with_same_totals(api: httpx.Client) -> None:
    body = api.get("/tickets", params={"page": 99, "itemsInPage": 50}).json()
    assert body["items"] == []
    assert body["page"] == 99
    assert body["totalItems"] == TICKETS
    assert body["totalPages"] == math.ceil(TICKETS / 50)


@pytest.mark.parametrize("params", [{"page": "two"}, {"itemsInPage": "1.5"}])
def test_non_integer_paging_is_400(api: httpx.Client, params: dict[str, str]) -> None:
    response = api.get("/tickets", params=params)
    assert response.status_code == 400
    assert "integer" in response.json()["message"]


# --------------------------------------------------------------------------- tickets


def test_ticket_shape(api: httpx.Client, sb: AteraSandbox) -> None:
    ticket = api.get("/tickets/10001").json()
    assert list(ticket) == TICKET_FIELDS
    assert ticket == sb.snapshot()["tickets"][0]
    assert ticket["TicketPriority"] in {"Low", "Medium", "High", "Critical"}
    assert ticket["TicketStatus"] in {"Open", "Pending", "Resolved", "Closed"}
    assert ticket["TicketType"] in {"Problem", "Request", "Incident", "Change"}
    assert ticket["TicketSource"] in {"Portal", "Email", "Agent", "API"}
    for name in ("TicketCreatedDate", "LastActivityDate", "DueDate"):
        assert TS.match(ticket[name]), name


def test_list_items_equal_detail(api: httpx.Client) -> None:
    listed = api.get("/tickets", params={"page": 2, "itemsInPage": 5}).json()["items"]
    for ticket in listed:
        assert api.get(f"/tickets/{ticket['TicketID']}").json() == ticket


def test_unknown_ticket_is_404(api: httpx.Client) -> None:
    for path in ("/tickets/99999", "/tickets/99999/comments", "/tickets/99999/workhours"):
        response = api.get(path)
        assert response.status_code == 404, path
        assert response.json() == {"message": "Ticket not found"}
    assert api.post("/tickets/99999", json={"TicketPriority": "Low"}).status_code == 404


def test_non_integer_ticket_id_is_400(api: httpx.Client) -> None:
    for path in ("/tickets/abc", "/tickets/abc/comments", "/tickets/1x/billableduration"):
        response = api.get(path)
        assert response.status_code == 400, path
        assert response.json() == {"message": "Invalid ticket ID"}


def test_unknown_route_is_404_and_wrong_method_405(api: httpx.Client) -> None:
    response = api.get("/devices")
    assert response.status_code == 404
    assert response.json() == {"message": "Not found"}
    assert api.get("/tickets/10001/attachments").status_code == 404
    assert api.delete("/tickets/10001").status_code == 405
    assert api.post("/tickets/10001/workhours", json={}).status_code == 405
    assert api.put("/tickets", json={}).status_code == 405


def test_keep_alive_reuses_one_connection(sb: AteraSandbox) -> None:
    with client(sb) as c:
        first = c.get("/tickets/10001")
        second = c.get("/tickets/10002")
    assert first.headers.get("connection", "").lower() != "close"
    assert first.status_code == second.status_code == 200
    assert int(first.headers["content-length"]) == len(first.content)


# --------------------------------------------------------------------------- children


def test_comments_shape_and_order(api: httpx.Client, sb: AteraSandbox) -> None:
    tid = _ticket_with(sb, lambda t, s: sum(c["TicketID"] == t for c in s["comments"]) >= 3)
    body = api.get(f"/tickets/{tid}/comments").json()
    assert list(body) == ["items"]
    comments = body["items"]
    assert all(list(c) == COMMENT_FIELDS for c in comments)
    assert all(c["TicketID"] == tid and TS.match(c["CommentDate"]) for c in comments)
    keys = [(c["CommentDate"], c["CommentID"]) for c in comments]
    assert keys == sorted(keys)
    assert all(isinstance(c["IsInternal"], bool) for c in comments)


def test_work_hours_and_billable_duration(api: httpx.Client, sb: AteraSandbox) -> None:
    def mixed(tid: int, snap: Snapshot) -> bool:
        flags = {w["IsBillable"] for w in snap["work_hours"] if w["TicketID"] == tid}
        return flags == {True, False}

    tid = _ticket_with(sb, mixed)
    body = api.get(f"/tickets/{tid}/workhours").json()
    assert list(body) == ["items"]
    records = body["items"]
    for record in records:
        assert list(record) == WORK_HOUR_FIELDS
        assert TS.match(record["StartDate"]) and TS.match(record["EndDate"])
        assert record["Duration"] > 0
    billable = sum(r["Duration"] for r in records if r["IsBillable"])
    total = sum(r["Duration"] for r in records)
    assert 0 < billable < total
    duration = api.get(f"/tickets/{tid}/billableduration").json()
    assert duration == {
        "TotalBillableDuration": billable,
        "TotalBillableHours": round(billable / 3600, 2),
    }


def test_billable_duration_zero_without_work(api: httpx.Client, sb: AteraSandbox) -> None:
    tid = _ticket_with(sb, lambda t, s: not any(w["TicketID"] == t for w in s["work_hours"]))
    assert api.get(f"/tickets/{tid}/workhours").json() == {"items": []}
    assert api.get(f"/tickets/{tid}/billableduration").json() == {
        "TotalBillableDuration": 0,
        "TotalBillableHours": 0.0,
    }


def test_snapshot_matches_http(api: httpx.Client, sb: AteraSandbox) -> None:
    snap = sb.snapshot()
    assert set(snap) == {
        "tickets",
        "comments",
        "work_hours",
        "billable_durations",
        "customers",
        "contracts",
    }
    for table in ("customers", "contracts"):  # 40 customers, 1-2 contracts each
        served = [
            item
            for page in (1, 2)
            for item in api.get(f"/{table}", params={"page": page, "itemsInPage": 50}).json()[
                "items"
            ]
        ]
        assert served == snap[table]
    tid = snap["tickets"][7]["TicketID"]
    assert api.get(f"/tickets/{tid}/comments").json()["items"] == sorted(
        (c for c in snap["comments"] if c["TicketID"] == tid),
        key=lambda c: (c["CommentDate"], c["CommentID"]),
    )
    assert [w for w in snap["work_hours"] if w["TicketID"] == tid] == api.get(
        f"/tickets/{tid}/workhours"
    ).json()["items"]
    duration = next(d for d in snap["billable_durations"] if d["TicketID"] == tid)
    assert duration == {"TicketID": tid, **api.get(f"/tickets/{tid}/billableduration").json()}
    assert [c["CommentID"] for c in snap["comments"]] == sorted(
        c["CommentID"] for c in snap["comments"]
    )
