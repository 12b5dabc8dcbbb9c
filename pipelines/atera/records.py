"""Shape API records for loading: timestamps as UTC instants, comment keys, batches.

Which fields are dates comes from the raw schema (`pipelines.atera.schema`):
a field is parsed when its snake_case name is a timestamp column there, in
whichever API shape it arrives (`TicketCreatedDate`, `StartWorkHour`, ...).
A value that is not a date is kept as sent (dlt then stores it in a variant
column such as `ticket_created_date__v_text`) and reported as a problem.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, tzinfo
from functools import lru_cache
from typing import Any

from dlt.common.normalizers.naming.snake_case import NamingConvention

from pipelines.atera.privacy import Privacy
from pipelines.atera.schema import RAW_TABLES
from pipelines.atera.timestamps import UnreadableTimestamp
from pipelines.atera.timestamps import parse_timestamp as parse_instant

TIMESTAMP_COLUMNS = frozenset(
    column.name
    for table in RAW_TABLES.values()
    for column in table.columns
    if column.data_type == "timestamp"
)
"""snake_case names of every timestamp column of the raw schema."""

MAX_PROBLEMS = 1000
"""Problems kept per run (the run history keeps as many); further ones are not kept."""

_NAMING = NamingConvention()


@lru_cache(maxsize=4096)
def column_name(field: str) -> str:
    """The column an API field lands in (dlt's snake_case: `TicketID` -> `ticket_id`)."""
    return _NAMING.normalize_identifier(field)


def is_timestamp_field(field: str) -> bool:
    """Whether an API field is a date column of the raw schema."""
    return column_name(field) in TIMESTAMP_COLUMNS


class Problems:
    """Thread-safe list of what a run loaded as sent but could not read (for the summary)."""

    def __init__(self, items: list[str] | None = None) -> None:
        self.items: list[str] = [] if items is None else items
        self._lock = threading.Lock()

    def add(self, message: str) -> None:
        """Record one problem, unless MAX_PROBLEMS are kept already."""
        with self._lock:
            if len(self.items) < MAX_PROBLEMS:
                self.items.append(message)


def parse_timestamp(value: Any, naive_zone: tzinfo = UTC) -> Any:
    """An aware UTC datetime for a date string in any format Atera sends; else `value` unchanged.

    Args:
        value: `2024-02-15T09:00:00Z`, `2024-02-15T09:00:00.1234567` (no offset),
            `/Date(1708002000000)/`, None, ...
        naive_zone: the zone of values sent without an offset.
    """
    if not isinstance(value, str) or not value:
        return value
    try:
        return parse_instant(value, naive_zone)
    except UnreadableTimestamp:
        return value


def normalize_record(
    record: dict[str, Any],
    naive_zone: tzinfo = UTC,
    *,
    problems: Problems | None = None,
    privacy: Privacy | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """Copy an API record with its date fields parsed, plus `extra` fields.

    Args:
        record: one item of an API response.
        naive_zone: the zone of dates sent without an offset.
        problems: collects the date fields that could not be read (kept as sent).
        privacy: columns to hash or drop (`[privacy]`), applied last.
        extra: fields to add (the ticket id of a child record, `observed_at`).
    """
    row = dict(record)
    for field, value in record.items():
        if not isinstance(value, str) or not value or not is_timestamp_field(field):
            continue
        try:
            row[field] = parse_instant(value, naive_zone)
        except UnreadableTimestamp:
            if problems is not None:
                owner = record.get("TicketID") or record.get("ticketId") or extra.get("TicketID")
                problems.add(
                    f"ticket {owner}: {field} {value[:60]!r} is not a date in any format "
                    f"Atera sends (kept as text in {column_name(field)}__v_text)"
                )
    row.update(extra)
    if privacy is not None and privacy.active:
        privacy.apply(row, column_name)
    return row


def in_batches(rows: list[dict[str, Any]], size: int = 1000) -> Iterator[list[dict[str, Any]]]:
    """Hand rows to dlt in lists of `size`: fewer, larger items extract faster."""
    for start in range(0, len(rows), size):
        yield rows[start : start + size]


def comment_keys(ticket_id: int, comments: list[dict[str, Any]]) -> list[str]:
    """A stable key per comment of one ticket.

    The contract's comments have a `CommentID`: the key is that id. Atera's
    published API gives comments no id at all, so the key hashes what identifies
    one: the ticket, date, authors, internal flag and text, plus an occurrence
    number so that two identical comments on the same ticket stay two rows.
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


def as_utc(value: Any) -> datetime | None:
    """A datetime or date string from state or the warehouse as aware UTC, else None."""
    parsed = parse_timestamp(value)
    return parsed if isinstance(parsed, datetime) else None
