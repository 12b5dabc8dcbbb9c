"""Move an existing DuckDB warehouse onto a PostgreSQL server, history and watermark included.

The API cannot give back what only the warehouse remembers: the status
snapshots and ticket versions of earlier runs, deleted tickets, the run
history. `migrate_duckdb` copies, from the DuckDB file that `atera-sync run`
published (opened read-only, never changed):

* every table of `atera_raw` with dlt's own columns, created first by dlt
  from the file's stored dlt schema, so the server's tables are the ones a
  load through dlt would have created;
* dlt's bookkeeping tables (`_dlt_version`, `_dlt_loads`,
  `_dlt_pipeline_state`): the watermark is in dlt's state, so the next
  `atera-sync run --destination postgres` restores it from the server and is
  incremental;
* the tables of `atera_meta` (run history, privacy settings), except
  `point_in_time_builds`: the marts are not copied, they are built afresh on the
  server at the end, and point-in-time schemas are rebuilt with
  `atera-sync models --as-of ... --destination postgres` when wanted.

It holds the server's run lock throughout, refuses a server warehouse that
already holds data unless told to replace it, and copies every row in ONE
transaction: if it fails or is killed halfway, the server keeps what it had
(readers of a replaced warehouse see the old rows until the commit), and
running the command again is safe. dlt's local working folder for the server
is discarded before and after, so nothing cached locally outlives the copy.
"""

from __future__ import annotations

import base64
import contextlib
import json
import logging
import shutil
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb
from dlt.common.schema import Schema

from pipelines.migrate_copy import (
    SourceError,
    SourceTable,
    copy_table,
    ensure_server_table,
    open_source,
    source_tables,
)
from pipelines.raw_tables import complete_raw_tables
from pipelines.server_sql import history_ddl
from pipelines.server_warehouse import DATASET_NAME, PIPELINE_NAME, ServerWarehouse
from pipelines.sql_text import quote_identifier as _quote

logger = logging.getLogger("atera_sync.migrate")

META_SCHEMA = "atera_meta"
NOT_COPIED = frozenset({(META_SCHEMA, "point_in_time_builds")})
"""Tables that describe DuckDB-only objects (point-in-time mart schemas are not copied)."""

VERSION_TABLE = "_dlt_version"


class MigrationError(Exception):
    """The migration failed; the message says why and what to do."""


class MigrationRefused(MigrationError):
    """Nothing was done: bad input, or the server warehouse already holds data."""


class MigrationModelsFailed(MigrationError):
    """The data was migrated, but the SQL models failed to build on the server."""


@dataclass
class MigrationResult:
    """What was copied, and how fast."""

    source: Path
    label: str
    destination: str
    rows: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    watermark: datetime | None = None
    models: Any = None
    point_in_time_builds: list[tuple[str, datetime]] = field(default_factory=list)
    """(schema, as_of) of the file's point-in-time builds: not copied, rebuild them with
    `atera-sync models --as-of AS_OF --schema SCHEMA --destination ...`."""

    @property
    def rows_per_second(self) -> float:
        return sum(self.rows.values()) / self.seconds if self.seconds else 0.0


def migrate_duckdb(
    source: Path,
    warehouse: ServerWarehouse,
    *,
    replace: bool = False,
    build_models: Callable[[ServerWarehouse], Any] | None = None,
) -> MigrationResult:
    """Copy the DuckDB warehouse at `source` into `warehouse`, then build the models there.

    Raises:
        MigrationRefused: `source` is no atera-sync warehouse, or the server warehouse holds
            data and `replace` is not set; nothing was changed.
        ServerLockTaken: a run holds the server's lock; nothing was changed.
        MigrationError: the copy failed; the server keeps what it had.
        MigrationModelsFailed: the data was copied; the models did not build.
    """
    try:
        con = open_source(source)
    except SourceError as exc:
        raise MigrationRefused(str(exc)) from None
    with con:
        tables, stored = _read_source(con, source)
        result = MigrationResult(source, warehouse.label, warehouse.destination)
        result.watermark = _last_watermark(con)
        result.point_in_time_builds = _point_in_time_builds(con)
        with warehouse.lock():
            occupied = _tables_with_rows(warehouse)
            if occupied and not replace:
                raise MigrationRefused(
                    f"{warehouse.label} already holds a warehouse ({', '.join(occupied[:3])} "
                    "hold rows): migrate into an empty database, or pass --replace to replace "
                    "its raw data and run history with the file's; nothing was changed"
                )
            # the local folder may hold a package of a killed run on the warehouse being
            # replaced, or a cached state: neither must reach the migrated one
            _discard_local_state(warehouse)
            started = time.perf_counter()
            _create_dlt_tables(warehouse, stored)
            result.rows = _copy_all(con, warehouse, tables, replace=replace)
            result.seconds = time.perf_counter() - started
            con.close()  # the file is free while the models build
            _discard_local_state(warehouse)
            if build_models is not None:
                result.models = _build(build_models, warehouse)
    return result


def _read_source(con: duckdb.DuckDBPyConnection, source: Path) -> tuple[list[SourceTable], Any]:
    tables = [
        t
        for t in source_tables(con, (DATASET_NAME, META_SCHEMA))
        if (t.schema, t.name) not in NOT_COPIED
    ]
    names = {(t.schema, t.name) for t in tables}
    if (DATASET_NAME, "_dlt_pipeline_state") not in names or (
        DATASET_NAME,
        VERSION_TABLE,
    ) not in names:
        raise MigrationRefused(
            f"{source} is not an atera-sync warehouse (it has no atera_raw._dlt_pipeline_state "
            "and _dlt_version): give the file that `atera-sync run` published"
        )
    rows = con.execute(
        f"select schema from {DATASET_NAME}.{VERSION_TABLE} where schema_name = 'atera' "
        "order by inserted_at desc limit 1"
    ).fetchall()
    if not rows:
        raise MigrationRefused(f"{source} holds no dlt schema of the Atera source")
    return tables, decode_stored_schema(rows[0][0])


