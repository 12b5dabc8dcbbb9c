"""``GET /tickets/statusmodified``: incremental reads by modification time."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import httpx
import pytest

from pipelines.sandbox import AteraSandbox
from tests.sandbox import client, make_sandbox, parse_z

PATH = "/tickets/statusmodified"


@pytest.fixture()
def sb() -> Iterator[AteraSandbox]:
    sandbox = make_sandbox(tickets=200)
    yield sandbox
    sandbox.stop()


@pytest.fixture()
def api(sb: AteraSandbox) -> Iterator[httpx.Client]:
    with client(sb) as c:
        yield c


def _modified_ids(api: httpx.Client, after: str) -> list[int]:
    ids: list[int] = []
    page = 1
    while True:
        body = api.get(PATH, params={"modifiedAfter": after, "page": page, "itemsInPage": 50})
        assert body.status_code == 200, body.text
        items = body.json()["items"]
        if not items:
            return ids
        ids.extend(t["TicketID"] for t in items)
        page += 1


def _iso(sb: AteraSandbox) -> str:
    return sb.now().isoformat()


def test_filters_strictly_after_last_activity(api: httpx.Client, sb: AteraSandbox) -> None:
    tickets = sb.snapshot()["tickets"]
    pivot = sorted(t["LastActivityDate"] for t in tickets)[len(tickets) // 2]
    expected = [t["TicketID"] for t in tickets if t["LastActivityDate"] > pivot]
    assert 0 < len(expected) < len(tickets)
    assert _modified_ids(api, pivot) == expected
    just_before = (parse_z(pivot) - timedelta(seconds=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    at_pivot = [t["TicketID"] for t in tickets if t["LastActivityDate"] == pivot]
    assert set(at_pivot) <= set(_modified_ids(api, just_before))
    assert not set(at_pivot) & set(_modified_ids(api, pivot))


def test_envelope_and_paging(api: httpx.Client) -> None:
    body = api.get(PATH, params={"modifiedAfter": "2000-01-01T00:00:00Z", "itemsInPage": 7})
    data = body.json()
    assert set(data) == {"items", "totalItems", "page", "itemsInPage", "totalPages"}
    assert data["totalItems"] == 200
    assert data["itemsInPage"] == 7
    assert data["totalPages"] == 29
    assert [t["TicketID"] for t in data["items"]] == list(range(10001, 10008))
    page_3 = api.get(
        PATH, params={"modifiedAfter": "2000-01-01T00:00:00Z", "page": 3, "itemsInPage": 7}
    )
    assert [t["TicketID"] for t in page_3.json()["items"]] == list(range(10015, 10022))


@pytest.mark.parametrize(
    "value",
    [
        "2025-01-10T12:00:00Z",
        "2025-01-10T12:00:00z",
        "2025-01-10T14:00:00+02:00",
        "2025-01-10T07:00:00-05:00",
        "2025-01-10T12:00:00",
        "2025-01-10T12:00:00.000Z",
        "2025-01-10T12:00:00.0000000+00:00",
        "2025-01-10 12:00:00Z",
    ],
)
def test_date_formats_are_equivalent(api: httpx.Client, sb: AteraSandbox, value: str) -> None:
    expected = [
        t["TicketID"]
        for t in sb.snapshot()["tickets"]
        if t["LastActivityDate"] > "2025-01-10T12:00:00Z"
    ]
    assert expected
    assert _modified_ids(api, value) == expected


def test_unescaped_plus_offset_is_understood(api: httpx.Client) -> None:
    escaped = api.get(PATH, params={"modifiedAfter": "2025-01-10T14:00:00+02:00"}).json()
    raw = api.get(f"{PATH}?modifiedAfter=2025-01-10T14:00:00+02:00").json()
    assert raw["totalItems"] == escaped["totalItems"] > 0


def test_fractional_seconds_are_honoured(api: httpx.Client, sb: AteraSandbox) -> None:
    ticket = sb.snapshot()["tickets"][-1]
    last = parse_z(ticket["LastActivityDate"])
    before = (last - timedelta(milliseconds=500)).isoformat(timespec="milliseconds")
    assert ticket["TicketID"] in _modified_ids(api, before)
    assert ticket["TicketID"] not in _modified_ids(api, last.isoformat())


@pytest.mark.parametrize("params", [{}, {"modifiedAfter": ""}, {"modifiedAfter": "yesterday"}])
def test_missing_or_bad_date_is_400_with_format(api: httpx.Client, params: dict[str, str]) -> None:
    response = api.get(PATH, params=params)
    assert response.status_code == 400
    message = response.json()["message"]
    assert "modifiedAfter" in message
    assert "ISO 8601" in message and "2024-02-01T00:00:00Z" in message


def test_nothing_modified_after_now(api: httpx.Client, sb: AteraSandbox) -> None:
    assert _modified_ids(api, _iso(sb)) == []


def test_update_makes_ticket_appear(api: httpx.Client, sb: AteraSandbox) -> None:
    ticket = next(t for t in sb.snapshot()["tickets"] if t["TicketStatus"] == "Closed")
    mark = _iso(sb)
    assert ticket["TicketID"] not in _modified_ids(api, mark)
    response = api.post(f"/tickets/{ticket['TicketID']}", json={"TicketPriority": "Critical"})
    assert response.status_code == 200, response.text
    assert _modified_ids(api, mark) == [ticket["TicketID"]]
    updated = response.json()
    assert updated["LastActivityDate"] >= mark[:19]
    assert updated["LastActivityDate"] > ticket["LastActivityDate"]


def test_comment_makes_ticket_appear(api: httpx.Client, sb: AteraSandbox) -> None:
    mark = _iso(sb)
    api.post("/tickets/10005/comments", json={"CommentText": "Following up"}).raise_for_status()
    assert _modified_ids(api, mark) == [10005]


def test_create_makes_ticket_appear(api: httpx.Client, sb: AteraSandbox) -> None:
    mark = _iso(sb)
    user = next(iter(sb.store.end_users))
    created = api.post("/tickets", json={"TicketTitle": "Printer jam", "EndUserID": user})
    created.raise_for_status()
    assert _modified_ids(api, mark) == [created.json()["TicketID"]]


def test_store_work_hours_make_ticket_appear(api: httpx.Client, sb: AteraSandbox) -> None:
    mark = _iso(sb)
    start = sb.now() - timedelta(hours=2)
    sb.store.add_work_hours(10003, 1001, start, start + timedelta(minutes=45), is_billable=True)
    assert _modified_ids(api, mark) == [10003]


def test_modification_follows_sandbox_clock(api: httpx.Client, sb: AteraSandbox) -> None:
    sb.advance(3 * 86400)
    mark = (sb.now() - timedelta(days=1)).isoformat()
    api.post("/tickets/10002", json={"TicketTitle": "Renamed"}).raise_for_status()
    assert _modified_ids(api, mark) == [10002]
    ticket = api.get("/tickets/10002").json()
    assert abs((parse_z(ticket["LastActivityDate"]) - sb.now()).total_seconds()) < 5
