"""`atera-sync`: the command line.

Commands: `run` (sync, then build the SQL models), `models` (build the SQL
models only), `reconcile` (sync, then find deleted tickets), `docs` (the dbt
docs site), `sandbox` (serve the built-in Atera sandbox).

Exit codes: 0 success, 1 the sync or a data test failed, 2 a setting is
missing or wrong, 3 another run is already writing the same DuckDB file.
"""

from __future__ import annotations

import logging
import sys
from contextlib import ExitStack
from datetime import UTC, datetime
from pathlib import Path
from typing import NoReturn

import click
import duckdb
from rich.console import Console
from rich.logging import RichHandler
from rich.markup import escape

from pipelines import __version__
from pipelines.atera.client import api_url_from
from pipelines.atera.config import AteraConfiguration, load_atera_configuration
from pipelines.atera.errors import ConfigurationError
from pipelines.atera.privacy import load_privacy
from pipelines.models import (
    ModelsError,
    ModelSettingsError,
    ModelsResult,
    load_model_settings,
    run_models,
)
from pipelines.private_files import private_umask, warn_if_readable_secrets
from pipelines.progress import ProgressReporter
from pipelines.sandbox.cli import sandbox_command
from pipelines.summary import print_compliance, print_sync_summary
from pipelines.sync import (
    DEFAULT_DUCKDB_PATH,
    SyncAlreadyRunning,
    SyncError,
    docs_for_warehouse,
    refresh_after_load,
    run_sync,
)

DEMO_RATE_LIMIT_PER_MINUTE = 10_000
"""The built-in sandbox is local, so the demo allows more than Atera's 700/minute."""

DEMO_API_KEY = "sandbox-demo-key"

SECRETS_FILE = Path(".dlt/secrets.toml")
"""Where dlt reads the API key in the working directory; a warning names it when other
users can read it."""

# a log file is no terminal: give the tables room instead of rich's default 80 columns
console = Console(width=None if sys.stdout.isatty() else 120)
logger = logging.getLogger("atera_sync")


def _configure_logging(verbose: bool) -> None:
    handler = RichHandler(console=Console(stderr=True), show_path=False, rich_tracebacks=False)
    logging.basicConfig(level=logging.WARNING, handlers=[handler], format="%(message)s")
    logging.getLogger("atera_sync").setLevel(logging.DEBUG if verbose else logging.INFO)
    logging.getLogger("httpx").setLevel(logging.INFO if verbose else logging.WARNING)


duckdb_option = click.option(
    "--duckdb",
    "duckdb_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=DEFAULT_DUCKDB_PATH,
    show_default=True,
    help="The DuckDB warehouse file that analysts open.",
)
base_url_option = click.option(
    "--base-url", help="Atera's address (default [sources.atera] base_url)."
)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "-V", "--version", prog_name="atera-sync")
@click.option("-v", "--verbose", is_flag=True, help="Log every HTTP request.")
@click.pass_context
def main(ctx: click.Context, verbose: bool) -> None:
    """Sync Atera tickets, comments and work hours into DuckDB."""
    _configure_logging(verbose)
    # every file the command creates (ours, DuckDB's, dlt's, dbt's) is owner-only
    ctx.with_resource(private_umask())
    warn_if_readable_secrets(SECRETS_FILE)


@main.command()
@duckdb_option
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
def run(
    duckdb_path: Path,
    base_url: str | None,
    full_refresh: bool,
    incremental_endpoint: str | None,
    skip_models: bool,
) -> None:
    """Sync Atera into DuckDB, then build the SQL models.

    Without an API key and without --base-url, syncs from the built-in sandbox.
    """
    _sync_and_report(
        duckdb_path,
        base_url,
        full_refresh,
        incremental_endpoint,
        skip_models=skip_models,
        reconcile=None,
    )


def _sync_and_report(
    duckdb_path: Path,
    base_url: str | None,
    full_refresh: bool,
    incremental_endpoint: str | None,
    *,
    skip_models: bool,
    reconcile: bool | None,
) -> None:
    config = _load_config()
    models_step = None if skip_models else _ModelsStep(as_of=None)
    if incremental_endpoint:
        config.incremental_endpoint = incremental_endpoint
    try:
        config.api_shape = config.resolved_api_shape()
        privacy = load_privacy()
    except ConfigurationError as exc:
        _fail(2, str(exc))
    with ExitStack() as stack:
        if not config.api_key:
            if base_url:
                _fail(
                    2,
                    "no Atera API key is configured for --base-url: set [sources.atera] "
                    "api_key in .dlt/secrets.toml or SOURCES__ATERA__API_KEY",
                )
            base_url = _start_demo_sandbox(stack, config)
        if base_url:
            try:
                api_url_from(base_url)
            except ConfigurationError as exc:
                _fail(2, str(exc))
        try:
            with ProgressReporter() as progress:
                result = run_sync(
                    config,
                    duckdb_path,
                    base_url=base_url,
                    full_refresh=full_refresh,
                    progress=progress,
                    after_load=models_step,
                    reconcile=reconcile,
                    privacy=privacy,
                )
        except SyncAlreadyRunning as exc:
            _fail(3, str(exc))
        except (SyncError, ConfigurationError) as exc:
            _fail(1, str(exc))
    print_sync_summary(console, result)
    if models_step is not None:
        models_step.print_result()


