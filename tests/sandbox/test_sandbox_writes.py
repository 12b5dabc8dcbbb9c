"""Writes through the sandbox API: create validation, transitions, comments."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from datetime import timedelta

import httpx
import pytest

from pipelines.sandbox import AteraSandbox
from tests.sandbox import COMMENT_FIELDS, TICKET_FIELDS, client, make_sandbox, parse_z

STATUSES = ["Open", "Pending", "Resolved", "Closed"]
# Written out here (not imported) so the rules are checked independently.
ALLOWED = {
    ("Open", "Pending"),
    ("Open", "Resolved"),
    ("Pending", "Open"),
    ("Pending", "Resolved"),
    ("Pending", "Closed"),
    ("Resolved", "Open"),
    ("Resolved", "Closed"),
}
PATH_TO = {
    "Open": [],
    "Pending": ["Pending"],
    "Resolved": ["Resolved"],
    "Closed": ["Resolved", "Closed"],
}


@pytest.fixture(scope="module")
def sb() -> Iterator[AteraSandbox]:
    sandbox = make_sandbox(tickets=60)
    yield sandbox
    sandbox.stop()


@pytest.fixture(scope="module")
def api(sb: AteraSandbox) -> Iterator[httpx.Client]:
    with client(sb) as c:
        yield c


@pytest.fixture(scope="module")
def user(sb: AteraSandbox) -> int:
    return min(sb.store.end_users)


def _create(api: httpx.Client, user: int, **extra: object) -> int:
    body = {"TicketTitle": "Outlook not syncing", "EndUserID": user, "TechnicianContactID": 1003}
    body.update(extra)
    response = api.post("/tickets", json=body)
    assert response.status_code in (200, 201), response.text
    return response.json()["TicketID"]


def _set_status(api: httpx.Client, ticket_id: int, status: str) -> httpx.Response:
    return api.post(f"/tickets/{ticket_id}", json={"TicketStatus": status})


def _ticket_in(api: httpx.Client, user: int, status: str) -> int:
    ticket_id = _create(api, user)
    for step in PATH_TO[status]:
        assert _set_status(api, ticket_id, step).status_code == 200
    return ticket_id


# --------------------------------------------------------------------------- create


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"EndUserID": "USER"}, "Title required"),
        ({"TicketTitle": "   ", "EndUserID": "USER"}, "Title required"),
        (
            {"TicketTitle": "x", "EndUserID": "USER", "TicketPriority": "Urgent"},
            "Invalid priority: use Low, Medium, High, or Critical",
        ),
        ({"TicketTitle": "x", "EndUserID": 99999}, "Customer not found"),
        ({"TicketTitle": "x", "CustomerID": 9}, "Customer not found"),
    ],
)
def test_create_validation_messages(
    api: httpx.Client, user: int, body: dict[str, object], message: str
) -> None:
    body = {k: (user if v == "USER" else v) for k, v in body.items()}
    response = api.post("/tickets", json=body)
    assert response.status_code == 400
    assert response.json() == {"message": message}


@pytest.mark.parametrize(
    "body",
    [
        {"TicketTitle": "No customer"},
        {"TicketTitle": "x", "EndUserID": "USER", "TicketType": "Bug"},
        {"TicketTitle": "x", "EndUserID": "USER", "TechnicianContactID": 5},
        ["not", "an", "object"],
    ],
)
def test_create_other_validation_errors(api: httpx.Client, user: int, body: object) -> None:
    if isinstance(body, dict):
        body = {k: (user if v == "USER" else v) for k, v in body.items()}
    response = api.post("/tickets", json=body)
    assert response.status_code == 400
    assert response.json()["message"]


def test_create_invalid_json_is_400(api: httpx.Client) -> None:
    response = api.post(
        "/tickets", content=b"{not json", headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 400
    assert "JSON" in response.json()["message"]


def test_create_fills_system_fields(api: httpx.Client, sb: AteraSandbox) -> None:
    sb.clock_offset = timedelta(days=-20)
    try:
        customer = next(iter(sb.store.customers.values()))
        end_user = customer.end_users[0]
        response = api.post(
            "/tickets",
            json={
                "TicketTitle": "Unable to access email",
                "Description": "Sales team reporting Outlook disconnected",
                "EndUserID": end_user.contact_id,
                "TicketPriority": "High",
                "TicketType": "Problem",
                "TechnicianContactID": 1002,
            },
        )
        assert response.status_code in (200, 201)
        created = response.json()
        assert set(created) == {"ActionID", "TicketID", "TicketTitle"}
        assert created["ActionID"] == created["TicketID"] > 10060
        ticket = api.get(f"/tickets/{created['TicketID']}").json()
        assert list(ticket) == TICKET_FIELDS
        assert ticket["TicketStatus"] == "Open"
        assert ticket["TicketSource"] == "API"
        assert ticket["CustomerID"] == customer.customer_id
        assert ticket["CustomerName"] == customer.name
        assert ticket["EndUserEmail"] == end_user.email
        assert ticket["EndUserFirstName"] == end_user.first_name
        assert ticket["TechnicianFullName"] == sb.store.technicians[1002].full_name
        assert ticket["TechnicianEmail"] == sb.store.technicians[1002].email
        assert ticket["TicketResolvedDate"] is None and ticket["FirstResponseDate"] is None
        created_at = parse_z(ticket["TicketCreatedDate"])
        assert abs((created_at - sb.now()).total_seconds()) < 5
        assert parse_z(ticket["DueDate"]) > created_at
    finally:
        sb.clock_offset = timedelta(0)


def test_create_with_customer_only(api: httpx.Client, sb: AteraSandbox) -> None:
    customer_id = max(sb.store.customers)
    ticket_id = _create(api, min(sb.store.end_users), EndUserID=None, CustomerID=customer_id)
    ticket = api.get(f"/tickets/{ticket_id}").json()
    assert ticket["CustomerID"] == customer_id
    assert ticket["CustomerName"] == sb.store.customers[customer_id].name


# --------------------------------------------------------------------------- transitions


@pytest.mark.parametrize(("current", "new"), list(itertools.product(STATUSES, STATUSES)))
def test_transition_rules(api: httpx.Client, user: int, current: str, new: str) -> None:
    ticket_id = _ticket_in(api, user, current)
    response = _set_status(api, ticket_id, new)
    if current == new or (current, new) in ALLOWED:
        assert response.status_code == 200, response.text
        assert response.json()["TicketStatus"] == new
    else:
        assert response.status_code == 400
        assert api.get(f"/tickets/{ticket_id}").json()["TicketStatus"] == current


def test_forbidden_transition_messages_say_why(api: httpx.Client, user: int) -> None:
    open_ticket = _ticket_in(api, user, "Open")
    message = _set_status(api, open_ticket, "Closed").json()["message"]
    assert "Open to Closed" in message and "resolve" in message
    closed = _ticket_in(api, user, "Closed")
    assert "final" in _set_status(api, closed, "Open").json()["message"]
    resolved = _ticket_in(api, user, "Resolved")
    assert "Resolved to Pending" in _set_status(api, resolved, "Pending").json()["message"]


def test_invalid_status_value_is_400(api: httpx.Client, user: int) -> None:
    ticket_id = _ticket_in(api, user, "Open")
    response = _set_status(api, ticket_id, "Done")
    assert response.status_code == 400
    assert "Open, Pending, Resolved, or Closed" in response.json()["message"]


def test_resolved_date_follows_status(api: httpx.Client, user: int, sb: AteraSandbox) -> None:
    ticket_id = _ticket_in(api, user, "Open")
    resolved = _set_status(api, ticket_id, "Resolved").json()
    assert abs((parse_z(resolved["TicketResolvedDate"]) - sb.now()).total_seconds()) < 5
    reopened = _set_status(api, ticket_id, "Open").json()
    assert reopened["TicketResolvedDate"] is None
    _set_status(api, ticket_id, "Resolved")
    sb.advance(3600)
    try:
        again = api.get(f"/tickets/{ticket_id}").json()["TicketResolvedDate"]
        closed = _set_status(api, ticket_id, "Closed").json()
        assert closed["TicketResolvedDate"] == again
    finally:
        sb.advance(-3600)
    pending = _ticket_in(api, user, "Pending")
    assert _set_status(api, pending, "Closed").json()["TicketResolvedDate"] is not None


def test_update_other_fields(api: httpx.Client, user: int, sb: AteraSandbox) -> None:
    ticket_id = _ticket_in(api, user, "Open")
    response = api.post(
        f"/tickets/{ticket_id}",
        json={
            "TicketPriority": "Critical",
            "TicketTitle": "Whole office offline",
            "Description": "Router down",
            "TicketType": "Incident",
            "TechnicianContactID": 1008,
        },
    )
    assert response.status_code == 200
    ticket = response.json()
    assert list(ticket) == TICKET_FIELDS
    assert ticket["TicketPriority"] == "Critical"
    assert ticket["TicketTitle"] == "Whole office offline"
    assert ticket["TicketType"] == "Incident"
    assert ticket["TechnicianFullName"] == sb.store.technicians[1008].full_name
    assert api.get(f"/tickets/{ticket_id}").json() == ticket
    bad = api.post(f"/tickets/{ticket_id}", json={"TicketPriority": "urgent"})
    assert bad.status_code == 400
    assert bad.json()["message"] == "Invalid priority: use Low, Medium, High, or Critical"


def test_rejected_update_changes_nothing(api: httpx.Client, user: int) -> None:
    ticket_id = _ticket_in(api, user, "Open")
    before = api.get(f"/tickets/{ticket_id}").json()
    response = api.post(
        f"/tickets/{ticket_id}", json={"TicketTitle": "New", "TicketStatus": "Closed"}
    )
    assert response.status_code == 400
    assert api.get(f"/tickets/{ticket_id}").json() == before


# --------------------------------------------------------------------------- comments


def test_comment_defaults_to_technician_and_sets_first_response(
    api: httpx.Client, user: int
) -> None:
    ticket_id = _create(api, user)  # technician 1003, no response yet
    response = api.post(f"/tickets/{ticket_id}/comments", json={"CommentText": "On it"})
    assert response.status_code in (200, 201)
    comment = response.json()
    assert list(comment) == COMMENT_FIELDS
    assert comment["CreatorContactID"] == 1003
    assert comment["IsInternal"] is False
    assert comment["TicketID"] == ticket_id
    assert comment["CommentID"] > 500001
    ticket = api.get(f"/tickets/{ticket_id}").json()
    assert ticket["FirstResponseDate"] == comment["CommentDate"]
    listed = api.get(f"/tickets/{ticket_id}/comments").json()["items"]
    assert listed == [comment]


def test_internal_and_end_user_comments_are_no_first_response(api: httpx.Client, user: int) -> None:
    ticket_id = _create(api, user)
    internal = api.post(
        f"/tickets/{ticket_id}/comments", json={"CommentText": "Checking logs", "IsInternal": True}
    ).json()
    reply = api.post(
        f"/tickets/{ticket_id}/comments",
        json={"CommentText": "Any update?", "CreatorContactID": user},
    ).json()
    assert internal["IsInternal"] is True and internal["CreatorContactID"] == 1003
    assert reply["CreatorContactID"] == user and reply["IsInternal"] is False
    assert api.get(f"/tickets/{ticket_id}").json()["FirstResponseDate"] is None
    ids = [c["CommentID"] for c in api.get(f"/tickets/{ticket_id}/comments").json()["items"]]
    assert ids == [internal["CommentID"], reply["CommentID"]]


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"CommentText": ""},
        {"CommentText": "x", "IsInternal": "yes"},
        {"CommentText": "x", "CreatorContactID": 42},
        {"CommentText": "x", "CreatorContactID": "END_USER", "IsInternal": True},
    ],
)
def test_comment_validation(api: httpx.Client, user: int, body: dict[str, object]) -> None:
    ticket_id = _create(api, user)
    body = {k: (user if v == "END_USER" else v) for k, v in body.items()}
    response = api.post(f"/tickets/{ticket_id}/comments", json=body)
    assert response.status_code == 400
    if "CommentText" not in body or not body["CommentText"]:
        assert response.json() == {"message": "CommentText required"}
    assert api.get(f"/tickets/{ticket_id}/comments").json() == {"items": []}


def test_comment_on_unknown_ticket_is_404(api: httpx.Client) -> None:
    response = api.post("/tickets/99999/comments", json={"CommentText": "hello"})
    assert response.status_code == 404
    assert response.json() == {"message": "Ticket not found"}
