"""`atera-sync report`: read the marts of a warehouse (read-only) and write the HTML page."""

from __future__ import annotations

import os
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from pipelines.models.warehouse_schemas import AS_OF_SCHEMA, MARTS_SCHEMA
from pipelines.report.data import load_report_data, missing_relations, read_as_of
from pipelines.report.page import render_page

DEFAULT_REPORT_FILE = Path("atera-report.html")


class ReportError(Exception):
    """The report cannot be written; the message says what to do. `exit_code`: 2 when the
    warehouse or its marts are missing or of another as-of time, 1 otherwise."""

    def __init__(self, message: str, exit_code: int = 2) -> None:
        super().__init__(message)
        self.exit_code = exit_code


@dataclass(frozen=True)
class WrittenReport:
    path: Path
    bytes: int
    seconds: float
    schema: str
    as_of: datetime | None


def write_report(
    duckdb_path: Path,
    out: Path = DEFAULT_REPORT_FILE,
    *,
    time_zone: str,
    as_of: datetime | None = None,
) -> WrittenReport:
    """Write the SLA report of the warehouse at `duckdb_path` to `out`.

    Args:
        duckdb_path: the published warehouse; opened read-only, never written.
        out: the HTML file, replaced in one step.
        time_zone: the IANA zone of weeks, months and the times shown (`[models] time_zone`).
        as_of: read the point-in-time marts (`analytics_as_of`), which must have been built
            as of exactly this instant; None: the live marts (`analytics`).

    Raises:
        ReportError: no warehouse, no marts, or point-in-time marts of another instant.
    """
    started = time.monotonic()
    with _open_read_only(duckdb_path) as con:
        source = ReportSource(str(duckdb_path), f"--duckdb {duckdb_path}", duckdb_path.name)
        return write_report_from(
            con, source, out, time_zone=time_zone, as_of=as_of, started=started
        )


@dataclass(frozen=True)
class ReportSource:
    """Where the marts come from, for messages and the page: `where` (a path or a server),
    `options` (what selects it on the command line) and `name` (shown on the page)."""

    where: str
    options: str
    name: str


def write_report_from(
    con: duckdb.DuckDBPyConnection,
    source: ReportSource,
    out: Path,
    *,
    time_zone: str,
    as_of: datetime | None,
    started: float,
) -> WrittenReport:
    """Write the report of the marts `con` holds (see `write_report` for the arguments).

    Raises:
        ReportError: no marts, or point-in-time marts of another instant.
    """
    generated_at = datetime.now(UTC)
    schema = MARTS_SCHEMA if as_of is None else AS_OF_SCHEMA
    built_as_of = _checked_as_of(con, source, schema, as_of)
    data = load_report_data(con, schema, time_zone, built_as_of or generated_at)
    if built_as_of is None:
        data.as_of = None
    page = render_page(data, generated_at, source.name).encode("utf-8")
    _replace(out, page)
    return WrittenReport(out, len(page), time.monotonic() - started, schema, data.as_of)


def _open_read_only(path: Path) -> duckdb.DuckDBPyConnection:
    if not path.is_file() or path.stat().st_size == 0:
        raise ReportError(f"there is no warehouse at {path}: run `atera-sync run` first")
    try:
        return duckdb.connect(str(path), read_only=True)
    except duckdb.Error as exc:
        raise ReportError(f"cannot open {path} as a DuckDB warehouse (read-only): {exc}") from exc


def _checked_as_of(
    con: duckdb.DuckDBPyConnection, source: ReportSource, schema: str, as_of: datetime | None
) -> datetime | None:
    """The marts' as_of, after checking that the marts exist and are of the instant asked."""
    missing = missing_relations(con, schema)
    path, options = source.where, source.options
    if as_of is None:
        if missing:
            raise ReportError(
                f"{path} has no SLA marts in schema {schema} (missing: {', '.join(missing)}): "
                f"run `atera-sync run {options}` first (or `atera-sync models {options}` "
                "when the data is already synced)"
            )
        return read_as_of(con, schema)
    build = f"run `atera-sync models {options} --as-of {_iso(as_of)}` first"
    if missing:
        raise ReportError(f"{path} has no point-in-time marts in schema {schema}: {build}")
    built = read_as_of(con, schema)
    if built is None:
        raise ReportError(
            f"the marts in schema {schema} of {path} hold no tickets, so their as-of time "
            f"cannot be confirmed: {build}"
        )
    if built != as_of:
        raise ReportError(
            f"the marts in schema {schema} of {path} are as of {_iso(built)}, not "
            f"{_iso(as_of)}: {build}"
        )
    return built


def _replace(out: Path, content: bytes) -> None:
    """Write `out` through a temporary file beside it, renamed over it in one step."""
    out.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{out.name}.", dir=out.parent)
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(content)
        os.replace(temporary, out)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _iso(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
