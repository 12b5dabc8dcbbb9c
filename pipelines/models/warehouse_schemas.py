"""The schemas the models own: publishing the marts, removing what no longer exists.

dbt builds the marts into `analytics__build`; `publish_marts` copies them into
`analytics` in one transaction, with their table and column comments, so a
reader of `analytics` sees the previous build or the new one, never a mix.
(DuckDB cannot move a table to another schema, hence the copy; the marts are
small next to the raw data.)

The project owns `staging`, `intermediate`, `model_inputs` and `analytics`:
relations there that the project no longer builds are removed, and the
relations of atera-sync 0.1's own engine (`raw_contract`) with them.
"""

from __future__ import annotations

import logging

import duckdb

from pipelines.sql_text import quote_identifier as _quote
from pipelines.sql_text import quote_literal as _literal

logger = logging.getLogger("atera_sync.models")

MARTS_SCHEMA = "analytics"
AS_OF_SCHEMA = "analytics_as_of"
"""Where point-in-time builds (`atera-sync models --as-of`) write their marts by default."""
BUILD_SUFFIX = "__build"
BUILD_SCHEMA = MARTS_SCHEMA + BUILD_SUFFIX
OWNED_SCHEMAS = ("staging", "intermediate", "model_inputs", MARTS_SCHEMA)
LEGACY_SCHEMAS = ("raw_contract",)
"""Schemas of atera-sync 0.1's model engine, gone since the dbt project."""


def drop_build_schema(con: duckdb.DuckDBPyConnection) -> None:
    """Remove the marts of a build that failed or was interrupted."""
    con.execute(f"drop schema if exists {_quote(BUILD_SCHEMA)} cascade")


def drop_legacy_relations(con: duckdb.DuckDBPyConnection) -> None:
    """Remove what atera-sync 0.1's engine created and the dbt project does not.

    `model_inputs` held tables that Python wrote; its relations are now dbt
    models and a seed of other shapes, rebuilt on every run.
    """
    for schema in (*LEGACY_SCHEMAS, "model_inputs"):
        con.execute(f"drop schema if exists {_quote(schema)} cascade")


def publish_marts(con: duckdb.DuckDBPyConnection, target: str = MARTS_SCHEMA) -> list[str]:
    """Replace the marts in `target` by the ones just built, in one transaction.

    Args:
        con: the working copy.
        target: `analytics`, or the schema of a point-in-time build.

    Returns:
        The marts published.
    """
    tables = con.execute(
        "select table_name, comment from duckdb_tables() "
        "where database_name = current_database() and schema_name = ? order by table_name",
        [BUILD_SCHEMA],
    ).fetchall()
    columns = con.execute(
        "select table_name, column_name, comment from duckdb_columns() "
        "where database_name = current_database() and schema_name = ? and comment is not null",
        [BUILD_SCHEMA],
    ).fetchall()
    con.begin()
    try:
        con.execute(f"create schema if not exists {_quote(target)}")
        for name, comment in tables:
            relation = f"{_quote(target)}.{_quote(name)}"
            con.execute(
                f"create or replace table {relation} as "
                f"select * from {_quote(BUILD_SCHEMA)}.{_quote(name)}"
            )
            if comment:
                con.execute(f"comment on table {relation} is {_literal(comment)}")
        for table, column, comment in columns:
            relation = f"{_quote(target)}.{_quote(table)}.{_quote(column)}"
            con.execute(f"comment on column {relation} is {_literal(comment)}")
        con.execute(f"drop schema {_quote(BUILD_SCHEMA)} cascade")
        con.commit()
    except BaseException:
        con.rollback()
        raise
    return [name for name, _ in tables]


def remove_stale_relations(
    con: duckdb.DuckDBPyConnection, built: set[str], marts_schema: str = MARTS_SCHEMA
) -> list[str]:
    """Drop relations of the owned schemas that the project did not build (`schema.name`).

    Args:
        con: the working copy.
        built: the relations this build made.
        marts_schema: the schema the marts were published to; `analytics` is owned
            only when it is that schema (a point-in-time build leaves it alone).

    Returns:
        The relations removed.
    """
    owned = [schema for schema in OWNED_SCHEMAS if schema != MARTS_SCHEMA] + [marts_schema]
    placeholders = ", ".join("?" for _ in owned)
    rows = con.execute(
        "select schema_name, table_name, 'table' from duckdb_tables() "
        f"where database_name = current_database() and schema_name in ({placeholders}) "
        "union all "
        "select schema_name, view_name, 'view' from duckdb_views() "
        f"where database_name = current_database() and schema_name in ({placeholders}) "
        "and not internal",
        [*owned, *owned],
    ).fetchall()
    removed: list[str] = []
    for schema, name, kind in rows:
        relation = f"{schema}.{name}"
        if relation in built:
            continue
        con.execute(f"drop {kind} if exists {_quote(schema)}.{_quote(name)}")
        removed.append(relation)
    if removed:
        logger.info("removed relations the models no longer build: %s", ", ".join(removed))
    return removed
