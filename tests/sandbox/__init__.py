"""Tests of the Atera sandbox, over real HTTP on a loopback port.

Shared helpers live here (the sandbox tests keep no conftest of their own).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import httpx

from pipelines.sandbox import AteraSandbox

API_KEY = "test-key"
#: The instant seeded data is generated relative to (before the real clock).
FIXED_NOW = datetime(2025, 3, 14, 12, 0, 0, tzinfo=UTC)

TICKET_FIELDS = [
    "TicketID",
    "TicketTitle",
    "Description",
    "TicketPriority",
    "TicketStatus",
    "TicketType",
    "CustomerID",
    "CustomerName",
    "EndUserID",
    "EndUserEmail",
    "EndUserFirstName",
    "EndUserLastName",
    "TechnicianContactID",
    "TechnicianFullName",
    "TechnicianEmail",
    "TicketCreatedDate",
    "TicketResolvedDate",
    "FirstResponseDate",
    "LastActivityDate",
    "DueDate",
    "TicketSource",
]
COMMENT_FIELDS = [
    "CommentID",
    "TicketID",
    "CommentText",
    "CommentDate",
    "CreatorContactID",
    "IsInternal",
]
WORK_HOUR_FIELDS = [
    "WorkHourID",
    "TicketID",
    "TechnicianContactID",
    "StartDate",
    "EndDate",
    "Duration",
    "IsBillable",
    "Notes",
]
ENVELOPE_FIELDS = {"items", "totalItems", "page", "itemsInPage", "totalPages"}


def make_sandbox(**kwargs: Any) -> AteraSandbox:
    """A started sandbox with test defaults (small, fixed data, no rate limit)."""
    options: dict[str, Any] = {
        "api_key": API_KEY,
        "tickets": 150,
        "seed": 42,
        "now": FIXED_NOW,
        "rate_limit": None,
    }
    options.update(kwargs)
    return AteraSandbox(**options).start()


def client(sb: AteraSandbox, api_key: str | None = API_KEY, timeout: float = 5.0) -> httpx.Client:
    """An httpx client on the sandbox's API URL, sending ``api_key`` when given."""
    headers = {"X-API-KEY": api_key} if api_key is not None else {}
    return httpx.Client(base_url=sb.api_url, headers=headers, timeout=timeout)


def parse_z(value: str) -> datetime:
    """Parse the API's ``YYYY-MM-DDTHH:MM:SSZ`` timestamps."""
    return datetime.strptime(value, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
