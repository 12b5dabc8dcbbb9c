"""The ``published`` API shape: the sandbox's data in the shapes of Atera's published OpenAPI v3."""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import httpx
import pytest

from pipelines.sandbox import AteraSandbox
from tests.sandbox import API_KEY, FIXED_NOW, make_sandbox

TICKETS = 150
ENVELOPE = ["items", "page", "itemsInPage", "totalItemCount", "totalPages", "prevLink", "nextLink"]
TICKET_DTO = [
    "TicketID", "TicketTitle", "TicketNumber", "TicketPriority", "TicketImpact", "TicketStatus",
    "TicketSource", "TicketType", "EndUserID", "EndUserEmail", "EndUserFirstName",
    "EndUserLastName", "EndUserPhone", "TicketResolvedDate", "TicketCreatedDate",
    "TechnicianFirstCommentDate", "FirstResponseDueDate", "ClosedTicketDueDate", "FirstComment",
    "LastEndUserComment", "LastEndUserCommentTimestamp", "LastTechnicianComment",
    "LastTechnicianCommentTimestamp", "OnSiteDurationSeconds", "OnSiteDurationMinutes",
    "OffSiteDurationSeconds", "OffSiteDurationMinutes", "OnSLADurationSeconds",
    "OnSLADurationMinutes", "OffSLADurationSeconds", "OffSLADurationMinutes",
    "TotalDurationSeconds", "TotalDurationMinutes", "CustomerID", "CustomerName",
    "CustomerBusinessNumber", "TechnicianContactID", "TechnicianFullName", "TechnicianEmail",
    "ContractID", "RelationType", "RelatedTicketId",
]  # fmt: skip
COMMENT_DTO = [
    "Date", "Comment", "CommentHtml", "EndUserID", "TechnicianContactID", "Email", "FirstName",
    "LastName", "IsInternal",
]  # fmt: skip
WORK_HOURS_DTO = [
    "TicketID", "WorkHoursID", "StartWorkHour", "EndWorkHour", "TechnicianContactID", "Billiable",
    "OnCustomerSite", "Description", "TechnicianFullName", "TechnicianEmail", "RateID",
    "RateAmount",
]  # fmt: skip
WORKHOUR_RECORD_DTO = [
    "WorkHoursID", "TicketID", "CustomerID", "EndUserID", "StartWorkHour", "EndWorkHour",
    "TechnicianContactID", "Billiable", "OnCustomerSite", "Description", "TechnicianFullName",
    "TechnicianEmail", "RateID", "RateAmount",
]  # fmt: skip
DURATIONS_DTO = [
    "OnSiteDurationHours", "OffSiteDurationHours", "OnSLADurationHours", "OffSLADurationHours",
    "TotalDurationHours", "ticketId",
]  # fmt: skip
NOT_FOUND_TYPE = "https://tools.ietf.org/html/rfc7231#section-6.5.4"
BAD_REQUEST_TYPE = "https://tools.ietf.org/html/rfc7231#section-6.5.1"
NET_TS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{7}$")
Snapshot = dict[str, list[dict[str, Any]]]


def published_client(sb: AteraSandbox, bearer: bool = True) -> httpx.Client:
    headers = {"Authorization": f"Bearer {API_KEY}"} if bearer else {"X-API-KEY": API_KEY}
    return httpx.Client(base_url=sb.api_url, headers=headers, timeout=5.0)


def walk(api: httpx.Client, path: str, **params: Any) -> tuple[list[dict[str, Any]], int]:
    """Follow nextLink from the first page; return all items and the number of pages."""
    response = api.get(path, params=params)
    items: list[dict[str, Any]] = []
    pages = 0
    while True:
        assert response.status_code == 200, response.text
        body = response.json()
        assert list(body) == ENVELOPE
        items.extend(body["items"])
        pages += 1
        if body["nextLink"] is None:
            return items, pages
        response = api.get(body["nextLink"])


def naive(instant: datetime) -> str:
    return instant.astimezone(UTC).replace(tzinfo=None).isoformat()


def zulu(instant: datetime) -> str:
    return instant.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def offset(instant: datetime) -> str:
    return instant.astimezone(timezone(timedelta(hours=2))).isoformat()


def parse_net(value: str) -> datetime:
    """Parse a published timestamp (no offset = UTC, seven fractional digits)."""
    assert NET_TS.match(value), value
    return datetime.fromisoformat(value[:26]).replace(tzinfo=UTC)


@pytest.fixture(scope="module")
def sb() -> Iterator[AteraSandbox]:
    sandbox = make_sandbox(tickets=TICKETS, api_shape="published")
    yield sandbox
    sandbox.stop()


