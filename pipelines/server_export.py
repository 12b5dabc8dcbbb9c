"""`atera-sync export --destination postgres`: the marts of a server warehouse as files.

The same folder layout, file formats and manifest as the export of the DuckDB file
(`pipelines.export`): every relation of `analytics` (and of each point-in-time
schema in `atera_meta.point_in_time_builds`), with `--raw` the tables of
`atera_raw` too. All of them are read in one read-only snapshot of the server
(`pipelines.server_reader`), so the files hold the marts of one run even while
another run swaps new ones in; the run's lock is not needed (a lock file in the
export folder keeps two exports into one folder apart). Each table goes through an
in-memory DuckDB (as Arrow, one table at a time) and is written by DuckDB's own
`COPY`, so the files have the same encoding as those of the file warehouse.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb
from filelock import FileLock, Timeout

from pipelines.export import (
    RAW_SCHEMA,
    ExportError,
    ExportResult,
    Format,
    WarehouseBusy,
    copy_to_file,
    export_into,
    load_export_settings,
    logger,
    write_manifest,
)
from pipelines.models.warehouse_schemas import MARTS_SCHEMA
from pipelines.private_files import ensure_private_dir
from pipelines.server_reader import ServerUnreachable, Snapshot, SnapshotCursor, read_snapshot
from pipelines.server_warehouse import ServerWarehouse
from pipelines.sql_text import quote_identifier as _quote
from pipelines.sql_text import quote_literal as _literal

EXPORT_LOCK = ".export.lock"
"""Held in the export folder while an export writes it: a server has no run lock to share
with the export (readers need none), but two exports into one folder must not overlap."""

FACT = "fct_ticket_first_response_sla"
"""The mart whose `as_of` the manifest gives (the instant the marts are true as of)."""


def export_server_warehouse(
    warehouse: ServerWarehouse, to: Path, fmt: Format, *, raw: bool
) -> ExportResult:
    """Write every mart (and with `raw` the raw tables) of the server into a new export of `to`.

    Raises:
        ExportError: the server cannot be read or the files cannot be written; `to/current`
            still leads to the previous export.
    """
    ensure_private_dir(to.expanduser())
    lock = FileLock(str(to.expanduser() / EXPORT_LOCK))
    try:
        lock.acquire(timeout=0)
    except Timeout:
        raise WarehouseBusy(
            f"another export is writing to {to} (lock file {EXPORT_LOCK}); "
            "export when it has finished"
        ) from None
    try:
        return export_into(to, fmt, lambda folder: _write(warehouse, folder, fmt, raw=raw))
    except ServerUnreachable as exc:
        raise ExportError(f"{exc}: check the server and its credentials") from None
    finally:
        lock.release()


def export_server_after_sync(warehouse: ServerWarehouse) -> ExportResult | None:
    """The `[export]` step of a run into a server: export when `[export] to` is set."""
    settings = load_export_settings()
    if settings.to is None:
        return None
    result = export_server_warehouse(warehouse, settings.to, settings.format, raw=settings.raw)
    logger.info(
        "exported %d rows to %s in %.2f s", sum(result.rows.values()), result.folder, result.seconds
    )
    return result


def _write(warehouse: ServerWarehouse, folder: Path, fmt: Format, *, raw: bool) -> ExportResult:
    ensure_private_dir(folder)
    with read_snapshot(warehouse) as snapshot, duckdb.connect() as local:
        local.execute("set TimeZone = 'UTC'")  # CSV timestamps in UTC, like the warehouse
        run_id, as_of = _marts_run(snapshot)
        result = ExportResult(folder=folder, run_id=run_id, as_of=as_of)
        files: dict[str, dict[str, Any]] = {}
        for schema, table in exported_relations(snapshot, raw=raw):
            relative = Path(schema) / f"{table}.{fmt}"
            ensure_private_dir(folder / schema)
            rows = _copy(snapshot, local, schema, table, folder / relative, fmt)
            result.rows[f"{schema}.{table}"] = rows
            files[f"{schema}.{table}"] = {"file": relative.as_posix(), "rows": rows}
    write_manifest(folder, result, fmt, warehouse.label, files)
    return result


def _copy(
    snapshot: Snapshot,
    local: duckdb.DuckDBPyConnection,
    schema: str,
    table: str,
    target: Path,
    fmt: Format,
) -> int:
    data = snapshot.arrow(f"select * from {_quote(schema)}.{_quote(table)}")
    local.register("server_table", data)
    try:
        return copy_to_file(local, "server_table", target, fmt)
    finally:
        local.unregister("server_table")


def model_schemas(snapshot: Snapshot) -> list[str]:
    """`analytics` and every point-in-time schema the server's builds recorded."""
    schemas = [MARTS_SCHEMA]
    if _table_exists(snapshot, "atera_meta", "point_in_time_builds"):
        rows = snapshot.rows(
            "select schema_name from atera_meta.point_in_time_builds order by schema_name"
        )
        schemas += [str(name) for (name,) in rows if name != MARTS_SCHEMA]
    return schemas


def exported_relations(snapshot: Snapshot, *, raw: bool) -> list[tuple[str, str]]:
    """Every relation of the model schemas, and the raw data tables if `raw`."""
    schemas = [*model_schemas(snapshot), *([RAW_SCHEMA] if raw else [])]
    listed = ", ".join(_literal(name) for name in schemas)
    rows = snapshot.rows(
        "select table_schema, table_name from information_schema.tables "
        f"where table_schema in ({listed}) and table_name not like '\\_dlt%' "
        "order by table_schema, table_name"
    )
    return [(str(schema), str(name)) for schema, name in rows]


def _marts_run(snapshot: Snapshot) -> tuple[str | None, datetime | None]:
    """The last successful run and the marts' as_of (None, None without marts)."""
    if not _table_exists(snapshot, MARTS_SCHEMA, FACT):
        return None, None
    as_of = snapshot.rows(f"select max(as_of) from {MARTS_SCHEMA}.{FACT}")[0][0]
    run_id = None
    if _table_exists(snapshot, "atera_meta", "sync_runs"):
        rows = snapshot.rows(
            "select run_id from atera_meta.sync_runs where status = 'success' "
            "order by started_at desc limit 1"
        )
        run_id = str(rows[0][0]) if rows else None
    return run_id, as_of


def _table_exists(snapshot: Snapshot, schema: str, table: str) -> bool:
    cursor = SnapshotCursor(snapshot).execute(
        "select count(*) from information_schema.tables "
        f"where table_schema = {_literal(schema)} and table_name = {_literal(table)}"
    )
    return bool(cursor.fetchall()[0][0])
