"""The raw tables as the staging models may read them: every column, always typed.

dlt creates no table that never received rows, and no column that was
always null; Atera's published API also names some fields differently from
the ticket contract. So staging never reads `atera_raw` directly: for each raw
table the runner creates a view `raw_contract.<table>` that is an empty, typed
row of every column staging may use, `UNION ALL BY NAME` the raw table when it
exists. A missing table gives an empty view, a missing column gives nulls, and
columns that are not in the contract (dlt's `_dlt_*`, variant columns) pass
through untouched.
"""

from __future__ import annotations

from collections.abc import Mapping

import duckdb

RAW_SCHEMA = "atera_raw"
CONTRACT_SCHEMA = "raw_contract"

_DLT = {"_dlt_load_id": "varchar", "_dlt_id": "varchar"}
DELETED_TICKETS = "deleted_tickets"

RAW_CONTRACTS: Mapping[str, Mapping[str, str]] = {
    "tickets": {
        "ticket_id": "bigint",
        "ticket_number": "varchar",
        "ticket_title": "varchar",
        "description": "varchar",
        "first_comment": "varchar",
        "ticket_priority": "varchar",
        "ticket_status": "varchar",
        "ticket_type": "varchar",
        "ticket_impact": "varchar",
        "ticket_source": "varchar",
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
        "technician_first_comment_date": "timestamptz",
        "last_activity_date": "timestamptz",
        "last_end_user_comment_timestamp": "timestamptz",
        "last_technician_comment_timestamp": "timestamptz",
        "due_date": "timestamptz",
        "first_response_due_date": "timestamptz",
        "closed_ticket_due_date": "timestamptz",
        **_DLT,
    },
    "comments": {
        "comment_id": "bigint",
        "comment_key": "varchar",
        "ticket_id": "bigint",
        "comment_text": "varchar",
        "comment": "varchar",
        "comment_html": "varchar",
        "comment_date": "timestamptz",
        "date": "timestamptz",
        "creator_contact_id": "bigint",
        "end_user_id": "bigint",
        "technician_contact_id": "bigint",
        "email": "varchar",
        "first_name": "varchar",
        "last_name": "varchar",
        "is_internal": "boolean",
        **_DLT,
    },
    "work_hours": {
        "work_hour_id": "bigint",
        "work_hours_id": "bigint",
        "ticket_id": "bigint",
        "technician_contact_id": "bigint",
        "start_date": "timestamptz",
        "end_date": "timestamptz",
        "start_work_hour": "timestamptz",
        "end_work_hour": "timestamptz",
        "duration": "bigint",
        "is_billable": "boolean",
        "billiable": "boolean",
        "on_customer_site": "boolean",
        "rate_amount": "double",
        "notes": "varchar",
        **_DLT,
    },
    "billable_durations": {
        "ticket_id": "bigint",
        "total_billable_duration": "bigint",
        "total_billable_hours": "double",
        **_DLT,
    },
    "ticket_status_snapshots": {
        "ticket_id": "bigint",
        "ticket_status": "varchar",
        "ticket_priority": "varchar",
        "observed_at": "timestamptz",
        "last_activity_date": "timestamptz",
        **_DLT,
    },
}
"""Raw table -> column -> DuckDB type: the seed's fields and the published API's variants."""


def _quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def existing_raw_tables(con: duckdb.DuckDBPyConnection) -> set[str]:
    """Names of the tables and views present in `atera_raw` of the current database."""
    rows = con.execute(
        """
        select table_name
        from information_schema.tables
        where table_schema = ? and table_catalog = current_database()
        """,
        [RAW_SCHEMA],
    ).fetchall()
    return {name for (name,) in rows}


def contract_view_sql(table: str, raw_exists: bool, deletions_exist: bool = False) -> str:
    """The `select` behind `raw_contract.<table>`.

    When `atera_raw.deleted_tickets` exists, rows of tickets that Atera no longer
    has (found by `atera-sync reconcile`) are left out of every table.
    """
    columns = ",\n    ".join(
        f"cast(null as {data_type}) as {_quote(column)}"
        for column, data_type in RAW_CONTRACTS[table].items()
    )
    sql = f"select\n    {columns}\nwhere false"
    if raw_exists:
        sql += f"\nunion all by name\nselect * from {RAW_SCHEMA}.{_quote(table)}"
        if deletions_exist:
            sql = (
                f"select * from (\n{sql}\n) as raw_rows\nwhere ticket_id not in (\n"
                f"    select ticket_id from {RAW_SCHEMA}.{DELETED_TICKETS}\n"
                "    where deleted_at is not null\n)"
            )
    return sql


def create_contract_views(con: duckdb.DuckDBPyConnection) -> dict[str, bool]:
    """Create or replace every `raw_contract.<table>` view.

    Returns:
        Raw table -> whether it exists in `atera_raw` (False: the view is empty).
    """
    present = existing_raw_tables(con)
    con.execute(f"create schema if not exists {CONTRACT_SCHEMA}")
    found: dict[str, bool] = {}
    for table in RAW_CONTRACTS:
        found[table] = table in present
        con.execute(
            f"create or replace view {CONTRACT_SCHEMA}.{_quote(table)} as\n"
            + contract_view_sql(table, found[table], DELETED_TICKETS in present)
        )
    return found
