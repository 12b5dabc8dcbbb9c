"""`atera-sync migrate`: move an existing DuckDB warehouse onto a PostgreSQL server."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import NoReturn

import click
from rich.console import Console
from rich.markup import escape

from pipelines.atera.errors import ConfigurationError
from pipelines.cli_options import duckdb_option_with
from pipelines.destination import DESTINATIONS, DUCKDB, POSTGRES, resolve_destination
from pipelines.log_output import output_form
from pipelines.migrate import (
    MigrationError,
    MigrationRefused,
    MigrationResult,
    migrate_duckdb,
)
from pipelines.models import ModelSettingsError, load_model_settings
from pipelines.run_output import output_for
from pipelines.server_lock import ServerLockTaken
from pipelines.server_warehouse import ServerWarehouse
from pipelines.summary import print_rows_copied


@click.command()
@click.option(
    "--from-duckdb",
    "source",
    type=click.Path(dir_okay=False, path_type=Path),
    required=True,
    help="The DuckDB warehouse file to copy (the one `atera-sync run` publishes); "
    "read only, never changed.",
)
@click.option(
    "--destination",
    type=click.Choice(DESTINATIONS),
    default=None,
    help="The server to copy into, configured the dlt way "
    "(DESTINATION__POSTGRES__CREDENTIALS, ...). Default: [pipeline] destination.",
)
@duckdb_option_with(
    "The --duckdb path that `atera-sync run --destination ...` uses: dlt's local "
    "folder for the server lives beside it."
)
@click.option(
    "--replace",
    is_flag=True,
    help="Replace the raw data and run history of a server warehouse that already has some.",
)
def migrate_command(
    source: Path, destination: str | None, duckdb_path: Path, replace: bool
) -> None:
    """Copy a DuckDB warehouse (raw tables, history, watermark) to a server, then build
    the models there: the next run on the server is incremental."""
    warehouse = _server(destination, duckdb_path)
    try:
        settings = load_model_settings()
    except ModelSettingsError as exc:
        _fail(2, f"invalid [models] settings: {exc}")

    def build_models(target: ServerWarehouse) -> object:
        from pipelines.models.server_runner import run_models_on_server

        return run_models_on_server(target, settings=settings)

    try:
        result = migrate_duckdb(
            source.expanduser(), warehouse, replace=replace, build_models=build_models
        )
    except (MigrationRefused, ConfigurationError) as exc:
        _fail(2, str(exc))
    except ServerLockTaken as exc:
        _fail(3, str(exc))
    except MigrationError as exc:  # the copy failed, or (data copied) the models
        _fail(1, str(exc))
    _print(result)


def _server(option: str | None, duckdb_path: Path) -> ServerWarehouse:
    try:
        destination = resolve_destination(option)
    except ConfigurationError as exc:
        _fail(2, str(exc))
    if destination == DUCKDB:
        _fail(
            2,
            "migrate copies a DuckDB warehouse onto a server: give --destination postgres "
            "(or set [pipeline] destination); the DuckDB file itself needs no migration",
        )
    if destination != POSTGRES:
        _fail(
            2,
            f"migrate copies into PostgreSQL only; for {destination}, run "
            f"`atera-sync run --destination {destination}` (a full sync: the status history "
            "of earlier runs stays in the DuckDB file)",
        )
    try:
        return ServerWarehouse(destination, state_root=duckdb_path.expanduser().parent)
    except ConfigurationError as exc:
        _fail(2, str(exc))


def _print(result: MigrationResult) -> None:
    console = Console(width=None if sys.stdout.isatty() else 120)
    watermark = result.watermark.isoformat() if result.watermark else "none"
    print_rows_copied(
        console,
        f"migrated {result.source} to {result.label}",
        result.rows,
        result.seconds,
        result.rows_per_second,
        f"; watermark {watermark}: the next `atera-sync run` on the server is incremental",
        highlight=False,
    )
    for schema, as_of in result.point_in_time_builds:
        console.print(
            f"point-in-time marts {schema} (as of {as_of.isoformat()}) stay in the file: "
            f"rebuild them with `atera-sync models --as-of {as_of.isoformat()} "
            f"--schema {schema} --destination {result.destination}`",
            soft_wrap=True,
            highlight=False,
            markup=False,
        )
    if result.models is not None:
        output_for(output_form("text", sys.stdout)).models_summary(result.models)


def _fail(code: int, message: str) -> NoReturn:
    Console(stderr=True).print(
        f"[bold red]error:[/] {escape(message)}", highlight=False, soft_wrap=True
    )
    sys.exit(code)
