"""The raw tables as the staging models may read them: every column, always typed.

The columns come from the one declaration of the raw schema,
`pipelines.atera.schema`.

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

from pipelines.atera import schema

RAW_SCHEMA = "atera_raw"
CONTRACT_SCHEMA = "raw_contract"

DELETED_TICKETS = schema.DELETED_TICKETS.name

RAW_CONTRACTS: Mapping[str, Mapping[str, str]] = {
    table.name: schema.sql_columns(table)
    for table in schema.RAW_TABLES.values()
    if table is not schema.DELETED_TICKETS
}
"""Raw table -> column -> SQL type, from the raw schema (`pipelines.atera.schema`)."""


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