@pytest.fixture(scope="module")
def api(sb: AteraSandbox) -> Iterator[httpx.Client]:
    with published_client(sb) as c:
        yield c


@pytest.fixture(scope="module")
def snap(sb: AteraSandbox) -> Snapshot:
    return sb.snapshot()


@pytest.fixture()
def fresh() -> Iterator[AteraSandbox]:
    """A small published sandbox for tests that write."""
    sandbox = make_sandbox(tickets=40, api_shape="published")
    yield sandbox
    sandbox.stop()


def _busy_ticket(snap: Snapshot, comments: int = 3, work: int = 3) -> int:
    for ticket in snap["tickets"]:
        tid = ticket["TicketID"]
        n_comments = sum(c["TicketID"] == tid for c in snap["comments"])
        n_work = sum(w["TicketID"] == tid for w in snap["work_hours"])
        if n_comments >= comments and n_work >= work:
            return tid
    raise AssertionError("no seeded ticket is busy enough")


# --------------------------------------------------------------------------- construction


def test_api_shape_attribute_and_validation() -> None:
    assert AteraSandbox(tickets=1).api_shape == "contract"
    assert AteraSandbox(tickets=1, api_shape="published").api_shape == "published"
    with pytest.raises(ValueError, match="api_shape must be one of contract, published"):
        AteraSandbox(tickets=1, api_shape="v2")


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        ({"dialect": "v3"}, "published"),
        ({"dialect": "seed"}, "contract"),
        ({"api_shape": "v3"}, "published"),
        ({"api_shape": "seed"}, "contract"),
        ({"dialect": "published"}, "published"),
    ],
)
def test_deprecated_dialect_names_still_work(kwargs: dict[str, str], expected: str) -> None:
    with pytest.warns(DeprecationWarning) as caught:
        sandbox = AteraSandbox(tickets=1, **kwargs)
    assert sandbox.api_shape == expected
    assert sandbox.dialect == expected  # the read-only alias gives the new name
    assert all(w.filename == __file__ for w in caught)  # blamed on the caller
    with pytest.raises(AttributeError):
        sandbox.dialect = "contract"  # type: ignore[misc]


def test_deprecated_dialect_keyword_serves_the_published_shape() -> None:
    with pytest.warns(DeprecationWarning, match="api_shape"):
        sandbox = make_sandbox(tickets=3, dialect="v3")
    with sandbox, published_client(sandbox) as api:
        assert api.get("/tickets").json()["totalItemCount"] == 3


def test_dialect_and_api_shape_must_agree() -> None:
    with pytest.raises(ValueError, match="disagree"), pytest.warns(DeprecationWarning):
        AteraSandbox(tickets=1, api_shape="published", dialect="seed")


# --------------------------------------------------------------------------- auth and errors


@pytest.mark.parametrize("bearer", [True, False], ids=["bearer", "x-api-key"])
def test_both_auth_headers_are_accepted(sb: AteraSandbox, bearer: bool) -> None:
    with published_client(sb, bearer=bearer) as api:
        assert api.get("/tickets/10001").json()["TicketID"] == 10001


@pytest.mark.parametrize(
    "headers",
    [{}, {"X-API-KEY": "wrong"}, {"Authorization": "Bearer wrong"}, {"Authorization": API_KEY}],
    ids=["none", "wrong-key", "wrong-bearer", "no-scheme"],
)
@pytest.mark.parametrize("path", ["/tickets", "/tickets/10001", "/no/such/route"])
def test_401_has_an_empty_body(sb: AteraSandbox, headers: dict[str, str], path: str) -> None:
    response = httpx.get(sb.api_url + path, headers=headers)
    assert response.status_code == 401
    assert response.content == b""
    assert response.headers["Content-Length"] == "0"


def test_404_is_problem_details(api: httpx.Client) -> None:
    response = api.get("/tickets/123")
    assert response.status_code == 404
    assert response.headers["Content-Type"] == "application/problem+json"
    assert response.json() == {
        "type": NOT_FOUND_TYPE,
        "title": "Not Found",
        "status": 404,
        "detail": "Ticket 123 not found",
        "instance": "/api/v3/tickets/123",
    }
    nested = api.get("/tickets/123/workhoursrecords")
    assert nested.status_code == 404
    assert nested.json()["instance"] == "/api/v3/tickets/123/workhoursrecords"
    assert api.get("/no/such/route").json()["status"] == 404


