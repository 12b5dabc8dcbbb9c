"""Short, stable fingerprints of what the API sent, and each shape's activity signal.

Change detection compares what a listing shows now with what an earlier sync
saw. It keeps fingerprints, not copies, in dlt's state:

* `activity_signal(shape, ticket)`: the fields of a ticket row that move when
  the ticket gets a new child: `LastActivityDate` in the ticket contract,
  `LastEndUserCommentTimestamp` and `LastTechnicianCommentTimestamp` in the
  published API. None when the row carries none of them (no signal: the
  children are fetched).
* `row_hash(row)`: the whole ticket row, to notice a row that changed although
  the change listing did not list it.
* `children_hash(kind, records)`: a ticket's comments, work hours or billable
  duration, whatever their order, without the fields that differ between the
  endpoints serving the same records (the account-wide work-hour listing adds
  `CustomerID` and `EndUserID`, the bulk billable duration adds `ticketId`).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from typing import Any

from pipelines.atera.shapes import PUBLISHED

COMMENTS = "comments"
WORK_HOURS = "work_hours"
BILLABLE = "billable_durations"
CHILD_KINDS = (COMMENTS, WORK_HOURS, BILLABLE)
"""The three kinds of per-ticket children, named after their raw tables."""

CONTRACT_SIGNAL_FIELDS = ("LastActivityDate",)
PUBLISHED_SIGNAL_FIELDS = ("LastEndUserCommentTimestamp", "LastTechnicianCommentTimestamp")

_NOT_CONTENT = {
    COMMENTS: frozenset({"CommentKey"}),
    WORK_HOURS: frozenset({"TicketID", "CustomerID", "EndUserID"}),
    BILLABLE: frozenset({"TicketID", "ticketId"}),
}
"""Fields that say where a record was listed, not what it holds."""


def _digest(text: str) -> str:
    return hashlib.blake2b(text.encode(), digest_size=6).hexdigest()


def _canonical(record: dict[str, Any], skip: frozenset[str]) -> str:
    if "WorkHoursID" in record:  # the published id; `WorkHourID` is our copy of it
        skip = skip | {"WorkHourID"}
    return json.dumps(
        {k: v for k, v in record.items() if k not in skip}, sort_keys=True, default=str
    )


def children_hash(kind: str, records: Iterable[dict[str, Any]]) -> str:
    """The fingerprint of one ticket's children of one kind (order does not matter)."""
    skip = _NOT_CONTENT[kind]
    return _digest("\n".join(sorted(_canonical(r, skip) for r in records)))


def record_hash(kind: str, record: dict[str, Any]) -> str:
    """The fingerprint of one record."""
    return _digest(_canonical(record, _NOT_CONTENT[kind]))


def row_hash(row: dict[str, Any]) -> str:
    """The fingerprint of a whole ticket row."""
    return _digest(json.dumps(row, sort_keys=True, default=str))


def activity_signal(shape: str, ticket: dict[str, Any]) -> str | None:
    """What moves when the ticket gets a new child; None when the row has no such field."""
    fields = PUBLISHED_SIGNAL_FIELDS if shape == PUBLISHED else CONTRACT_SIGNAL_FIELDS
    if not any(name in ticket for name in fields):
        return None
    return "|".join(str(ticket.get(name)) for name in fields)
