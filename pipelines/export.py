"""Export the marts (and optionally the raw tables) as Parquet or CSV files, one run at a time.

For tools that read files rather than DuckDB (Power BI's and Excel's folder
connectors, Tableau, a data lake): `atera-sync export --to DIR` writes

    DIR/runs/<stamp>-<run>/analytics/<mart>.parquet|csv   (and atera_raw/<table>.* with --raw)
    DIR/runs/<stamp>-<run>/manifest.json                  (run id, as_of, row counts, files)
    DIR/current -> runs/<stamp>-<run>                     (swapped in one atomic rename)
    DIR/manifest.json                                     (a copy of the current one)

An export is written completely into a hidden folder, renamed into `runs/`,
and only then does `current` move to it: a reader of `DIR/current` sees one
export or the other, never a half-written one. The previous exports are kept
(`KEEP_EXPORTS`), so a reader that resolved `current` before the swap can finish.

Every schema the models publish (`analytics`, `analytics_as_of`) is exported
whole, whatever its tables. The export reads the published file under the
warehouse's run lock, in one transaction: the raw tables and the marts of one
run. `[export]` in `.dlt/config.toml` runs it after each successful sync.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

import dlt
import duckdb
from filelock import FileLock, Timeout

from pipelines.live_marts import RUN_VIEW, live_schemas
from pipelines.private_files import ensure_private_dir, write_private_text
from pipelines.sql_text import quote_identifier as _quote
from pipelines.sql_text import quote_literal as _literal
from pipelines.warehouse import Warehouse

logger = logging.getLogger("atera_sync.export")

Format = Literal["parquet", "csv"]
FORMATS: tuple[Format, ...] = ("parquet", "csv")
RAW_SCHEMA = "atera_raw"
KEEP_EXPORTS = 3
"""Export folders kept in `DIR/runs/`, the current one included."""

MANIFEST = "manifest.json"
SECTION = "export"


class ExportError(Exception):
    """The export failed or cannot start; the message says why and what to do."""


class WarehouseBusy(ExportError):
    """A run holds the warehouse's lock."""


@dataclass(frozen=True)
class ExportSettings:
    """`[export]`: where and how `atera-sync run` exports after each successful sync."""

    to: Path | None = None
    format: Format = "parquet"
    raw: bool = False


@dataclass
class ExportResult:
    """What one export wrote."""

    folder: Path
    run_id: str | None
    as_of: datetime | None
    rows: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def rows_per_second(self) -> float:
        return sum(self.rows.values()) / self.seconds if self.seconds else 0.0


def load_export_settings() -> ExportSettings:
    """`[export]` from the environment (`EXPORT__TO`, ...) and `.dlt/config.toml`.

    Raises:
        ExportError: a value is invalid (the message names it).
    """
    to = dlt.config.get(f"{SECTION}.to", str)
    fmt = str(dlt.config.get(f"{SECTION}.format", str) or "parquet").lower()
    raw = dlt.config.get(f"{SECTION}.raw", bool)
    if fmt not in FORMATS:
        raise ExportError(f"[export] format {fmt!r} is not one of {', '.join(FORMATS)}")
    return ExportSettings(to=Path(to).expanduser() if to else None, format=fmt, raw=bool(raw))  # type: ignore[arg-type]


def export_after_sync(published: Path) -> ExportResult | None:
    """The `[export]` step of a run (which holds the lock): export when `to` is set."""
    settings = load_export_settings()
    if settings.to is None:
        return None
    result = export_warehouse(published, settings.to, settings.format, raw=settings.raw)
    logger.info(
        "exported %d rows to %s in %.2f s", sum(result.rows.values()), result.folder, result.seconds
    )
    return result


def locked_export(published: Path, to: Path, fmt: Format, *, raw: bool) -> ExportResult:
    """Export under the warehouse's run lock, so that no run publishes meanwhile.

    Raises:
        WarehouseBusy: a run is writing the warehouse.
        ExportError: no warehouse at `published`, or the export failed.
    """
    warehouse = Warehouse.at(published)
    if not warehouse.published.exists():
        raise ExportError(f"{published} does not exist: run `atera-sync run` first")
    lock = FileLock(str(warehouse.lock_file))
    try:
        lock.acquire(timeout=0)
    except Timeout:
        raise WarehouseBusy(
            f"a run is writing {warehouse.published} (lock file {warehouse.lock_file.name}); "
            "export when it has finished, or set [export] to export after each run"
        ) from None
    try:
        return export_warehouse(warehouse.published, to, fmt, raw=raw)
    finally:
        lock.release()


def export_warehouse(published: Path, to: Path, fmt: Format, *, raw: bool) -> ExportResult:
    """Write every mart (and with `raw` the raw tables) of `published` into a new export of `to`.

    The caller holds the warehouse's lock (or knows that no run publishes meanwhile).

    Raises:
        ExportError: the export failed; `to/current` still leads to the previous export.
    """
    return export_into(to, fmt, lambda folder: _write(published, folder, fmt, raw=raw))