def test_400_is_problem_details(api: httpx.Client) -> None:
    response = api.get("/tickets", params={"page": "x"})
    assert response.status_code == 400
    assert response.headers["Content-Type"] == "application/problem+json"
    body = response.json()
    assert body["type"] == BAD_REQUEST_TYPE and body["status"] == 400
    assert body["title"] == "Bad Request" and "page" in body["detail"]


def test_injected_fault_defaults_to_problem_details(fresh: AteraSandbox) -> None:
    fresh.inject_fault(r"/tickets$", status=503)
    fresh.inject_fault(r"/tickets/10001$", status=500, body="oops", content_type="text/plain")
    with published_client(fresh) as api:
        unavailable = api.get("/tickets")
        assert unavailable.status_code == 503
        assert unavailable.headers["Content-Type"] == "application/problem+json"
        assert unavailable.json()["status"] == 503
        assert unavailable.json()["title"] == "Service Unavailable"
        custom = api.get("/tickets/10001")
        assert (custom.status_code, custom.text) == (500, "oops")
        assert api.get("/tickets").status_code == 200


@pytest.mark.parametrize("retry_after_header", [True, False])
def test_429_with_and_without_retry_after(retry_after_header: bool) -> None:
    with (
        make_sandbox(
            tickets=5, api_shape="published", rate_limit=2, retry_after_header=retry_after_header
        ) as sb,
        published_client(sb) as api,
    ):
        assert [api.get("/tickets").status_code for _ in range(2)] == [200, 200]
        limited = api.get("/tickets")
    assert limited.status_code == 429
    assert limited.json()["status"] == 429
    assert ("Retry-After" in limited.headers) is retry_after_header
    if retry_after_header:
        assert 1 <= int(limited.headers["Retry-After"]) <= 60


def test_contract_shape_can_omit_retry_after_too() -> None:
    with make_sandbox(tickets=5, rate_limit=1, retry_after_header=False) as sb:
        headers = {"X-API-KEY": API_KEY}
        assert httpx.get(sb.api_url + "/tickets", headers=headers).status_code == 200
        limited = httpx.get(sb.api_url + "/tickets", headers=headers)
    assert limited.status_code == 429
    assert "Retry-After" not in limited.headers
    assert limited.json() == {"message": "Rate limited: 1 requests per minute"}


# --------------------------------------------------------------------------- paging


def test_envelope_and_links(sb: AteraSandbox, api: httpx.Client, snap: Snapshot) -> None:
    first = api.get("/tickets", params={"itemsInPage": 7}).json()
    assert list(first) == ENVELOPE
    assert first["page"] == 1 and first["itemsInPage"] == 7
    assert first["totalItemCount"] == TICKETS
    assert first["totalPages"] == math.ceil(TICKETS / 7)
    assert first["prevLink"] is None
    assert first["nextLink"] == f"{sb.api_url}/tickets?itemsInPage=7&page=2"
    second = api.get(first["nextLink"]).json()
    assert second["page"] == 2
    assert second["prevLink"] == f"{sb.api_url}/tickets?itemsInPage=7&page=1"
    last = api.get("/tickets", params={"itemsInPage": 7, "page": first["totalPages"]}).json()
    assert last["nextLink"] is None
    assert len(last["items"]) == TICKETS - 7 * (first["totalPages"] - 1)

    items, pages = walk(api, "/tickets", itemsInPage=7)
    assert pages == first["totalPages"]
    assert [t["TicketID"] for t in items] == [t["TicketID"] for t in snap["tickets"]]
    assert items == snap["tickets"]


def test_page_size_default_and_max(api: httpx.Client) -> None:
    default = api.get("/tickets").json()
    assert default["itemsInPage"] == 20 and len(default["items"]) == 20
    capped = api.get("/tickets", params={"itemsInPage": 500}).json()
    assert capped["itemsInPage"] == 50 and len(capped["items"]) == 50
    assert capped["nextLink"].endswith("itemsInPage=500&page=2")  # same query, page changed
    beyond = api.get("/tickets", params={"page": 99}).json()
    assert beyond["items"] == [] and beyond["nextLink"] is None
    assert beyond["prevLink"].endswith("page=98")


def test_empty_listing_has_no_links(api: httpx.Client) -> None:
    body = api.get("/tickets/lastmodified", params={"date": "2999-01-01T00:00:00"}).json()
    assert body["items"] == [] and body["totalItemCount"] == 0 and body["totalPages"] == 0
    assert body["prevLink"] is None and body["nextLink"] is None


# --------------------------------------------------------------------------- tickets


