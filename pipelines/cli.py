"""`atera-sync`: the command line.

Commands: `run` (sync, then build the SQL models), `models` (build the SQL
models only), `reconcile` (sync, then find deleted tickets), `docs` (the dbt
docs site), `status` (is the warehouse fresh?), `export` (the marts as Parquet or
CSV files), `report` (the HTML SLA report), `sandbox` (serve the built-in Atera
sandbox).

Exit codes: 0 success, 1 the sync or a data test failed, 2 a setting is
missing or wrong, 3 another run is already writing the same DuckDB file.
`status` adds its own: 4 the last run failed, 5 stale, 6 no warehouse or no run yet.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from contextlib import ExitStack
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NoReturn

import click
import duckdb

from pipelines import __version__
from pipelines.atera.client import api_url_from
from pipelines.atera.config import AteraConfiguration, load_atera_configuration
from pipelines.atera.errors import ConfigurationError
from pipelines.atera.privacy import load_privacy
from pipelines.cli_options import destination_option, duckdb_option
from pipelines.destination import DUCKDB, resolve_destination
from pipelines.export_cli import export_command
from pipelines.log_output import LOG_FORMATS, RICH, configure_logging, register_secret
from pipelines.migrate_cli import migrate_command
from pipelines.models import (
    ModelsError,
    ModelSettingsError,
    ModelsResult,
    load_model_settings,
    run_models,
)
from pipelines.models.runner import marts_schema_for
from pipelines.private_files import private_umask, warn_if_readable_secrets
from pipelines.progress import ProgressReporter
from pipelines.report.after_run import write_report_after_run
from pipelines.run_output import Output, output_for
from pipelines.sandbox.cli import sandbox_command
from pipelines.server_warehouse import ServerWarehouse
from pipelines.status_cli import status_command
from pipelines.sync import (
    SyncAlreadyRunning,
    SyncError,
    docs_for_warehouse,
    open_warehouse,
    refresh_after_load,
    run_sync,
)

DEMO_RATE_LIMIT_PER_MINUTE = 10_000
"""The built-in sandbox is local, so the demo allows more than Atera's 700/minute."""

DEMO_API_KEY = "sandbox-demo-key"

SECRETS_FILE = Path(".dlt/secrets.toml")
"""Where dlt reads the API key in the working directory; a warning names it when other
users can read it."""

logger = logging.getLogger("atera_sync")

# on a terminal: colour, tables, a live progress bar; elsewhere: whole plain lines or JSON
# (see pipelines.log_output); set by each command from -v and --log-format
_form = RICH
_output: Output = output_for(RICH)


def _configure_logging(verbose: bool, log_format: str) -> None:
    global _form, _output
    _form = configure_logging(verbose, log_format)
    _output = output_for(_form)


def log_format_option(default: str | None) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    return click.option(
        "--log-format",
        type=click.Choice(LOG_FORMATS),
        default=default,
        envvar="ATERA_SYNC_LOG_FORMAT",
        show_default=default is not None,
        help="text: a live view on a terminal, whole plain lines otherwise; json: one JSON "
        "object per line (time, level, run_id, stage, message, counts) for log shippers.",
    )


base_url_option = click.option(
    "--base-url", help="Atera's address (default [sources.atera] base_url)."
)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "-V", "--version", prog_name="atera-sync")
@click.option("-v", "--verbose", is_flag=True, help="Log every HTTP request.")
@log_format_option("text")
@click.pass_context
def main(ctx: click.Context, verbose: bool, log_format: str) -> None:
    """Sync Atera tickets, comments and work hours into DuckDB."""
    ctx.obj = {"verbose": verbose}
    _configure_logging(verbose, log_format)
    # every file the command creates (ours, DuckDB's, dlt's, dbt's) is owner-only
    ctx.with_resource(private_umask())
    warn_if_readable_secrets(SECRETS_FILE)


