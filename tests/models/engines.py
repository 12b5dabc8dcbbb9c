"""The same raw data on both engines: copy a DuckDB file's `atera_raw` into a PostgreSQL
database, build the models there, and read relations of either engine as comparable rows.

Column types follow what dlt creates on PostgreSQL for the DuckDB ones (bigint, varchar,
timestamptz, double precision, boolean, numeric, jsonb).
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import psycopg2
from psycopg2.extras import execute_values

from pipelines.models import ModelsResult
from pipelines.models.server_runner import run_models_on_server
from pipelines.server_warehouse import ServerWarehouse

CREDENTIALS_ENV = "DESTINATION__POSTGRES__CREDENTIALS"

_POSTGRES_TYPES = {
    "BIGINT": "bigint",
    "INTEGER": "integer",
    "SMALLINT": "smallint",
    "VARCHAR": "varchar",
    "BOOLEAN": "boolean",
    "DOUBLE": "double precision",
    "FLOAT": "real",
    "DATE": "date",
    "TIMESTAMP": "timestamp",
    "TIMESTAMP WITH TIME ZONE": "timestamptz",
    "JSON": "jsonb",
}


def postgres_type(duckdb_type: str) -> str:
    """The PostgreSQL type dlt would create for a DuckDB column type."""
    decimal = re.fullmatch(r"DECIMAL\((\d+),\s*(\d+)\)", duckdb_type)
    if decimal:
        return f"numeric({decimal.group(1)}, {decimal.group(2)})"
    return _POSTGRES_TYPES[duckdb_type]


def copy_schema(con: duckdb.DuckDBPyConnection, dsn: str, schema: str = "atera_raw") -> list[str]:
    """Copy every table of `schema` (dlt's own `_dlt_*` tables excepted) into PostgreSQL."""
    tables = [
        name
        for (name,) in con.execute(
            "select table_name from information_schema.tables "
            "where table_schema = ? and table_type = 'BASE TABLE' "
            "and not starts_with(table_name, '_dlt') order by 1",
            [schema],
        ).fetchall()
    ]
    with psycopg2.connect(dsn) as pg, pg.cursor() as cursor:
        cursor.execute(f"create schema if not exists {schema}")
        for table in tables:
            columns = con.execute(
                "select column_name, data_type from information_schema.columns "
                "where table_schema = ? and table_name = ? order by ordinal_position",
                [schema, table],
            ).fetchall()
            ddl = ", ".join(f'"{name}" {postgres_type(kind)}' for name, kind in columns)
            cursor.execute(f"drop table if exists {schema}.{table}")
            cursor.execute(f"create table {schema}.{table} ({ddl})")
            rows = con.execute(f"select * from {schema}.{table}").fetchall()
            if rows:
                execute_values(cursor, f"insert into {schema}.{table} values %s", rows)
    return tables


@contextmanager
def credentials(dsn: str) -> Iterator[None]:
    """dlt's PostgreSQL credentials set to `dsn` for the length of the block."""
    saved = os.environ.get(CREDENTIALS_ENV)
    os.environ[CREDENTIALS_ENV] = dsn
    try:
        yield
    finally:
        if saved is None:
            os.environ.pop(CREDENTIALS_ENV, None)
        else:
            os.environ[CREDENTIALS_ENV] = saved


def build_on_postgres(dsn: str, state_root: Path, **arguments: Any) -> ModelsResult:
    """`run_models_on_server` on the database of `dsn` (arguments as `run_models`)."""
    with credentials(dsn):
        return run_models_on_server(ServerWarehouse("postgres", state_root), **arguments)


def postgres_rows(dsn: str, sql: str) -> list[dict[str, Any]]:
    """A query's rows as dicts, timestamps in UTC."""
    with psycopg2.connect(dsn) as pg, pg.cursor() as cursor:
        cursor.execute(sql)
        names = [column[0] for column in cursor.description or []]
        return [
            {name: _utc(value) for name, value in zip(names, row, strict=True)}
            for row in cursor.fetchall()
        ]


def duckdb_rows(con: duckdb.DuckDBPyConnection, sql: str) -> list[dict[str, Any]]:
    """A query's rows as dicts, timestamps in UTC."""
    cursor = con.execute(sql)
    names = [column[0] for column in cursor.description]
    return [
        {name: _utc(value) for name, value in zip(names, row, strict=True)}
        for row in cursor.fetchall()
    ]


def _utc(value: Any) -> Any:
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value.astimezone(UTC)
    return value


def comparable(value: Any) -> Any:
    """A value as the parity test compares it: numbers as floats (NaN as None), instants
    in UTC."""
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int | float | Decimal):
        number = float(value)
        return None if math.isnan(number) else number
    return _utc(value)


class PostgresRawDatabase:
    """A `RawDatabase`'s `atera_raw` copied into a PostgreSQL database, with the same
    `rows` and `sla` readers, and `build` in place of `run_models`."""

    def __init__(self, con: duckdb.DuckDBPyConnection, dsn: str, state_root: Path) -> None:
        self.dsn = dsn
        self.state_root = state_root
        copy_schema(con, dsn)

    def build(self, **arguments: Any) -> ModelsResult:
        return build_on_postgres(self.dsn, self.state_root, **arguments)

    def rows(self, sql: str) -> list[dict[str, Any]]:
        return postgres_rows(self.dsn, sql)

    def sla(self) -> dict[int, dict[str, Any]]:
        """`analytics.fct_ticket_first_response_sla` keyed by ticket_id."""
        return {
            row["ticket_id"]: row
            for row in self.rows("select * from analytics.fct_ticket_first_response_sla")
        }


ENGINES = ("duckdb", "postgres")
"""The engines the golden tests run on (`params` of their module-scoped fixtures)."""


def on_postgres(
    request: Any, con: duckdb.DuckDBPyConnection, state_root: Path
) -> PostgresRawDatabase:
    """`con`'s raw tables in a new database of the session's PostgreSQL server (the
    `postgres_server` fixture: skipped, loudly, where PostgreSQL is missing)."""
    server = request.getfixturevalue("postgres_server")
    return PostgresRawDatabase(con, server.dsn(server.create_database("golden")), state_root)
