"""Copy tables from a DuckDB warehouse file into PostgreSQL, rows and types intact.

The file is opened read-only. Each table is read as Arrow record batches and
streamed to the server with `COPY ... FROM STDIN (FORMAT csv)`, on the
caller's connection and inside the caller's transaction. In that CSV a NULL is
an empty unquoted field and every text value is quoted, so NULL and the empty
string stay apart; timestamps carry their UTC offset; JSON travels as text.
A server table the copy needs but lacks is created (or widened) with the
PostgreSQL types of the file's columns.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.csv as pa_csv

from pipelines.sql_text import quote_identifier as _quote

BATCH_ROWS = 50_000
"""Rows per COPY: bounds the memory a table of any size takes."""

_SERVER_TYPES = {
    "BIGINT": "bigint",
    "INTEGER": "integer",
    "SMALLINT": "smallint",
    "VARCHAR": "varchar",
    "DOUBLE": "double precision",
    "FLOAT": "real",
    "BOOLEAN": "boolean",
    "TIMESTAMP WITH TIME ZONE": "timestamptz",
    "TIMESTAMP": "timestamp",
    "DATE": "date",
    "TIME": "time",
    "JSON": "jsonb",
    "UUID": "uuid",
}


class SourceError(Exception):
    """The DuckDB file cannot be read as an atera-sync warehouse; the message says why."""


@dataclass(frozen=True)
class SourceTable:
    """One base table of the file: `schema.name` and its columns with DuckDB types."""

    schema: str
    name: str
    columns: tuple[tuple[str, str], ...]

    @property
    def qualified(self) -> str:
        return f"{_quote(self.schema)}.{_quote(self.name)}"


def open_source(path: Path) -> duckdb.DuckDBPyConnection:
    """The DuckDB file, read-only (nothing in it or beside it is written).

    Raises:
        SourceError: the file is missing or cannot be opened.
    """
    if not path.is_file():
        raise SourceError(
            f"{path} does not exist: give --from-duckdb the file that `atera-sync run` "
            "publishes (data/atera.duckdb by default)"
        )
    try:
        con = duckdb.connect(str(path), read_only=True)
    except duckdb.Error as exc:
        raise SourceError(
            f"cannot open {path} read-only: {str(exc).splitlines()[0]} (if a run is "
            "writing it, try again when it has finished)"
        ) from None
    con.execute("set TimeZone = 'UTC'")
    return con


def source_tables(con: duckdb.DuckDBPyConnection, schemas: tuple[str, ...]) -> list[SourceTable]:
    """The base tables (not views) of `schemas` in the file, with their columns in order."""
    placeholders = ", ".join("?" for _ in schemas)
    rows = con.execute(
        "select c.table_schema, c.table_name, c.column_name, c.data_type "
        "from information_schema.columns c join information_schema.tables t "
        "on t.table_catalog = c.table_catalog and t.table_schema = c.table_schema "
        "and t.table_name = c.table_name "
        f"where c.table_catalog = current_database() and c.table_schema in ({placeholders}) "
        "and t.table_type = 'BASE TABLE' "
        "order by c.table_schema, c.table_name, c.ordinal_position",
        list(schemas),
    ).fetchall()
    columns: dict[tuple[str, str], list[tuple[str, str]]] = {}
    for schema, table, column, kind in rows:
        columns.setdefault((schema, table), []).append((column, kind))
    return [SourceTable(s, t, tuple(cols)) for (s, t), cols in columns.items()]


def server_type(duckdb_type: str) -> str:
    """PostgreSQL's type for a DuckDB column type.

    Raises:
        SourceError: a type atera-sync never writes (the file is not one of its warehouses).
    """
    kind = duckdb_type.upper()
    if kind.startswith("DECIMAL"):
        return kind.replace("DECIMAL", "numeric")
    if kind not in _SERVER_TYPES:
        raise SourceError(f"column type {duckdb_type} has no PostgreSQL counterpart here")
    return _SERVER_TYPES[kind]


def ensure_server_table(cursor: Any, table: SourceTable) -> None:
    """Create the table on the server, or add the columns it lacks, typed from the file."""
    cursor.execute(
        "select column_name from information_schema.columns "
        "where table_schema = %s and table_name = %s",
        (table.schema, table.name),
    )
    present = {name for (name,) in cursor.fetchall()}
    cursor.execute(f"create schema if not exists {_quote(table.schema)}")
    if not present:
        ddl = ", ".join(f"{_quote(c)} {server_type(k)}" for c, k in table.columns)
        cursor.execute(f"create table {table.qualified} ({ddl})")
        return
    for column, kind in table.columns:
        if column not in present:
            cursor.execute(
                f"alter table {table.qualified} add column {_quote(column)} {server_type(kind)}"
            )


def copy_table(con: duckdb.DuckDBPyConnection, cursor: Any, table: SourceTable) -> int:
    """Append every row of the file's table to the same table on the server; the row count."""
    names = ", ".join(_quote(c) for c, _ in table.columns)
    copy = f"copy {table.qualified} ({names}) from stdin with (format csv)"
    rows = 0
    for batch in _batches(con, table):
        if batch.num_rows == 0:
            continue
        buffer = io.BytesIO()
        pa_csv.write_csv(batch, buffer, pa_csv.WriteOptions(include_header=False))
        buffer.seek(0)
        cursor.copy_expert(copy, buffer)
        rows += batch.num_rows
    return rows


def _batches(con: duckdb.DuckDBPyConnection, table: SourceTable) -> Iterator[pa.RecordBatch]:
    # JSON as its text (Arrow has no JSON type every version writes as CSV)
    select = ", ".join(
        f"cast({_quote(c)} as varchar) as {_quote(c)}" if k.upper() == "JSON" else _quote(c)
        for c, k in table.columns
    )
    relation = con.sql(f"select {select} from {table.qualified}")
    reader = getattr(relation, "fetch_arrow_reader", None) or relation.fetch_record_batch
    yield from reader(BATCH_ROWS)