def test_ticket_dto_fields_and_values(api: httpx.Client, sb: AteraSandbox) -> None:
    for ticket_id in (10001, 10077, 10150):
        dto = api.get(f"/tickets/{ticket_id}").json()
        assert list(dto) == TICKET_DTO
        record = sb.store.get_ticket(ticket_id)
        assert dto["TicketNumber"] == str(ticket_id)
        assert dto["TicketImpact"] in (
            "NoImpact",
            "SiteDown",
            "ServerIssue",
            "Minor",
            "Major",
            "Crisis",
        )
        assert dto["FirstComment"] == record["Description"]
        assert parse_net(dto["TicketCreatedDate"]) == datetime.fromisoformat(
            record["TicketCreatedDate"]
        )
        for name in ("FirstResponseDate", "LastActivityDate", "Description", "DueDate"):
            assert name not in dto


def test_technician_first_comment_date_is_the_first_response_with_nulls(snap: Snapshot) -> None:
    contract = AteraSandbox(tickets=TICKETS, seed=42, now=FIXED_NOW).snapshot()["tickets"]
    published = snap["tickets"]
    assert [t["TicketID"] for t in contract] == [t["TicketID"] for t in published]
    nulls = 0
    for s, t in zip(contract, published, strict=True):
        if s["FirstResponseDate"] is None:
            nulls += 1
            assert t["TechnicianFirstCommentDate"] is None
        else:
            expected = datetime.fromisoformat(s["FirstResponseDate"])
            assert parse_net(t["TechnicianFirstCommentDate"]) == expected
        assert parse_net(t["ClosedTicketDueDate"]) == datetime.fromisoformat(s["DueDate"])
    assert nulls > 0


def test_every_timestamp_has_no_offset(snap: Snapshot) -> None:
    checked = 0
    for kind, records in snap.items():
        for record in records:
            for name, value in record.items():
                if isinstance(value, str) and re.match(r"^\d{4}-\d\d-\d\dT", value):
                    assert NET_TS.match(value), (kind, name, value)
                    checked += 1
    assert checked > 1000


def test_statusmodified_lists_only_resolved_and_closed(api: httpx.Client, snap: Snapshot) -> None:
    items, _ = walk(api, "/tickets/statusmodified", itemsInPage=50)
    expected = [t for t in snap["tickets"] if t["TicketStatus"] in ("Resolved", "Closed")]
    assert 0 < len(expected) < TICKETS
    assert items == expected  # includeComments defaults to true here
    ignored, _ = walk(api, "/tickets/statusmodified", itemsInPage=50, modifiedAfter="2999-01-01")
    assert ignored == items


def test_ticket_filters_and_no_comments(api: httpx.Client, snap: Snapshot) -> None:
    customer = snap["tickets"][0]["CustomerID"]
    items, _ = walk(api, "/tickets", itemsInPage=50, customerId=customer, ticketStatus="closed")
    expected = [
        t for t in snap["tickets"] if t["CustomerID"] == customer and t["TicketStatus"] == "Closed"
    ]
    assert items == expected and expected
    assert api.get("/TICKETS/NoComments").json()["totalItemCount"] == 0  # seeded tickets all have


# --------------------------------------------------------------------------- lastmodified


def test_lastmodified_filters_by_date(fresh: AteraSandbox) -> None:
    with published_client(fresh) as api:
        everything, _ = walk(api, "/tickets/lastmodified", date="2000-01-01", itemsInPage=50)
        assert len(everything) == 40
        pivot = fresh.now()
        fresh.advance(60)
        changed = api.post("/tickets/10005", json={"TicketPriority": "Critical"})
        assert changed.status_code == 200, changed.text
        assert changed.json() == {"ActionID": "10005"}
        for stamp in (naive(pivot), zulu(pivot), offset(pivot)):
            items, _ = walk(api, "/tickets/lastmodified", date=stamp)
            assert [t["TicketID"] for t in items] == [10005], stamp
            assert items[0]["TicketPriority"] == "Critical"
        after = fresh.now() + timedelta(seconds=1)
        for stamp in (naive(after), zulu(after), offset(after)):
            assert walk(api, "/tickets/lastmodified", date=stamp)[0] == [], stamp


