"""Which schemas point-in-time builds wrote (`atera-sync models --as-of [--schema]`).

They are user-facing like `analytics`: publishing, the live marts and exports
keep them. One row each in `atera_meta.point_in_time_builds`.
"""

from __future__ import annotations

import duckdb

POINT_IN_TIME_BUILDS = "atera_meta.point_in_time_builds"
"""`schema_name` (key), `as_of`, `built_at`."""


def record_point_in_time_build(con: duckdb.DuckDBPyConnection, schema: str, as_of: object) -> None:
    """Remember that `schema` holds the marts of a point-in-time build as of `as_of`."""
    con.execute("create schema if not exists atera_meta")
    con.execute(
        f"create table if not exists {POINT_IN_TIME_BUILDS} ("
        "schema_name varchar primary key, as_of timestamptz not null, "
        "built_at timestamptz not null)"
    )
    con.execute(
        f"insert or replace into {POINT_IN_TIME_BUILDS} values (?, ?, current_timestamp)",
        [schema, as_of],
    )


def point_in_time_schemas(con: duckdb.DuckDBPyConnection) -> list[str]:
    """The schemas that point-in-time builds wrote (see `record_point_in_time_build`)."""
    exists = con.execute(
        "select count(*) from duckdb_tables() where database_name = current_database() "
        "and schema_name = 'atera_meta' and table_name = 'point_in_time_builds'"
    ).fetchall()
    if not exists[0][0]:
        return []
    rows = con.execute(f"select schema_name from {POINT_IN_TIME_BUILDS} order by 1").fetchall()
    return [str(name) for (name,) in rows]
