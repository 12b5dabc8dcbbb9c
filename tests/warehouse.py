"""Compare what landed in the warehouse (a DuckDB file, or a PostgreSQL database given by
its `postgresql://` address) with what the sandbox serves."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb
from dlt.common.normalizers.naming.snake_case import NamingConvention

from pipelines.atera.records import parse_timestamp
from pipelines.sync import make_pipeline
from pipelines.warehouse import Warehouse

_naming = NamingConvention()

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
        "TechnicianFirstCommentDate",
        "FirstResponseDueDate",
        "ClosedTicketDueDate",
        "LastEndUserCommentTimestamp",
        "LastTechnicianCommentTimestamp",
        "Date",
        "StartWorkHour",
        "EndWorkHour",
        "CreatedOn",
        "LastModified",
    }
)
"""The API's date fields in both shapes, which land as UTC timestamps (kept apart from
the code's own schema on purpose)."""

KEYS = {
    "tickets": ("TicketID",),
    "comments": ("CommentID",),
    "work_hours": ("WorkHourID",),
    "billable_durations": ("TicketID",),
}


def snake(name: str) -> str:
    """dlt's snake_case of an API field name."""
    return _naming.normalize_identifier(name)


def expected_rows(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """API records as they should look in the warehouse (snake_case, UTC datetimes)."""
    return [
        {snake(k): (parse_timestamp(v) if k in TIMESTAMP_FIELDS else v) for k, v in record.items()}
        for record in records
    ]


Target = Path | str
"""A DuckDB file, or a PostgreSQL database's `postgresql://` address."""


def query_rows(target: Target, sql: str) -> tuple[list[str], list[tuple]]:
    """Column names and rows of one query, in UTC, on either kind of warehouse."""
    if isinstance(target, str) and target.startswith("postgresql://"):
        import psycopg2

        with psycopg2.connect(target, options="-c TimeZone=UTC") as con, con.cursor() as cur:
            cur.execute(sql)
            return [d[0] for d in cur.description], cur.fetchall()
    with duckdb.connect(str(target), read_only=True) as con:
        con.execute("set TimeZone = 'UTC'")
        cursor = con.execute(sql)
        return [d[0] for d in cursor.description], cursor.fetchall()


def warehouse_rows(target: Target, table: str) -> list[dict[str, Any]]:
    """Every row of atera_raw.<table>, without dlt's bookkeeping columns."""
    names, rows = query_rows(target, f"select * from atera_raw.{table}")
    return [
        {k: v for k, v in zip(names, row, strict=True) if not k.startswith("_dlt")} for row in rows
    ]


def assert_table_matches(
    duckdb_path: Target, table: str, api_records: list[dict], key_field: str | None = None
) -> None:
    """The warehouse table holds exactly the API's records: same keys, same values."""
    key = snake(key_field or KEYS[table][0])
    expected = {row[key]: row for row in expected_rows(api_records)}
    actual_rows = warehouse_rows(duckdb_path, table)
    actual_keys = [row[key] for row in actual_rows]
    assert len(actual_keys) == len(set(actual_keys)), f"duplicate {key} in atera_raw.{table}"
    actual = {row[key]: row for row in actual_rows}
    assert set(actual) == set(expected), (
        f"atera_raw.{table}: missing {sorted(set(expected) - set(actual))[:10]}, "
        f"extra {sorted(set(actual) - set(expected))[:10]}"
    )
    for k, row in expected.items():
        got = {c: actual[k].get(c) for c in row}
        assert got == row, f"atera_raw.{table} row {k} differs: {got} != {row}"


def state_of(duckdb_path: Path) -> dict[str, Any]:
    """The Atera source state as the warehouse holds it (restored like a fresh machine)."""
    pipeline = make_pipeline(Warehouse.at(duckdb_path))
    pipeline.sync_destination()
    return dict(pipeline.state.get("sources", {}).get("atera", {}))


def table_fingerprint(duckdb_path: Path) -> dict[str, list[tuple]]:
    """All rows of every atera_raw data table, sorted, including dlt's load ids."""
    with duckdb.connect(str(duckdb_path), read_only=True) as con:
        names = [
            r[0]
            for r in con.execute(
                "select table_name from information_schema.tables "
                "where table_schema = 'atera_raw' and table_name not like '_dlt%'"
            ).fetchall()
        ]
        return {
            name: sorted(con.execute(f"select * from atera_raw.{name}").fetchall(), key=repr)
            for name in names
        }
