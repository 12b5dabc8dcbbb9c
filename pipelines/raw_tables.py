"""Give the warehouse every raw table and column the raw schema declares.

dlt creates a table with all its declared columns, typed, even the ones that
never get a value; but it creates no table that never received rows, and it
adds newly declared columns to an existing table only when a load brings
rows for that table. So `atera_raw.deleted_tickets` would be missing until the
first reconciliation, and a warehouse written by an older version would lack
columns until their table next changes. The SQL models read every declared
table and column, so before they run, this adds what is missing: empty and
typed. It speaks plain SQL through any `execute(sql) -> rows` function (a
DuckDB connection, dlt's SQL client), so it serves every destination.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Any

from pipelines.atera.schema import DLT_COLUMNS, RAW_TABLES, SQL_TYPES, sql_columns
from pipelines.sql_text import quote_identifier as _quote

logger = logging.getLogger("atera_sync.raw_tables")

RAW_DATASET = "atera_raw"

Execute = Callable[[str], Sequence[Sequence[Any]] | None]
"""Runs one SQL statement and returns its rows (or None for DDL)."""


def complete_raw_tables(execute: Execute, dataset: str = RAW_DATASET) -> list[str]:
    """Create the declared raw tables and columns that the warehouse lacks.

    Args:
        execute: runs a statement on the warehouse.
        dataset: the schema of the raw tables.

    Returns:
        What was added: `table` for a new table, `table.column` for a new column.
    """
    rows = execute(
        "select table_name, column_name from information_schema.columns "
        f"where table_schema = '{dataset}'"
    )
    present: dict[str, set[str]] = {}
    for table_name, column_name in rows or []:
        present.setdefault(str(table_name), set()).add(str(column_name))
    added: list[str] = []
    schema = _quote(dataset)
    execute(f"create schema if not exists {schema}")
    for table in RAW_TABLES.values():
        qualified = f"{schema}.{_quote(table.name)}"
        if table.name not in present:
            columns = {**sql_columns(table), **DLT_COLUMNS}
            ddl = ", ".join(f"{_quote(name)} {kind}" for name, kind in columns.items())
            execute(f"create table {qualified} ({ddl})")
            added.append(table.name)
            continue
        for column in table.columns:
            if column.name not in present[table.name]:
                kind = SQL_TYPES[column.data_type]
                execute(f"alter table {qualified} add column {_quote(column.name)} {kind}")
                added.append(f"{table.name}.{column.name}")
    if added:
        logger.info("added declared raw tables and columns: %s", ", ".join(added))
    return added
