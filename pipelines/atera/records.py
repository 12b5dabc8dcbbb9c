"""Shape API records for loading: UTC timestamps and the column hints of each table.

Atera's dates come as `...Z`, with an explicit offset, or with no offset at
all (read as UTC), sometimes with seven fractional digits (.NET). All of them
are stored as UTC `timestamp with time zone`. A value that cannot be read as
a date is kept as sent (dlt then stores it in a variant column) rather than
dropped.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, tzinfo
from typing import Any

from dlt.common.schema.typing import TTableSchemaColumns

TIMESTAMP_FIELDS = frozenset(
    {
        "TicketCreatedDate",
        "TicketResolvedDate",
        "FirstResponseDate",
        "LastActivityDate",
        "DueDate",
        "CommentDate",
        "StartDate",
        "EndDate",
        # Atera's published v3 names
        "TechnicianFirstCommentDate",
        "FirstResponseDueDate",
        "ClosedTicketDueDate",
        "LastEndUserCommentTimestamp",
        "LastTechnicianCommentTimestamp",
        "Date",
        "StartWorkHour",
        "EndWorkHour",
    }
)

_FRACTION = re.compile(r"(\.\d{1,6})\d*")


def parse_timestamp(value: Any, naive_zone: tzinfo = UTC) -> Any:
    """Return an aware UTC datetime for an ISO 8601 string; other values unchanged.

    Args:
        value: `2024-02-15T09:00:00Z`, `2024-02-15T10:00:00+01:00`,
            `2024-02-15T09:00:00.1234567` (no offset), None, ...
        naive_zone: the zone of values sent without an offset (UTC unless the
            account's time zone is configured).
    """
    if not isinstance(value, str) or not value:
        return value
    text = _FRACTION.sub(r"\1", value.strip())
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return value
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=naive_zone)
    return parsed.astimezone(UTC)


def normalize_record(
    record: dict[str, Any], naive_zone: tzinfo = UTC, **extra: Any
) -> dict[str, Any]:
    """Copy an API record with its timestamp fields parsed, plus `extra` fields."""
    row = {
        key: (parse_timestamp(value, naive_zone) if key in TIMESTAMP_FIELDS else value)
        for key, value in record.items()
    }
    row.update(extra)
    return row


def in_batches(rows: list[dict[str, Any]], size: int = 1000) -> Iterator[list[dict[str, Any]]]:
    """Hand rows to dlt in lists of `size`: fewer, larger items extract faster."""
    for start in range(0, len(rows), size):
        yield rows[start : start + size]


def has_ticket_id(record: dict[str, Any]) -> bool:
    """Whether a record already names its ticket (`TicketID`, or v3's `ticketId`)."""
    return record.get("TicketID") is not None or record.get("ticketId") is not None


def comment_keys(ticket_id: int, comments: list[dict[str, Any]]) -> list[str]:
    """A stable key per comment of one ticket.

    The seed's comments have a `CommentID`: the key is that id. Atera's published
    API gives comments no id at all, so the key hashes what identifies one: the
    ticket, date, authors, internal flag and text, plus an occurrence number so
    that two identical comments on the same ticket stay two rows.
    """
    keys: list[str] = []
    seen: Counter[str] = Counter()
    for comment in comments:
        if comment.get("CommentID") is not None:
            keys.append(str(comment["CommentID"]))
            continue
        identity = json.dumps(
            [
                ticket_id,
                comment.get("Date") or comment.get("CommentDate"),
                comment.get("EndUserID"),
                comment.get("TechnicianContactID"),
                comment.get("CreatorContactID"),
                bool(comment.get("IsInternal")),
                comment.get("Comment") or comment.get("CommentText"),
            ],
            default=str,
        )
        digest = hashlib.sha256(identity.encode()).hexdigest()[:24]
        seen[digest] += 1
        keys.append(f"{ticket_id}-{digest}-{seen[digest]}")
    return keys


def table_columns(**types: str) -> TTableSchemaColumns:
    """dlt column hints from name=data_type pairs (timestamps with time zone)."""
    columns: TTableSchemaColumns = {}
    for name, data_type in types.items():
        column: dict[str, Any] = {"name": name, "data_type": data_type}
        if data_type == "timestamp":
            column["timezone"] = True
        columns[name] = column  # type: ignore[assignment]
    return columns


TICKET_COLUMNS = table_columns(
    ticket_id="bigint",
    ticket_title="text",
    description="text",
    ticket_priority="text",
    ticket_status="text",
    ticket_type="text",
    customer_id="bigint",
    customer_name="text",
    end_user_id="bigint",
    end_user_email="text",
    end_user_first_name="text",
    end_user_last_name="text",
    technician_contact_id="bigint",
    technician_full_name="text",
    technician_email="text",
    ticket_created_date="timestamp",
    ticket_resolved_date="timestamp",
    first_response_date="timestamp",
    last_activity_date="timestamp",
    due_date="timestamp",
    ticket_source="text",
)
TICKET_COLUMNS["ticket_id"]["nullable"] = False

# Comments and work hours carry the seed's fields; rows in the published v3 shape
# add their own columns (date, comment, work_hours_id, billiable, ...) as dlt
# infers them. Both shapes share the keys comment_key and work_hour_id.
COMMENT_COLUMNS = table_columns(
    comment_key="text",
    ticket_id="bigint",
    comment_id="bigint",
    comment_text="text",
    comment_date="timestamp",
    creator_contact_id="bigint",
    is_internal="bool",
)
COMMENT_COLUMNS["comment_key"]["nullable"] = False
COMMENT_COLUMNS["ticket_id"]["nullable"] = False

WORK_HOUR_COLUMNS = table_columns(
    work_hour_id="bigint",
    ticket_id="bigint",
    technician_contact_id="bigint",
    start_date="timestamp",
    end_date="timestamp",
    duration="bigint",
    is_billable="bool",
    notes="text",
)
WORK_HOUR_COLUMNS["work_hour_id"]["nullable"] = False
WORK_HOUR_COLUMNS["ticket_id"]["nullable"] = False

BILLABLE_DURATION_COLUMNS = table_columns(
    ticket_id="bigint",
    total_billable_duration="bigint",
    total_billable_hours="double",
)
BILLABLE_DURATION_COLUMNS["ticket_id"]["nullable"] = False

STATUS_SNAPSHOT_COLUMNS = table_columns(
    ticket_id="bigint",
    ticket_status="text",
    ticket_priority="text",
    observed_at="timestamp",
    last_activity_date="timestamp",
)
STATUS_SNAPSHOT_COLUMNS["ticket_id"]["nullable"] = False
STATUS_SNAPSHOT_COLUMNS["observed_at"]["nullable"] = False
