"""`atera-sync export`: the marts (and raw tables) as Parquet or CSV files, one run at a time."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from pipelines.export import FORMATS, ExportError, ExportResult, WarehouseBusy, locked_export
from pipelines.sync import DEFAULT_DUCKDB_PATH


@click.command()
@click.option(
    "--duckdb",
    "duckdb_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=DEFAULT_DUCKDB_PATH,
    show_default=True,
    help="The DuckDB warehouse file that analysts open.",
)
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
def export_command(duckdb_path: Path, fmt: str, to: Path, raw: bool) -> None:
    """Export every mart (and with --raw the raw tables) with a manifest, atomically."""
    try:
        result = locked_export(duckdb_path, to, fmt, raw=raw)  # type: ignore[arg-type]
    except WarehouseBusy as exc:
        _fail(3, str(exc))
    except ExportError as exc:
        _fail(2 if "does not exist" in str(exc) else 1, str(exc))
    _print(result)


def _print(result: ExportResult) -> None:
    console = Console(width=None if sys.stdout.isatty() else 120)
    table = Table(title=f"export of run {result.run_id or '(no marts)'}", title_justify="left")
    table.add_column("table")
    table.add_column("rows", justify="right")
    for name, rows in result.rows.items():
        table.add_row(name, f"{rows:,}")
    console.print(table)
    console.print(
        f"{sum(result.rows.values()):,} rows in {result.seconds:.2f} s "
        f"({result.rows_per_second:,.0f} rows/s) to {result.folder}",
        soft_wrap=True,
    )


def _fail(code: int, message: str) -> None:
    Console(stderr=True).print(f"[bold red]error:[/] {escape(message)}", highlight=False)
    sys.exit(code)