@main.command()
@duckdb_option
@destination_option
@base_url_option
@click.option("--full-refresh", is_flag=True, help="Ignore the watermark: reload every ticket.")
@click.option(
    "--incremental-endpoint",
    type=click.Choice(["auto", "statusmodified", "lastmodified"]),
    help="How later runs ask for changes: statusmodified?modifiedAfter= (the ticket contract) or "
    "lastmodified?date= (Atera's published API). Default: [sources.atera] "
    "incremental_endpoint, else by the API's shape.",
)
@click.option("--skip-models", is_flag=True, help="Sync only; do not build the SQL models.")
@log_format_option(None)
@click.pass_context
def run(
    ctx: click.Context,
    duckdb_path: Path,
    destination: str | None,
    base_url: str | None,
    full_refresh: bool,
    incremental_endpoint: str | None,
    skip_models: bool,
    log_format: str | None,
) -> None:
    """Sync Atera into DuckDB, then build the SQL models.

    Without an API key and without --base-url, syncs from the built-in sandbox.
    """
    if log_format is not None:
        _configure_logging((ctx.obj or {}).get("verbose", False), log_format)
    _sync_and_report(
        duckdb_path,
        base_url,
        full_refresh,
        incremental_endpoint,
        skip_models=skip_models,
        reconcile=None,
        destination=destination,
    )


def _destination(option: str | None) -> str:
    try:
        return resolve_destination(option)
    except ConfigurationError as exc:
        _fail(2, str(exc))


def _checked_destination(option: str | None, duckdb_path: Path) -> str:
    """The destination, its credentials checked before any API call (exit 2 if missing)."""
    target = _destination(option)
    if target != DUCKDB:
        try:
            open_warehouse(duckdb_path, target)
        except ConfigurationError as exc:
            _fail(2, str(exc))
    return target


def _server(target: str, duckdb_path: Path) -> ServerWarehouse:
    """The server warehouse of `target` (its credentials were checked)."""
    warehouse = open_warehouse(duckdb_path, target)
    assert isinstance(warehouse, ServerWarehouse)
    return warehouse


def _api_address(
    stack: ExitStack, config: AteraConfiguration, base_url: str | None, duckdb_path: Path
) -> str | None:
    """The API to sync from: --base-url, the configured one, or (no key) the demo sandbox."""
    if not config.api_key:
        if base_url:
            _fail(
                2,
                "no Atera API key is configured for --base-url: set [sources.atera] "
                "api_key in .dlt/secrets.toml or SOURCES__ATERA__API_KEY",
            )
        base_url = _start_demo_sandbox(stack, config, duckdb_path)
    if base_url:
        try:
            api_url_from(base_url)
        except ConfigurationError as exc:
            _fail(2, str(exc))
    return base_url


def _sync_and_report(
    duckdb_path: Path,
    base_url: str | None,
    full_refresh: bool,
    incremental_endpoint: str | None,
    *,
    skip_models: bool,
    reconcile: bool | None,
    destination: str | None = None,
) -> None:
    target = _checked_destination(destination, duckdb_path)
    config = _load_config()
    models_step = None if skip_models else _ModelsStep()
    if incremental_endpoint:
        config.incremental_endpoint = incremental_endpoint
    try:
        config.api_shape = config.resolved_api_shape()
        privacy = load_privacy()
    except ConfigurationError as exc:
        _fail(2, str(exc))
    with ExitStack() as stack:
        base_url = _api_address(stack, config, base_url, duckdb_path)
        try:
            with ProgressReporter(interactive=_form == RICH) as progress:
                result = run_sync(
                    config,
                    duckdb_path,
                    base_url=base_url,
                    full_refresh=full_refresh,
                    progress=progress,
                    after_load=models_step,
                    reconcile=reconcile,
                    privacy=privacy,
                    destination=target,
                )
        except SyncAlreadyRunning as exc:
            _fail(3, str(exc))
        except ConfigurationError as exc:  # e.g. a transaction-pooling proxy before the server
            _fail(2, str(exc))
        except SyncError as exc:
            _fail(1, str(exc))
    _output.sync_summary(result)
    if models_step is not None:
        models_step.print_result()
        server = None if target == DUCKDB else _server(target, duckdb_path)
        write_report_after_run(
            duckdb_path, lambda line: _output.notice(line, stage="report"), server
        )


