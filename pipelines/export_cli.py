"""`atera-sync export`: the marts (and raw tables) as Parquet or CSV files, one run at a time."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import NoReturn

import click
from rich.console import Console
from rich.markup import escape

from pipelines.atera.errors import ConfigurationError
from pipelines.cli_options import destination_option, duckdb_option
from pipelines.destination import DUCKDB, resolve_destination
from pipelines.export import (
    FORMATS,
    ExportError,
    ExportResult,
    Format,
    WarehouseBusy,
    locked_export,
)
from pipelines.summary import print_rows_copied


@click.command()
@duckdb_option
@click.option(
    "--format",
    "fmt",
    type=click.Choice(FORMATS),
    default="parquet",
    show_default=True,
    help="File format of the exported tables.",
)
@click.option(
    "--to",
    "to",
    type=click.Path(file_okay=False, path_type=Path),
    required=True,
    help="Folder of the exports; DIR/current leads to the latest complete one.",
)
@click.option("--raw", is_flag=True, help="Export the raw tables (atera_raw) too.")
@destination_option
def export_command(
    duckdb_path: Path, fmt: Format, to: Path, raw: bool, destination: str | None
) -> None:
    """Export every mart (and with --raw the raw tables) with a manifest, atomically."""
    try:
        target = resolve_destination(destination)
        if target == DUCKDB:
            result = locked_export(duckdb_path, to, fmt, raw=raw)
        else:
            result = _server_export(target, duckdb_path, to, fmt, raw=raw)
    except ConfigurationError as exc:
        _fail(2, str(exc))
    except WarehouseBusy as exc:
        _fail(3, str(exc))
    except ExportError as exc:
        _fail(2 if "does not exist" in str(exc) else 1, str(exc))
    _print(result)


def _server_export(
    destination: str, duckdb_path: Path, to: Path, fmt: Format, *, raw: bool
) -> ExportResult:
    from pipelines.server_export import export_server_warehouse
    from pipelines.server_warehouse import ServerWarehouse

    warehouse = ServerWarehouse(destination, state_root=duckdb_path.parent)
    return export_server_warehouse(warehouse, to, fmt, raw=raw)


def _print(result: ExportResult) -> None:
    print_rows_copied(
        Console(width=None if sys.stdout.isatty() else 120),
        f"export of run {result.run_id or '(no marts)'}",
        result.rows,
        result.seconds,
        result.rows_per_second,
        f" to {result.folder}",
    )


def _fail(code: int, message: str) -> NoReturn:
    Console(stderr=True).print(f"[bold red]error:[/] {escape(message)}", highlight=False)
    sys.exit(code)
