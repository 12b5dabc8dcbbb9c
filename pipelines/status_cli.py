"""`atera-sync status`: the freshness check for cron, monitoring and CI.

Opens the published DuckDB file read-only (never the lock, never the working
copy), so it runs beside readers and between runs; see `pipelines.status` for
the verdict and its exit codes. With `--destination postgres` (or another
server) it reads the same two tables on the server, in one read-only
transaction (`pipelines.server_reader`); dbt is never loaded.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import NoReturn

import click
import duckdb

from pipelines.cli_options import destination_option, duckdb_option
from pipelines.status import (
    DEFAULT_MAX_AGE,
    EXIT_NO_RUN,
    NoRunYet,
    WarehouseStatus,
    parse_max_age,
    read_status,
    status_json,
)

EXIT_BAD_OPTION = 2
EXIT_WAREHOUSE_BUSY = 3
OPEN_ATTEMPTS = 20
OPEN_RETRY_SECONDS = 0.1


@click.command()
@duckdb_option
@click.option(
    "--max-age",
    default=DEFAULT_MAX_AGE,
    show_default=True,
    help="Fresh means a successful run finished less than this long ago (26h, 90m, 2d, 1h30m).",
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object instead of text.")
@destination_option
def status_command(duckdb_path: Path, max_age: str, as_json: bool, destination: str | None) -> None:
    """Say whether the warehouse is fresh: last successful run, its age, watermark, failures.

    Exit codes: 0 fresh; 4 the last run failed (the data is still fresh); 5 stale:
    no successful run within --max-age; 6 no warehouse (or the server cannot be reached)
    or no run yet; 2 a bad option or missing credentials; 3 another process holds the
    file open for writing.
    """
    try:
        age = parse_max_age(max_age)
    except ValueError as exc:
        _exit(EXIT_BAD_OPTION, str(exc), as_json)
    target = _destination(destination, as_json)
    if target != "duckdb":
        _echo(_server_status(target, duckdb_path, age, as_json), as_json)
    if not duckdb_path.exists():
        _exit(EXIT_NO_RUN, f"no warehouse at {duckdb_path}: run `atera-sync run` first", as_json)
    try:
        status = _read(duckdb_path, age)
    except NoRunYet:
        _exit(EXIT_NO_RUN, f"no run is recorded in {duckdb_path} yet", as_json)
    except duckdb.IOException as exc:
        reason = str(exc).splitlines()[0]
        _exit(
            EXIT_WAREHOUSE_BUSY,
            f"cannot read {duckdb_path} while another process writes it ({reason}); "
            "try again in a moment",
            as_json,
        )
    _echo(status, as_json)


def _echo(status: WarehouseStatus, as_json: bool) -> NoReturn:
    click.echo(status_json(status) if as_json else "\n".join(status_lines(status)))
    sys.exit(status.exit_code)


def _destination(option: str | None, as_json: bool) -> str:
    from pipelines.atera.errors import ConfigurationError
    from pipelines.destination import resolve_destination

    try:
        return resolve_destination(option)
    except ConfigurationError as exc:
        _exit(EXIT_BAD_OPTION, str(exc), as_json)


def _server_status(
    destination: str, duckdb_path: Path, max_age: timedelta, as_json: bool
) -> WarehouseStatus:
    """The status of a server warehouse (its credentials the dlt way), read in one snapshot."""
    from pipelines.atera.errors import ConfigurationError
    from pipelines.server_reader import ServerUnreachable, SnapshotCursor, read_snapshot
    from pipelines.server_warehouse import ServerWarehouse

    try:
        warehouse = ServerWarehouse(destination, state_root=duckdb_path.parent)
    except ConfigurationError as exc:
        _exit(EXIT_BAD_OPTION, str(exc), as_json)
    try:
        with read_snapshot(warehouse) as snapshot:
            return read_status(SnapshotCursor(snapshot), max_age)
    except ServerUnreachable as exc:
        _exit(EXIT_NO_RUN, f"{exc}: check the server and its credentials", as_json)
    except NoRunYet:
        _exit(
            EXIT_NO_RUN,
            f"no run is recorded in {warehouse.label} yet: run "
            f"`atera-sync run --destination {destination}` first",
            as_json,
        )


def _read(duckdb_path: Path, max_age: timedelta) -> WarehouseStatus:
    with _read_only(duckdb_path) as con:
        return read_status(con.cursor(), max_age)


@contextmanager
def _read_only(path: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    """A read-only connection; retried briefly while a failed run writes its history row."""
    for attempt in range(OPEN_ATTEMPTS):
        try:
            con = duckdb.connect(str(path), read_only=True)
            break
        except duckdb.IOException:
            if attempt == OPEN_ATTEMPTS - 1:
                raise
            time.sleep(OPEN_RETRY_SECONDS)
    try:
        yield con
    finally:
        con.close()


def status_lines(status: WarehouseStatus) -> list[str]:
    """The status as plain lines, one fact each."""
    data = status.as_dict()
    max_age = _duration(status.max_age)
    lines = [f"status: {status.state} (exit {status.exit_code}, max age {max_age})"]
    success = status.last_success
    if success is None:
        lines.append("last successful run: none")
    else:
        age = status.age or timedelta(0)
        lines.append(
            f"last successful run: {data['last_success']['finished_at']} "
            f"({_duration(age)} ago), {success.mode or '-'}, "
            f"{success.rows_loaded or 0:,} rows loaded, run {success.run_id}"
        )
        if success.code_version:
            lines.append(f"built by: atera-sync {success.code_version}")
    lines.append(f"watermark: {data['watermark'] or '-'}")
    lines.append(f"failures since: {status.failures_since_success}")
    last = status.last_run
    if last is not None and last is not success:
        error = (last.error or "").replace("\n", " ")
        lines.append(f"last run: {data['last_run']['finished_at']} {last.status}: {error}")
    return lines


def _duration(value: timedelta) -> str:
    seconds = max(0, int(value.total_seconds()))
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes = rest // 60
    if days:
        return f"{days}d {hours}h"
    if hours:
        return f"{hours}h {minutes}m"
    return f"{minutes}m" if minutes else f"{seconds}s"


def _exit(code: int, message: str, as_json: bool) -> NoReturn:
    if as_json:
        click.echo(status_json_error(code, message))
    else:
        click.echo(f"error: {message}", err=True)
    sys.exit(code)


def status_json_error(code: int, message: str) -> str:
    """A JSON object for a status that could not be judged."""
    state = "missing" if code == EXIT_NO_RUN else "error"
    return json.dumps({"status": state, "exit_code": code, "error": message}, sort_keys=True)