@main.command()
@duckdb_option
@destination_option
@click.option(
    "--as-of",
    "as_of",
    help="Reproduce a report as of this instant (ISO 8601): only what was known then "
    "counts, and the marts go to analytics_as_of (or --schema), never to analytics. "
    "Without it: the live marts, true as of the last sync.",
)
@click.option(
    "--schema",
    "schema",
    default=None,
    help="Schema for the marts of an --as-of build (default analytics_as_of).",
)
def models(
    duckdb_path: Path, destination: str | None, as_of: str | None, schema: str | None
) -> None:
    """Build the SQL models (staging, intermediate, marts) and run the data tests."""
    target = _destination(destination)
    if schema is not None and as_of is None:
        _fail(2, "--schema needs --as-of: the live marts always go to analytics")
    parsed = _parse_as_of(as_of)
    step = _ModelsStep(as_of=parsed, point_in_time=parsed is not None, schema=schema)
    try:
        refresh_after_load(duckdb_path, step, target)
    except (FileNotFoundError, ConfigurationError) as exc:
        _fail(2, str(exc))
    except SyncAlreadyRunning as exc:
        _fail(3, str(exc))
    except ModelsError as exc:
        _fail(1, f"SQL models failed: {exc}")
    step.print_result()


@main.command()
@duckdb_option
@destination_option
@base_url_option
def reconcile(duckdb_path: Path, destination: str | None, base_url: str | None) -> None:
    """Sync, then list every ticket id and mark the tickets Atera no longer has as deleted."""
    _sync_and_report(
        duckdb_path,
        base_url,
        False,
        None,
        skip_models=False,
        reconcile=True,
        destination=destination,
    )


@main.command()
@duckdb_option
@destination_option
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("site/dbt-docs"),
    show_default=True,
    help="Folder for the docs page (index.html).",
)
def docs(duckdb_path: Path, destination: str | None, out_dir: Path) -> None:
    """Write the dbt docs site (models, columns, tests, lineage) as one HTML page.

    Uses the warehouse's catalog when it exists, else builds the models on an empty one.
    """
    from pipelines.models.docs import generate_docs

    target = _checked_destination(destination, duckdb_path)
    if target != DUCKDB:
        _server_docs(target, duckdb_path, out_dir)
        return
    try:
        page = docs_for_warehouse(duckdb_path, lambda work: generate_docs(work, out_dir))
    except SyncAlreadyRunning as exc:
        _fail(3, str(exc))
    except FileNotFoundError:
        page = generate_docs(None, out_dir)
    except ModelsError as exc:
        _fail(1, f"dbt docs failed: {exc}")
    _output.notice(f"dbt docs: {page}", stage="docs")


def _server_docs(target: str, duckdb_path: Path, out_dir: Path) -> None:
    from pipelines.models.server_docs import generate_server_docs

    try:
        page = generate_server_docs(_server(target, duckdb_path), out_dir)
    except ModelsError as exc:
        _fail(1, f"dbt docs failed: {exc}")
    _output.notice(f"dbt docs: {page}", stage="docs")


@main.command()
@duckdb_option
@destination_option
@click.option(
    "--as-of",
    "as_of",
    help="Report the marts of `atera-sync models --as-of` (schema analytics_as_of), which "
    "must have been built as of this instant (ISO 8601). Without it: the live marts.",
)
@click.option(
    "--out",
    "out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=Path("atera-report.html"),
    show_default=True,
    help="The HTML file to write (replaced).",
)
def report(duckdb_path: Path, destination: str | None, as_of: str | None, out: Path) -> None:
    """Write the SLA report: one self-contained HTML page (reads the warehouse only)."""
    from pipelines.report import ReportError, write_report
    from pipelines.report.server import write_server_report

    parsed = _parse_as_of(as_of)
    target = _checked_destination(destination, duckdb_path)
    try:
        zone = load_model_settings().time_zone
        if target == DUCKDB:
            written = write_report(duckdb_path, out, time_zone=zone, as_of=parsed)
        else:
            server = _server(target, duckdb_path)
            written = write_server_report(server, out, time_zone=zone, as_of=parsed)
    except ModelSettingsError as exc:
        _fail(2, f"invalid [models] settings: {exc}")
    except ReportError as exc:
        _fail(exc.exit_code, str(exc))
    _output.notice(
        f"report: {written.path} ({written.bytes / 1024:,.0f} KB in {written.seconds:.1f} s), "
        f"marts of {written.schema}",
        stage="report",
    )