def test_lastmodified_include_comments(api: httpx.Client) -> None:
    full = api.get("/tickets/10003").json()
    lean = api.get("/tickets/lastmodified", params={"date": "2000-01-01T00:00:00Z"}).json()
    ticket = next(t for t in lean["items"] if t["TicketID"] == 10003)
    for name in ("FirstComment", "LastEndUserComment", "LastTechnicianComment"):
        assert ticket[name] is None  # includeComments defaults to false here, as published
    assert ticket["LastTechnicianCommentTimestamp"] == full["LastTechnicianCommentTimestamp"]
    params = {"date": "2000-01-01T00:00:00Z", "includeComments": "true"}
    rich = api.get("/tickets/lastmodified", params=params).json()
    assert next(t for t in rich["items"] if t["TicketID"] == 10003) == full


@pytest.mark.parametrize("params", [{}, {"date": ""}, {"date": "yesterday"}])
def test_lastmodified_needs_a_valid_date(api: httpx.Client, params: dict[str, str]) -> None:
    response = api.get("/tickets/lastmodified", params=params)
    assert response.status_code == 400
    assert response.headers["Content-Type"] == "application/problem+json"
    assert response.json()["instance"] == "/api/v3/tickets/lastmodified"
    assert "date" in response.json()["detail"]


# --------------------------------------------------------------------------- comments


def test_comments_shape_order_and_authors(
    api: httpx.Client, sb: AteraSandbox, snap: Snapshot
) -> None:
    tid = next(
        tid
        for tid in sb.store.ticket_ids()
        if len(comments := sb.store.comments(tid)) >= 4
        and {c["CreatorContactID"] in sb.store.technicians for c in comments} == {True, False}
    )
    items, pages = walk(api, f"/tickets/{tid}/comments", itemsInPage=2)
    internal = sb.store.comments(tid)
    assert pages == math.ceil(len(internal) / 2) and len(items) == len(internal)
    assert [c["Date"] for c in items] == sorted(c["Date"] for c in items)
    kinds: set[str] = set()
    for served, source in zip(items, internal, strict=True):
        assert list(served) == COMMENT_DTO
        assert served["Comment"] == source["CommentText"]
        assert served["CommentHtml"].startswith("<p>") and served["CommentHtml"].endswith("</p>")
        creator = source["CreatorContactID"]
        if creator in sb.store.technicians:
            tech = sb.store.technicians[creator]
            assert served["TechnicianContactID"] == creator and served["EndUserID"] is None
            assert (served["Email"], served["FirstName"]) == (tech.email, tech.first_name)
            kinds.add("technician")
        else:
            user = sb.store.end_users[creator]
            assert served["EndUserID"] == creator and served["TechnicianContactID"] is None
            assert (served["Email"], served["LastName"]) == (user.email, user.last_name)
            kinds.add("end user")
    snapshot_comments = [c for c in snap["comments"] if c["TicketID"] == tid]
    assert [{k: v for k, v in c.items() if k != "TicketID"} for c in snapshot_comments] == items
    assert kinds == {"end user", "technician"}


def test_post_comments_with_published_models(fresh: AteraSandbox) -> None:
    ticket = fresh.store.get_ticket(10007)
    user, tech = ticket["EndUserID"], 1005
    with published_client(fresh) as api:
        path = "/tickets/10007/comments"
        bodies = [
            {"CommentText": "From the user", "EnduserCommentDetails": {"EnduserId": user}},
            {
                "CommentText": "Internal <note>",
                "TechnicianCommentDetails": {"TechnicianId": tech, "IsInternal": True},
            },
            {
                "CommentText": "Backdated",
                "CommentTimestampUTC": "2000-01-01T00:00:00",
                "TechnicianCommentDetails": {
                    "TechnicianEmail": fresh.store.technicians[tech].email,
                    "IsInternal": False,
                },
            },
        ]
        for body in bodies:
            response = api.post(path, json=body)
            assert response.status_code == 200, response.text
            assert list(response.json()) == ["ActionID"]
            assert isinstance(response.json()["ActionID"], str)
        items, _ = walk(api, path, itemsInPage=50)
        assert items[0]["Comment"] == "Backdated"
        assert items[0]["Date"] == "2000-01-01T00:00:00.0000000"
        assert items[0]["TechnicianContactID"] == tech and not items[0]["IsInternal"]
        by_text = {c["Comment"]: c for c in items}
        assert by_text["From the user"]["EndUserID"] == user
        assert by_text["From the user"]["TechnicianContactID"] is None
        note = by_text["Internal <note>"]
        assert note["IsInternal"] and note["CommentHtml"] == "<p>Internal &lt;note&gt;</p>"

        both = {
            "CommentText": "x",
            "EnduserCommentDetails": {"EnduserId": user},
            "TechnicianCommentDetails": {"TechnicianId": tech},
        }
        bad = [
            both,
            {"CommentText": "", "EnduserCommentDetails": {"EnduserId": user}},
            {"CommentText": "x", "TechnicianCommentDetails": {"TechnicianId": 42}},
            {"CommentText": "x", "EnduserCommentDetails": {"EnduserId": user + 1}},
            {"CommentText": "x", "CommentTimestampUTC": "soon"},
        ]
        for body in bad:
            response = api.post(path, json=body)
            assert response.status_code == 400, body
            assert response.json()["status"] == 400
        assert api.post("/tickets/99999/comments", json=bodies[0]).status_code == 404