def decode_stored_schema(text: str) -> Any:
    """A dlt schema as `_dlt_version.schema` stores it: JSON, or zlib-compressed base64."""
    with contextlib.suppress(ValueError, zlib.error):  # else plain JSON
        text = zlib.decompress(base64.b64decode(text, validate=True)).decode("utf-8")
    return json.loads(text)


def _last_watermark(con: duckdb.DuckDBPyConnection) -> datetime | None:
    try:
        rows = con.execute(
            f"select max(watermark_after) from {META_SCHEMA}.sync_runs where status = 'success'"
        ).fetchall()
    except duckdb.Error:  # a warehouse without history: the watermark is in dlt's state alone
        return None
    return rows[0][0] if rows else None


def _point_in_time_builds(con: duckdb.DuckDBPyConnection) -> list[tuple[str, datetime]]:
    try:
        rows = con.execute(
            f"select schema_name, as_of from {META_SCHEMA}.point_in_time_builds order by 1"
        ).fetchall()
    except duckdb.Error:  # no point-in-time build was ever made
        return []
    return [(str(schema), as_of) for schema, as_of in rows]


def _tables_with_rows(warehouse: ServerWarehouse) -> list[str]:
    """`schema.table` of the server's raw and history tables that hold a row."""
    occupied: list[str] = []
    with warehouse.sql() as client:
        rows = client.execute_sql(
            "select table_schema, table_name from information_schema.tables "
            "where table_schema in (%s, %s) and table_type = 'BASE TABLE' "
            "order by table_schema, table_name",
            DATASET_NAME,
            META_SCHEMA,
        )
        for schema, table in rows or []:
            if table == VERSION_TABLE:  # schema versions alone are no data
                continue
            qualified = f"{_quote(schema)}.{_quote(table)}"
            found = client.execute_sql(f"select exists (select 1 from {qualified})")
            if found and found[0][0]:
                occupied.append(f"{schema}.{table}")
    return occupied


def _create_dlt_tables(warehouse: ServerWarehouse, stored: Any) -> None:
    """Let dlt create its tables and the raw tables from the file's dlt schema."""
    schema = Schema.from_stored_schema(stored)
    pipeline = warehouse.pipeline()
    pipeline.schemas.save_schema(schema)
    try:
        pipeline.sync_schema(schema.name)
    except Exception as exc:
        raise MigrationError(
            f"could not create the tables on {warehouse.label}: {str(exc).splitlines()[0]}; "
            "nothing was copied"
        ) from exc


def _copy_all(
    con: duckdb.DuckDBPyConnection,
    warehouse: ServerWarehouse,
    tables: list[SourceTable],
    *,
    replace: bool,
) -> dict[str, int]:
    """Every table's rows in one transaction; rows per `schema.table`."""
    rows: dict[str, int] = {}
    try:
        with warehouse.sql() as client, client.begin_transaction():
            for statement in history_ddl(warehouse.destination):
                client.execute_sql(statement)
            complete_raw_tables(client.execute_sql)
            cursor = client.native_connection.cursor()
            _clear(cursor, tables, replace=replace)
            for table in tables:
                ensure_server_table(cursor, table)
                rows[f"{table.schema}.{table.name}"] = copy_table(con, cursor, table)
                logger.info("copied %s.%s", table.schema, table.name)
    except Exception as exc:
        raise MigrationError(
            f"the copy into {warehouse.label} failed and was rolled back, the server keeps "
            f"what it had: {str(exc).splitlines()[0]}; run the command again (with --replace "
            "if it says the warehouse holds data)"
        ) from exc
    return rows


def _clear(cursor: Any, tables: list[SourceTable], *, replace: bool) -> None:
    """Empty what the copy replaces: dlt's schema versions (dlt just wrote the file's latest
    one; the file's whole history replaces it), and with `replace` every raw table and the
    history tables the file has. `delete`, not `truncate`: readers keep the old rows until
    the commit, and views on the tables stay."""
    targets = {(DATASET_NAME, VERSION_TABLE)}
    if replace:
        cursor.execute(
            "select table_name from information_schema.tables "
            "where table_schema = %s and table_type = 'BASE TABLE'",
            (DATASET_NAME,),
        )
        targets |= {(DATASET_NAME, name) for (name,) in cursor.fetchall()}
        targets |= {(t.schema, t.name) for t in tables if t.schema == META_SCHEMA}
        targets.add((META_SCHEMA, "sync_runs"))
    for schema, table in sorted(targets):
        cursor.execute(
            "select count(*) from information_schema.tables "
            "where table_schema = %s and table_name = %s",
            (schema, table),
        )
        if cursor.fetchone()[0]:
            cursor.execute(f"delete from {_quote(schema)}.{_quote(table)}")


def _discard_local_state(warehouse: ServerWarehouse) -> None:
    """Forget dlt's local folder for this server: the next run restores state from it."""
    shutil.rmtree(warehouse.pipelines_dir / PIPELINE_NAME, ignore_errors=True)
    warehouse.forget_pipeline()


def _build(build_models: Callable[[ServerWarehouse], Any], warehouse: ServerWarehouse) -> Any:
    try:
        return build_models(warehouse)
    except Exception as exc:
        raise MigrationModelsFailed(
            f"the data was migrated to {warehouse.label}, but the SQL models failed: {exc}; "
            "fix the cause and run `atera-sync models --destination "
            f"{warehouse.destination}`"
        ) from exc