# the sandbox keeps its one command line with itself, so that `atera-sync sandbox`
# and `python -m pipelines.sandbox` take the same options
main.add_command(sandbox_command, name="sandbox")
main.add_command(status_command, name="status")
main.add_command(export_command, name="export")
main.add_command(migrate_command, name="migrate")


def _load_config() -> AteraConfiguration:
    try:
        config = load_atera_configuration()
    except Exception as exc:  # dlt raises its own config errors; show them plainly
        _fail(2, f"cannot read [sources.atera] settings: {exc}")
        raise  # pragma: no cover
    register_secret(config.api_key)
    return config


def _start_demo_sandbox(stack: ExitStack, config: AteraConfiguration, duckdb_path: Path) -> str:
    from pipelines.sandbox import AteraSandbox
    from pipelines.sandbox.world_state import demo_world, world_file_for

    sandbox_server = stack.enter_context(
        AteraSandbox(api_key=DEMO_API_KEY, rate_limit=DEMO_RATE_LIMIT_PER_MINUTE)
    )
    # the demo's data is kept beside the warehouse and only moves on between runs
    stack.enter_context(demo_world(sandbox_server, world_file_for(duckdb_path)))
    config.api_key = DEMO_API_KEY
    config.rate_limit_per_minute = DEMO_RATE_LIMIT_PER_MINUTE
    _output.notice(
        "No Atera API key is configured ([sources.atera] api_key or "
        "SOURCES__ATERA__API_KEY), so this run syncs demo data from the built-in "
        f"Atera sandbox at {sandbox_server.api_url} (rate limit "
        f"{DEMO_RATE_LIMIT_PER_MINUTE:,}/min; against Atera the client keeps to its share "
        "of the account's 700/min, 350/min by default). See README.md to sync your account.",
        stage="demo",
    )
    return sandbox_server.api_url


class _ModelsStep:
    """Builds the SQL models on the working copy before it is published."""

    def __init__(
        self,
        as_of: datetime | None = None,
        *,
        point_in_time: bool = False,
        schema: str | None = None,
    ) -> None:
        self.as_of = as_of
        self.point_in_time = point_in_time
        self.schema = schema
        try:
            self.settings = load_model_settings()
            marts_schema_for(point_in_time, schema)
        except ModelSettingsError as exc:
            _fail(2, f"invalid [models] settings: {exc}")
        self.result: ModelsResult | None = None

    def __call__(
        self, work_path: Path | ServerWarehouse, data_as_of: datetime | None = None
    ) -> None:
        if isinstance(work_path, ServerWarehouse):
            from pipelines.models.server_runner import run_models_on_server

            self.result = run_models_on_server(
                work_path,
                as_of=self.as_of,
                settings=self.settings,
                point_in_time=self.point_in_time,
                schema=self.schema,
                data_as_of=data_as_of,
            )
            return
        with duckdb.connect(str(work_path)) as con:
            self.result = run_models(
                con,
                as_of=self.as_of,
                settings=self.settings,
                point_in_time=self.point_in_time,
                schema=self.schema,
                data_as_of=data_as_of,
            )

    def print_result(self) -> None:
        if self.result is not None:
            _output.models_summary(self.result)


def _parse_as_of(value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        _fail(2, f"--as-of {value!r} is not an ISO 8601 timestamp, e.g. 2026-01-31T23:59:59Z")
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _fail(code: int, message: str) -> NoReturn:
    _output.error(message)
    sys.exit(code)


if __name__ == "__main__":
    main()