# --------------------------------------------------------------------------- work hours


def test_work_hours_records_paging_and_spelling(
    api: httpx.Client, sb: AteraSandbox, snap: Snapshot
) -> None:
    tid = _busy_ticket(snap, comments=0, work=3)
    items, pages = walk(api, f"/tickets/{tid}/workhoursrecords", itemsInPage=2)
    internal = sb.store.work_hours(tid)
    assert pages == math.ceil(len(internal) / 2)
    assert [w["WorkHoursID"] for w in items] == [w["WorkHourID"] for w in internal]
    for served, source in zip(items, internal, strict=True):
        assert list(served) == WORK_HOURS_DTO
        assert "Billable" not in served and served["Billiable"] == source["IsBillable"]
        assert served["Description"] == source["Notes"]
        duration = parse_net(served["EndWorkHour"]) - parse_net(served["StartWorkHour"])
        assert duration.total_seconds() == source["Duration"]
        if source["IsBillable"]:
            assert served["RateID"] in (1, 2) and served["RateAmount"] > 0
        else:
            assert served["RateID"] is None and served["RateAmount"] is None
    assert items == [w for w in snap["work_hours"] if w["TicketID"] == tid]


def test_account_work_hours(api: httpx.Client, snap: Snapshot) -> None:
    items, _ = walk(api, "/workhours", itemsInPage=50)
    assert [w["WorkHoursID"] for w in items] == [w["WorkHoursID"] for w in snap["work_hours"]]
    assert all(list(w) == WORKHOUR_RECORD_DTO for w in items)
    assert all(w["RateID"] is None and w["RateAmount"] is None for w in items)
    rated, _ = walk(api, "/workhours", itemsInPage=50, includeRates="true")
    by_id = {w["WorkHoursID"]: w for w in snap["work_hours"]}
    tickets = {t["TicketID"]: t for t in snap["tickets"]}
    for record in rated:
        ticket_view = by_id[record["WorkHoursID"]]
        assert {k: record[k] for k in WORK_HOURS_DTO} == ticket_view
        assert record["CustomerID"] == tickets[record["TicketID"]]["CustomerID"]
        assert record["EndUserID"] == tickets[record["TicketID"]]["EndUserID"]
    assert any(w["OnCustomerSite"] for w in rated) and not all(w["OnCustomerSite"] for w in rated)


