"""Give existing raw tables every column the raw schema declares.

dlt creates a table with all its declared columns, typed, even the ones that
never get a value; but it adds newly declared columns to an existing table
only when a load brings rows for that table. A warehouse written by an older
version would then lack a declared column until its table next changes, and
the SQL models could not rely on the raw schema. After each run's loads, this
step adds what is missing (empty, typed), through dlt's SQL client, so the
same code serves every destination dlt's SQL client speaks.
"""

from __future__ import annotations

import logging

import dlt

from pipelines.atera.schema import RAW_TABLES, SQL_TYPES

logger = logging.getLogger("atera_sync.raw_columns")


def add_missing_columns(pipeline: dlt.Pipeline) -> list[str]:
    """Add the declared columns that existing raw tables lack.

    Tables that do not exist yet are left alone (dlt creates them, complete,
    with their first rows).

    Returns:
        The `table.column` names added.
    """
    added: list[str] = []
    with pipeline.sql_client() as client:
        rows = client.execute_sql(
            "select table_name, column_name from information_schema.columns "
            "where table_schema = %s",
            pipeline.dataset_name,
        )
        present: dict[str, set[str]] = {}
        for table, column in rows or []:
            present.setdefault(table, set()).add(column)
        for table in RAW_TABLES.values():
            if table.name not in present:
                continue
            for column in table.columns:
                if column.name in present[table.name]:
                    continue
                client.execute_sql(
                    f"alter table {client.make_qualified_table_name(table.name)} "
                    f"add column {client.escape_column_name(column.name)} "
                    f"{SQL_TYPES[column.data_type]}"
                )
                added.append(f"{table.name}.{column.name}")
    if added:
        logger.info(
            "added %d declared columns to existing raw tables: %s", len(added), ", ".join(added)
        )
    return added
