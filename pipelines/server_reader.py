"""Read a server warehouse without writing to it: one consistent snapshot per command.

`atera-sync status`, `export` and `report` read a server warehouse through
`read_snapshot(warehouse)`: one read-only transaction, so every query of a
command sees the same state even while a run loads or swaps the marts in.

* PostgreSQL: an ADBC connection (`adbc-driver-postgresql`, already installed for
  dlt's Parquet loads) in a `REPEATABLE READ, READ ONLY` transaction with the
  session in UTC. ADBC hands over Arrow tables with the server's column types
  (timestamptz, date, bigint, numeric), which DuckDB reads as they are.
* The other servers: dlt's SQL client of the destination, in one transaction where
  the engine has them; rows become Arrow through dlt (types inferred from values).

No lock is taken: a run never blocks a reader, and a reader never blocks a run.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Protocol

import pyarrow as pa

from pipelines.destination import POSTGRES
from pipelines.server_warehouse import ServerWarehouse

logger = logging.getLogger("atera_sync.warehouse")


class ServerUnreachable(Exception):
    """The server refused the connection or the first query (the message has no secrets)."""


class Snapshot(Protocol):
    """What the readers need of a server: rows, Arrow tables, a DB-API-like cursor."""

    def rows(self, sql: str) -> list[tuple[Any, ...]]: ...

    def arrow(self, sql: str) -> pa.Table: ...


class SnapshotCursor:
    """`execute(sql)` then `fetchall()` over a snapshot (the `pipelines.status.Cursor` protocol)."""

    def __init__(self, snapshot: Snapshot) -> None:
        self.snapshot = snapshot
        self._rows: list[tuple[Any, ...]] = []

    def execute(self, operation: str, *args: Any) -> SnapshotCursor:
        if args:
            raise ValueError("the snapshot cursor takes SQL without parameters")
        self._rows = self.snapshot.rows(operation)
        return self

    def fetchall(self) -> list[tuple[Any, ...]]:
        return self._rows


class _AdbcSnapshot:
    def __init__(self, cursor: Any) -> None:
        self.cursor = cursor

    def rows(self, sql: str) -> list[tuple[Any, ...]]:
        self.cursor.execute(sql)
        return [tuple(row) for row in self.cursor.fetchall()]

    def arrow(self, sql: str) -> pa.Table:
        self.cursor.execute(sql)
        return self.cursor.fetch_arrow_table()


class _DltSnapshot:
    def __init__(self, client: Any) -> None:
        self.client = client

    def rows(self, sql: str) -> list[tuple[Any, ...]]:
        return [tuple(row) for row in self.client.execute_sql(sql) or []]

    def arrow(self, sql: str) -> pa.Table:
        with self.client.execute_query(sql) as cursor:
            table = cursor.arrow()
            if table is None:  # no rows: an empty table with the result's column names
                names = [column[0] for column in cursor.description or []]
                table = pa.table({name: pa.array([], pa.null()) for name in names})
            return table


@contextmanager
def read_snapshot(warehouse: ServerWarehouse) -> Iterator[Snapshot]:
    """One read-only transaction on the server; rolled back at the end.

    Raises:
        ServerUnreachable: the server cannot be reached or refused the credentials.
    """
    if warehouse.destination == POSTGRES:
        with _postgres_snapshot(warehouse) as snapshot:
            yield snapshot
        return
    with _dlt_snapshot(warehouse) as dlt_snapshot:
        yield dlt_snapshot


@contextmanager
def _postgres_snapshot(warehouse: ServerWarehouse) -> Iterator[Snapshot]:
    import adbc_driver_postgresql.dbapi as adbc

    try:
        connection = adbc.connect(warehouse.credentials.to_native_representation())
    except Exception as exc:
        raise _unreachable(warehouse, exc) from None
    try:
        cursor = connection.cursor()
        try:
            cursor.execute("set transaction isolation level repeatable read, read only")
            cursor.execute("set local time zone 'UTC'")
        except Exception as exc:
            raise _unreachable(warehouse, exc) from None
        yield _AdbcSnapshot(cursor)
    finally:
        try:
            connection.rollback()
        finally:
            connection.close()


@contextmanager
def _dlt_snapshot(warehouse: ServerWarehouse) -> Iterator[Snapshot]:
    try:
        context = warehouse.sql()
        client = context.__enter__()
    except Exception as exc:
        raise _unreachable(warehouse, exc) from None
    try:
        yield _DltSnapshot(client)
    finally:
        context.__exit__(None, None, None)


def _unreachable(warehouse: ServerWarehouse, exc: Exception) -> ServerUnreachable:
    reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    password = getattr(warehouse.credentials, "password", None)
    if password:
        reason = reason.replace(str(password), "***")
    return ServerUnreachable(f"cannot read {warehouse.label}: {reason}")