def test_account_work_hours_date_filters(api: httpx.Client, snap: Snapshot) -> None:
    starts = sorted(parse_net(w["StartWorkHour"]) for w in snap["work_hours"])
    low, high = starts[len(starts) // 4], starts[3 * len(starts) // 4]

    def expected(start: datetime | None, end: datetime | None) -> list[int]:
        return [
            w["WorkHoursID"]
            for w in snap["work_hours"]
            if (start is None or parse_net(w["StartWorkHour"]) >= start)
            and (end is None or parse_net(w["EndWorkHour"]) <= end)
        ]

    def served(**params: str) -> list[int]:
        return [w["WorkHoursID"] for w in walk(api, "/workhours", itemsInPage=50, **params)[0]]

    from_low = expected(low, None)
    assert 0 < len(from_low) < len(snap["work_hours"])
    for fmt in (naive, zulu, offset):
        assert served(startWorkhour=fmt(low)) == from_low
    assert served(endWorkhour=naive(high)) == expected(None, high)
    window = served(startWorkhour=naive(low), endWorkhour=naive(high))
    assert window == expected(low, high) and window
    day = starts[0].strftime("%Y-%m-%d")  # a bare date is midnight UTC
    assert served(startWorkhour=day) == [w["WorkHoursID"] for w in snap["work_hours"]]
    assert api.get("/workhours", params={"startWorkhour": "nope"}).status_code == 400


def test_post_work_hours(fresh: AteraSandbox) -> None:
    with published_client(fresh) as api:
        body = {
            "StartWorkHour": "2025-03-10T09:00:00",
            "EndWorkHour": "2025-03-10T10:30:00",
            "TechnicianContactID": 1002,
            "Billiable": True,
            "OnCustomerSite": False,
            "Description": "Remote fix",
            "RateID": 2,
        }
        response = api.post("/tickets/10003/workhours", json=body)
        assert response.status_code == 201, response.text
        work_id = int(response.json()["ActionID"])
        items, _ = walk(api, "/tickets/10003/workhoursrecords", itemsInPage=50)
        record = next(w for w in items if w["WorkHoursID"] == work_id)
        assert record["StartWorkHour"] == "2025-03-10T09:00:00.0000000"
        assert record["Billiable"] is True and record["OnCustomerSite"] is False
        assert (record["RateID"], record["RateAmount"]) == (2, 150.0)
        bad = {**body, "EndWorkHour": body["StartWorkHour"]}
        assert api.post("/tickets/10003/workhours", json=bad).status_code == 400


# --------------------------------------------------------------------------- durations


def _hours(records: list[dict[str, Any]]) -> float:
    seconds = sum(
        (parse_net(w["EndWorkHour"]) - parse_net(w["StartWorkHour"])).total_seconds()
        for w in records
    )
    return seconds / 3600


def test_billable_duration_and_summary(api: httpx.Client, snap: Snapshot) -> None:
    checked = 0
    for ticket in snap["tickets"][:40]:
        tid = ticket["TicketID"]
        records = [w for w in snap["work_hours"] if w["TicketID"] == tid]
        billable = [w for w in records if w["Billiable"]]
        single = api.get(f"/tickets/{tid}/billableduration").json()
        assert list(single) == DURATIONS_DTO and single["ticketId"] == tid
        assert single["TotalDurationHours"] == pytest.approx(_hours(billable))
        on_site = [w for w in billable if w["OnCustomerSite"]]
        assert single["OnSiteDurationHours"] == pytest.approx(_hours(on_site))
        for a, b in (("OnSite", "OffSite"), ("OnSLA", "OffSLA")):
            parts = single[f"{a}DurationHours"] + single[f"{b}DurationHours"]
            assert parts == pytest.approx(single["TotalDurationHours"])
        summary = api.get(f"/tickets/{tid}/workhours").json()
        assert list(summary) == ["TicketID", "Billable", "NonBillable"]
        assert summary["TicketID"] == tid and summary["Billable"] == single
        assert summary["NonBillable"] == api.get(f"/tickets/{tid}/nonbillableduration").json()
        total = (
            summary["Billable"]["TotalDurationHours"] + summary["NonBillable"]["TotalDurationHours"]
        )
        assert total == pytest.approx(ticket["TotalDurationSeconds"] / 3600)
        checked += bool(records)
    assert checked > 5


def test_bulk_billable_duration(api: httpx.Client, snap: Snapshot) -> None:
    ids = [t["TicketID"] for t in snap["tickets"][:50]]
    response = api.post("/tickets/billableduration", json=list(reversed(ids)))
    assert response.status_code == 200
    durations = response.json()
    assert [d["ticketId"] for d in durations] == list(reversed(ids))
    expected = {d["ticketId"]: d for d in snap["billable_durations"]}
    assert all(d == expected[d["ticketId"]] for d in durations)
    mixed = api.post("/tickets/billableduration", json=[10002, 99999, 10002]).json()
    assert [d["ticketId"] for d in mixed] == [10002]
    assert api.post("/tickets/billableduration", json=[]).json() == []
    too_many = api.post("/tickets/billableduration", json=list(range(10001, 10052)))
    assert too_many.status_code == 400 and "50" in too_many.json()["detail"]
    for body in ({"ids": [10001]}, 10001, ["10001"]):
        assert api.post("/tickets/billableduration", json=body).status_code == 400
    assert api.get("/tickets/billableduration").status_code == 405


# --------------------------------------------------------------------------- writes


def test_create_update_and_delete_ticket(fresh: AteraSandbox) -> None:
    user = min(fresh.store.end_users)
    with published_client(fresh) as api:
        created = api.post(
            "/tickets",
            json={
                "TicketTitle": "Printer jam",
                "Description": "Paper stuck",
                "EndUserID": user,
                "TicketPriority": "High",
                "TicketImpact": "Minor",
                "TechnicianEmail": fresh.store.technicians[1004].email,
            },
        )
        assert created.status_code == 201, created.text
        ticket_id = int(created.json()["ActionID"])
        ticket = api.get(f"/tickets/{ticket_id}").json()
        assert ticket["TicketStatus"] == "Open" and ticket["TicketImpact"] == "Minor"
        assert ticket["TechnicianContactID"] == 1004 and ticket["FirstComment"] == "Paper stuck"
        assert api.get("/tickets/noComments").json()["items"] == [ticket]

        update = {"TicketImpact": "Crisis", "TicketTitle": None, "TicketStatus": "Resolved"}
        assert api.put(f"/tickets/{ticket_id}", json=update).status_code == 200
        ticket = api.get(f"/tickets/{ticket_id}").json()
        assert ticket["TicketImpact"] == "Crisis" and ticket["TicketTitle"] == "Printer jam"
        assert ticket["TicketStatus"] == "Resolved" and ticket["TicketResolvedDate"]

        closed = next(
            t
            for t in fresh.store.ticket_ids()
            if fresh.store.get_ticket(t)["TicketStatus"] == "Closed"
        )
        forbidden = api.post(f"/tickets/{closed}", json={"TicketStatus": "Open"})
        assert forbidden.status_code == 400
        assert forbidden.json()["detail"].startswith("Cannot change status from Closed to Open")
        bad = [
            {"TicketTitle": "x", "EndUserID": user, "TicketImpact": "Apocalypse"},
            {"TicketTitle": "x", "EndUserID": user, "TicketStatus": "Closed"},
            {"TicketTitle": "x", "EndUserEmail": "nobody@nowhere.example"},
            {"EndUserID": user},
        ]
        for body in bad:
            assert api.post("/tickets", json=body).status_code == 400, body

        assert api.delete(f"/tickets/{ticket_id}").status_code == 204
        assert api.get(f"/tickets/{ticket_id}").status_code == 404


# --------------------------------------------------------------------------- one model


def test_same_seed_same_data_in_both_api_shapes() -> None:
    contract = AteraSandbox(tickets=TICKETS, seed=7, now=FIXED_NOW).snapshot()
    published = AteraSandbox(
        tickets=TICKETS, seed=7, now=FIXED_NOW, api_shape="published"
    ).snapshot()
    assert [t["TicketID"] for t in contract["tickets"]] == [
        t["TicketID"] for t in published["tickets"]
    ]
    assert sorted(w["WorkHourID"] for w in contract["work_hours"]) == [
        w["WorkHoursID"] for w in published["work_hours"]
    ]
    contract_comments = sorted(
        contract["comments"], key=lambda c: (c["TicketID"], c["CommentDate"])
    )
    assert [(c["TicketID"], c["CommentText"]) for c in contract_comments] == [
        (c["TicketID"], c["Comment"]) for c in published["comments"]
    ]
    assert list(published) == [
        "tickets",
        "comments",
        "work_hours",
        "billable_durations",
        "work_hours_summaries",
        "customers",
        "contracts",
    ]
    # customers and contracts are the same in both shapes but for their dates' format
    for table in ("customers", "contracts"):
        assert [r["CustomerID"] for r in contract[table]] == [
            r["CustomerID"] for r in published[table]
        ]
    assert list(published["comments"][0])[0] == "TicketID"
    for old, new in zip(
        contract["billable_durations"], published["billable_durations"], strict=True
    ):
        assert old["TicketID"] == new["ticketId"]
        assert round(new["TotalDurationHours"], 2) == old["TotalBillableHours"]


def test_same_seed_over_http_in_both_api_shapes(sb: AteraSandbox, api: httpx.Client) -> None:
    with make_sandbox(tickets=TICKETS) as contract_sb:
        headers = {"X-API-KEY": API_KEY}
        contract_api = httpx.Client(base_url=contract_sb.api_url, headers=headers, timeout=5.0)
        with contract_api:
            listing = contract_api.get("/tickets", params={"itemsInPage": 50}).json()["items"]
            for ticket in listing[:10]:
                tid = ticket["TicketID"]
                contract_comments = contract_api.get(f"/tickets/{tid}/comments").json()["items"]
                contract_work = contract_api.get(f"/tickets/{tid}/workhours").json()["items"]
                published_comments = api.get(f"/tickets/{tid}/comments", params={"itemsInPage": 50})
                published_work = api.get(
                    f"/tickets/{tid}/workhoursrecords", params={"itemsInPage": 50}
                )
                assert [c["CommentText"] for c in contract_comments] == [
                    c["Comment"] for c in published_comments.json()["items"]
                ]
                assert [w["WorkHourID"] for w in contract_work] == [
                    w["WorkHoursID"] for w in published_work.json()["items"]
                ]
    published_listing = api.get("/tickets", params={"itemsInPage": 50}).json()["items"]
    assert [t["TicketID"] for t in listing] == [t["TicketID"] for t in published_listing]