@main.command()
@duckdb_option
@click.option(
    "--as-of",
    "as_of",
    help="Evaluate pending SLAs at this instant (ISO 8601, default now) to reproduce a report.",
)
def models(duckdb_path: Path, as_of: str | None) -> None:
    """Build the SQL models (staging, intermediate, marts) and run the data tests."""
    step = _ModelsStep(as_of=_parse_as_of(as_of))
    try:
        refresh_after_load(duckdb_path, step)
    except FileNotFoundError as exc:
        _fail(2, str(exc))
    except SyncAlreadyRunning as exc:
        _fail(3, str(exc))
    except ModelsError as exc:
        _fail(1, f"SQL models failed: {exc}")
    step.print_result()


@main.command()
@duckdb_option
@base_url_option
def reconcile(duckdb_path: Path, base_url: str | None) -> None:
    """Sync, then list every ticket id and mark the tickets Atera no longer has as deleted."""
    _sync_and_report(duckdb_path, base_url, False, None, skip_models=False, reconcile=True)


@main.command()
@duckdb_option
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("site/dbt-docs"),
    show_default=True,
    help="Folder for the docs page (index.html).",
)
def docs(duckdb_path: Path, out_dir: Path) -> None:
    """Write the dbt docs site (models, columns, tests, lineage) as one HTML page.

    Uses the warehouse's catalog when it exists, else builds the models on an empty one.
    """
    from pipelines.models.docs import generate_docs

    try:
        page = docs_for_warehouse(duckdb_path, lambda work: generate_docs(work, out_dir))
    except SyncAlreadyRunning as exc:
        _fail(3, str(exc))
    except FileNotFoundError:
        page = generate_docs(None, out_dir)
    except ModelsError as exc:
        _fail(1, f"dbt docs failed: {exc}")
    console.print(f"dbt docs: {page}", soft_wrap=True)


# the sandbox keeps its one command line with itself, so that `atera-sync sandbox`
# and `python -m pipelines.sandbox` take the same options
main.add_command(sandbox_command, name="sandbox")


def _load_config() -> AteraConfiguration:
    try:
        return load_atera_configuration()
    except Exception as exc:  # dlt raises its own config errors; show them plainly
        _fail(2, f"cannot read [sources.atera] settings: {exc}")
        raise  # pragma: no cover


def _start_demo_sandbox(stack: ExitStack, config: AteraConfiguration) -> str:
    from pipelines.sandbox import AteraSandbox

    sandbox_server = stack.enter_context(
        AteraSandbox(api_key=DEMO_API_KEY, rate_limit=DEMO_RATE_LIMIT_PER_MINUTE)
    )
    config.api_key = DEMO_API_KEY
    config.rate_limit_per_minute = DEMO_RATE_LIMIT_PER_MINUTE
    console.print(
        "[bold yellow]No Atera API key is configured[/] (\\[sources.atera] api_key or "
        "SOURCES__ATERA__API_KEY), so this run syncs [bold]demo data[/] from the built-in "
        f"Atera sandbox at {sandbox_server.api_url} (rate limit "
        f"{DEMO_RATE_LIMIT_PER_MINUTE:,}/min; against Atera the client keeps to its share "
        "of the account's 700/min, 350/min by default). See README.md to sync your account.",
        soft_wrap=True,
    )
    return sandbox_server.api_url


class _ModelsStep:
    """Builds the SQL models on the working copy before it is published."""

    def __init__(self, as_of: datetime | None) -> None:
        self.as_of = as_of
        try:
            self.settings = load_model_settings()
        except ModelSettingsError as exc:
            _fail(2, f"invalid [models] settings: {exc}")
        self.result: ModelsResult | None = None

    def __call__(self, work_path: Path) -> None:
        with duckdb.connect(str(work_path)) as con:
            self.result = run_models(con, as_of=self.as_of, settings=self.settings)

    def print_result(self) -> None:
        if self.result is None:
            return
        console.print(
            f"models: built {len(self.result.models)} relations, {self.result.tests_passed} "
            f"data tests passed in {self.result.duration_s:.1f} s"
        )
        print_compliance(console, self.result.compliance_by_priority, self.result.as_of)


def _parse_as_of(value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        _fail(2, f"--as-of {value!r} is not an ISO 8601 timestamp, e.g. 2026-01-31T23:59:59Z")
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _fail(code: int, message: str) -> NoReturn:
    Console(stderr=True).print(f"[bold red]error:[/] {escape(message)}", highlight=False)
    sys.exit(code)


if __name__ == "__main__":
    main()