def export_into(to: Path, fmt: Format, write: Callable[[Path], ExportResult]) -> ExportResult:
    """Let `write(folder)` fill a hidden folder of `to`, then make it `to/current` atomically.

    Raises:
        ExportError: the export failed; `to/current` still leads to the previous export.
    """
    if fmt not in FORMATS:
        raise ExportError(f"unknown export format {fmt!r}: use one of {', '.join(FORMATS)}")
    started = time.perf_counter()
    to = to.expanduser().resolve()
    ensure_private_dir(to / "runs")
    for stale in to.glob(".export.*.partial"):  # a killed export's (the caller holds the lock)
        shutil.rmtree(stale, ignore_errors=True)
    partial = to / f".export.{uuid.uuid4().hex}.partial"
    try:
        result = write(partial)
        final = to / "runs" / _folder_name(result.run_id)
        os.rename(partial, final)
        _point_to(to, final)
    except (duckdb.Error, OSError) as exc:
        raise ExportError(f"the export to {to} failed: {exc}") from exc
    finally:
        shutil.rmtree(partial, ignore_errors=True)
    _prune(to, final)
    result.folder = final
    result.seconds = time.perf_counter() - started
    return result


def _write(published: Path, folder: Path, fmt: Format, *, raw: bool) -> ExportResult:
    ensure_private_dir(folder)
    with duckdb.connect(str(published), read_only=True) as con:
        con.execute("set TimeZone = 'UTC'")  # CSV timestamps in UTC, like the warehouse
        con.begin()  # one transaction: every live view reads the same run
        run_id, as_of = _marts_run(con)
        result = ExportResult(folder=folder, run_id=run_id, as_of=as_of)
        files: dict[str, dict[str, Any]] = {}
        for schema, table in _exported_relations(con, raw=raw):
            relative = Path(schema) / f"{table}.{fmt}"
            ensure_private_dir(folder / schema)
            rows = _copy(con, f"{_quote(schema)}.{_quote(table)}", folder / relative, fmt)
            result.rows[f"{schema}.{table}"] = rows
            files[f"{schema}.{table}"] = {"file": relative.as_posix(), "rows": rows}
        con.rollback()
    write_manifest(folder, result, fmt, published.name, files)
    return result


def write_manifest(
    folder: Path, result: ExportResult, fmt: Format, warehouse: str, files: dict[str, Any]
) -> None:
    """`manifest.json` of an export: run, as_of, format, the warehouse, every file's rows."""
    manifest = {
        "run_id": result.run_id,
        "as_of": result.as_of.isoformat() if result.as_of else None,
        "exported_at": datetime.now(UTC).isoformat(),
        "format": fmt,
        "warehouse": warehouse,
        "tables": files,
    }
    write_private_text(folder / MANIFEST, json.dumps(manifest, indent=2, sort_keys=True) + "\n")


def _marts_run(con: duckdb.DuckDBPyConnection) -> tuple[str | None, datetime | None]:
    """The run whose marts this transaction reads, and its as_of (None without marts)."""
    schema, view = RUN_VIEW.split(".")
    exists = con.execute(
        "select count(*) from duckdb_views() where schema_name = ? and view_name = ?",
        [schema, view],
    ).fetchone()
    if not exists or not exists[0]:
        return None, None
    row = con.execute(f"select run_id, as_of from {RUN_VIEW}").fetchone()
    return (str(row[0]), row[1]) if row else (None, None)


def _exported_relations(con: duckdb.DuckDBPyConnection, *, raw: bool) -> list[tuple[str, str]]:
    """Every relation of the user-facing model schemas, and the raw data tables if `raw`."""
    schemas = [*live_schemas(con), *([RAW_SCHEMA] if raw else [])]
    placeholders = ", ".join("?" for _ in schemas)
    rows = con.execute(
        "select table_schema, table_name from information_schema.tables "
        f"where table_catalog = current_database() and table_schema in ({placeholders}) "
        "and table_name not like '\\_dlt%' escape '\\' order by table_schema, table_name",
        schemas,
    ).fetchall()
    return [(str(schema), str(name)) for schema, name in rows]


def copy_to_file(con: duckdb.DuckDBPyConnection, relation: str, target: Path, fmt: Format) -> int:
    """Write `relation` of `con` to `target` as Parquet (zstd) or CSV; its row count."""
    return _copy(con, relation, target, fmt)


def _copy(con: duckdb.DuckDBPyConnection, relation: str, target: Path, fmt: Format) -> int:
    options = "format parquet, compression zstd" if fmt == "parquet" else "format csv, header"
    row = con.execute(
        f"copy (select * from {relation}) to {_literal(str(target))} ({options})"
    ).fetchone()
    return int(row[0]) if row else 0


def _folder_name(run_id: str | None) -> str:
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    return f"{stamp}-{run_id or 'no-marts'}"


def _point_to(to: Path, folder: Path) -> None:
    """Swap `to/current` to `folder` in one rename, and copy its manifest beside it."""
    link = to / f".current.{uuid.uuid4().hex}"
    os.symlink(folder.relative_to(to), link, target_is_directory=True)
    try:
        os.replace(link, to / "current")
    finally:
        if link.is_symlink():
            link.unlink()
    staged = to / f".{MANIFEST}.{uuid.uuid4().hex}"
    shutil.copyfile(folder / MANIFEST, staged)
    os.replace(staged, to / MANIFEST)


def _prune(to: Path, current: Path) -> None:
    exports = sorted((p for p in (to / "runs").iterdir() if p.is_dir()), reverse=True)
    for old in [p for p in exports if p != current][KEEP_EXPORTS - 1 :]:
        shutil.rmtree(old, ignore_errors=True)
