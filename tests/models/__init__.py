"""Tests of the SQL models; `RawDatabase` builds tiny `atera_raw` tables by hand.

Column types follow what dlt writes: bigint ids, varchar text, boolean flags and
UTC `timestamp with time zone` dates, plus `_dlt_load_id` and `_dlt_id`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb

SEED_COLUMNS: Mapping[str, Mapping[str, str]] = {
    "tickets": {
        "ticket_id": "bigint",
        "ticket_title": "varchar",
        "description": "varchar",
        "ticket_priority": "varchar",
        "ticket_status": "varchar",
        "ticket_type": "varchar",
        "customer_id": "bigint",
        "customer_name": "varchar",
        "end_user_id": "bigint",
        "end_user_email": "varchar",
        "end_user_first_name": "varchar",
        "end_user_last_name": "varchar",
        "technician_contact_id": "bigint",
        "technician_full_name": "varchar",
        "technician_email": "varchar",
        "ticket_created_date": "timestamptz",
        "ticket_resolved_date": "timestamptz",
        "first_response_date": "timestamptz",
        "last_activity_date": "timestamptz",
        "due_date": "timestamptz",
        "ticket_source": "varchar",
    },
    "comments": {
        "comment_key": "varchar",
        "comment_id": "bigint",
        "ticket_id": "bigint",
        "comment_text": "varchar",
        "comment_date": "timestamptz",
        "creator_contact_id": "bigint",
        "is_internal": "boolean",
    },
    "work_hours": {
        "work_hour_id": "bigint",
        "ticket_id": "bigint",
        "technician_contact_id": "bigint",
        "start_date": "timestamptz",
        "end_date": "timestamptz",
        "duration": "bigint",
        "is_billable": "boolean",
        "notes": "varchar",
    },
    "billable_durations": {
        "ticket_id": "bigint",
        "total_billable_duration": "bigint",
        "total_billable_hours": "double",
    },
    "ticket_status_snapshots": {
        "ticket_id": "bigint",
        "ticket_status": "varchar",
        "ticket_priority": "varchar",
        "observed_at": "timestamptz",
        "last_activity_date": "timestamptz",
    },
}
"""The ticket contract's shape, as dlt loads it."""

PUBLISHED_COLUMNS: Mapping[str, Mapping[str, str]] = {
    "tickets": {
        "ticket_id": "bigint",
        "ticket_number": "varchar",
        "ticket_title": "varchar",
        "ticket_priority": "varchar",
        "ticket_status": "varchar",
        "ticket_impact": "varchar",
        "customer_id": "bigint",
        "customer_name": "varchar",
        "end_user_id": "bigint",
        "technician_contact_id": "bigint",
        "technician_full_name": "varchar",
        "ticket_created_date": "timestamptz",
        "ticket_resolved_date": "timestamptz",
        "technician_first_comment_date": "timestamptz",
        "first_response_due_date": "timestamptz",
        "closed_ticket_due_date": "timestamptz",
        "last_end_user_comment_timestamp": "timestamptz",
        "last_technician_comment_timestamp": "timestamptz",
    },
    "comments": {
        "comment_key": "varchar",
        "ticket_id": "bigint",
        "date": "timestamptz",
        "comment": "varchar",
        "comment_html": "varchar",
        "end_user_id": "bigint",
        "technician_contact_id": "bigint",
        "email": "varchar",
        "first_name": "varchar",
        "last_name": "varchar",
        "is_internal": "boolean",
    },
    "work_hours": {
        "work_hour_id": "bigint",
        "work_hours_id": "bigint",
        "ticket_id": "bigint",
        "technician_contact_id": "bigint",
        "start_work_hour": "timestamptz",
        "end_work_hour": "timestamptz",
        "billiable": "boolean",
        "on_customer_site": "boolean",
        "rate_amount": "double",
    },
}
"""Atera's published API v3 shape, as dlt loads it."""


def ts(text: str) -> datetime:
    """`'2024-01-01 10:00'` (UTC) -> aware datetime."""
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


class RawDatabase:
    """A DuckDB file with an `atera_raw` schema filled by hand."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.con = duckdb.connect(str(path))
        self.con.execute("create schema if not exists atera_raw")
        self._dlt_ids = 0

    def table(
        self,
        name: str,
        rows: Sequence[Mapping[str, Any]],
        columns: Mapping[str, str] | None = None,
    ) -> None:
        """Create `atera_raw.<name>` with `columns` (default: the seed's) and `rows`."""
        columns = dict(columns or SEED_COLUMNS[name])
        unknown = {key for row in rows for key in row} - columns.keys()
        assert not unknown, f"columns not in the {name} shape: {unknown}"
        columns.update({"_dlt_load_id": "varchar", "_dlt_id": "varchar"})
        ddl = ", ".join(f'"{column}" {data_type}' for column, data_type in columns.items())
        self.con.execute(f"create or replace table atera_raw.{name} ({ddl})")
        placeholders = ", ".join("?" for _ in columns)
        for row in rows:
            self._dlt_ids += 1
            values = {**row, "_dlt_load_id": "1700000000.0", "_dlt_id": f"id{self._dlt_ids}"}
            if name == "comments" and row.get("comment_id") is not None:
                # the loader keys the contract's comments by their CommentID
                values.setdefault("comment_key", str(row["comment_id"]))
            self.con.execute(
                f"insert into atera_raw.{name} values ({placeholders})",
                [values.get(column) for column in columns],
            )

    def rows(self, sql: str) -> list[dict[str, Any]]:
        """Run a query and return its rows as dicts."""
        cursor = self.con.execute(sql)
        names = [column[0] for column in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]

    def sla(self) -> dict[int, dict[str, Any]]:
        """`analytics.fct_ticket_first_response_sla` keyed by ticket_id."""
        return {
            row["ticket_id"]: row
            for row in self.rows("select * from analytics.fct_ticket_first_response_sla")
        }
