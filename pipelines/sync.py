"""Run one sync: Atera -> dlt -> DuckDB, safely, and report what happened.

Safety rules this module enforces:

* One run at a time per DuckDB file (a lock file beside it); a second run
  exits at once with a clear message.
* Data and watermark land together: dlt keeps the source state in the same
  load package as the rows. If a run fails, its local working folder is
  discarded, so the next run restores the state from the warehouse and starts
  again from the last watermark that actually landed.
* Rows are written as Parquet files, which DuckDB ingests an order of
  magnitude faster than dlt's default INSERT statements.
"""

from __future__ import annotations

import logging
import shutil
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, tzinfo
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import dlt
from dlt.common.pipeline import LoadInfo
from filelock import FileLock, Timeout

from pipelines.atera import atera_source
from pipelines.atera.client import AteraClient
from pipelines.atera.config import AteraConfiguration
from pipelines.atera.errors import AteraError, ConfigurationError
from pipelines.atera.plan import ProgressCallback, SyncPlan, SyncReport

logger = logging.getLogger("atera_sync.sync")

PIPELINE_NAME = "atera_sync"
DATASET_NAME = "atera_raw"
DEFAULT_DUCKDB_PATH = Path("data/atera.duckdb")
LOADER_FILE_FORMAT = "parquet"
NOT_ADVANCED = "the watermark did not move: the next run starts from the last one that landed"

# dlt's telemetry would try to reach the internet on every run; keep runs offline.
dlt.config["runtime.dlthub_telemetry"] = False


class SyncError(Exception):
    """A sync failed; the message says why and what to do. The warehouse is unchanged."""


class SyncAlreadyRunning(SyncError):
    """Another sync holds the lock on the same DuckDB file."""


@dataclass
class SyncResult:
    """The figures of one successful sync, for the summary and run history."""

    duckdb_path: Path
    started_at: datetime
    duration_s: float
    rows: dict[str, int]
    api_calls: int
    retries: int
    report: SyncReport
    step_seconds: dict[str, float] = field(default_factory=dict)
    load_info: LoadInfo | None = field(default=None, repr=False)

    @property
    def load_rows_per_second(self) -> float:
        """Rows per second of dlt's normalize + load steps (API time excluded)."""
        seconds = self.step_seconds.get("normalize", 0.0) + self.step_seconds.get("load", 0.0)
        return sum(self.rows.values()) / seconds if seconds else 0.0


def working_dir_for(duckdb_path: Path) -> Path:
    """dlt's working folder for a warehouse file: beside it, hidden."""
    return duckdb_path.parent / f".{duckdb_path.stem}.dlt"


def make_pipeline(duckdb_path: Path) -> dlt.Pipeline:
    """The dlt pipeline that loads into `duckdb_path`, dataset `atera_raw`."""
    duckdb_path = duckdb_path.resolve()
    duckdb_path.parent.mkdir(parents=True, exist_ok=True)
    return dlt.pipeline(
        pipeline_name=PIPELINE_NAME,
        destination=dlt.destinations.duckdb(str(duckdb_path)),
        dataset_name=DATASET_NAME,
        pipelines_dir=str(working_dir_for(duckdb_path)),
    )


def build_client(config: AteraConfiguration, base_url: str | None = None) -> AteraClient:
    """An AteraClient from the resolved `[sources.atera]` configuration."""
    return AteraClient(
        base_url or config.base_url,
        config.api_key or "",
        rate_limit_per_minute=config.rate_limit_per_minute,
        concurrency=config.concurrency,
        timeout_seconds=config.timeout_seconds,
        max_attempts=config.max_attempts,
        backoff_initial_seconds=config.backoff_initial_seconds,
        backoff_max_seconds=config.backoff_max_seconds,
        page_size=config.page_size,
        auth_scheme=config.auth_scheme,
    )


def naive_zone(name: str | None) -> tzinfo:
    """The zone for timestamps sent without an offset: the configured one, else UTC.

    Raises:
        ConfigurationError: for a zone name the system does not know.
    """
    if not name:
        return UTC
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigurationError(
            f"[sources.atera] timezone {name!r} is not an IANA time zone such as Europe/Paris"
        ) from None


def run_sync(
    config: AteraConfiguration,
    duckdb_path: Path = DEFAULT_DUCKDB_PATH,
    *,
    base_url: str | None = None,
    full_refresh: bool = False,
    progress: ProgressCallback | None = None,
) -> SyncResult:
    """Sync Atera into the DuckDB file and return the run's figures.

    Args:
        config: resolved `[sources.atera]` settings (API key, rate limit, ...).
        duckdb_path: the warehouse file; created if missing.
        base_url: overrides `config.base_url`.
        full_refresh: ignore the watermark and reload every ticket (merged).
        progress: optional callback(stage, done, total).

    Raises:
        SyncAlreadyRunning: another run holds the lock for this file.
        SyncError: the run failed; nothing was loaded and the watermark is unchanged.
    """
    duckdb_path = Path(duckdb_path)
    duckdb_path.parent.mkdir(parents=True, exist_ok=True)
    lock = FileLock(str(duckdb_path) + ".lock")
    try:
        lock.acquire(timeout=0)
    except Timeout:
        raise SyncAlreadyRunning(
            f"another atera-sync run is already writing {duckdb_path} (lock file "
            f"{duckdb_path}.lock); wait for it to finish, this run did nothing"
        ) from None
    try:
        return _run_locked(config, duckdb_path, base_url, full_refresh, progress)
    finally:
        lock.release()


def _run_locked(
    config: AteraConfiguration,
    duckdb_path: Path,
    base_url: str | None,
    full_refresh: bool,
    progress: ProgressCallback | None,
) -> SyncResult:
    started = time.monotonic()
    started_at = datetime.now().astimezone()
    pipeline = make_pipeline(duckdb_path)
    plans: list[SyncPlan] = []
    with build_client(config, base_url) as client:
        source = atera_source(
            client=client,
            overlap_seconds=config.overlap_seconds,
            full_refresh=full_refresh,
            api_flavor=config.api_flavor,
            incremental_endpoint=config.incremental_endpoint,
            naive_zone=naive_zone(config.timezone),
            progress=progress,
            plan_sink=plans.append,
        )
        try:
            load_info = pipeline.run(source, loader_file_format=LOADER_FILE_FORMAT)
        except Exception as exc:
            _discard_local_progress(pipeline)
            raise SyncError(_explain(exc)) from exc
        stats = client.stats
    trace = pipeline.last_trace
    rows: dict[str, int] = {}
    steps: dict[str, float] = {}
    if trace is not None:
        if trace.last_normalize_info is not None:
            rows = {
                table: count
                for table, count in trace.last_normalize_info.row_counts.items()
                if not table.startswith("_dlt")
            }
        for step in trace.steps:
            if step.finished_at is not None:
                steps[step.step] = (step.finished_at - step.started_at).total_seconds()
    return SyncResult(
        duckdb_path=duckdb_path,
        started_at=started_at,
        duration_s=time.monotonic() - started,
        rows=rows,
        api_calls=stats.calls,
        retries=stats.retries,
        report=plans[0].report if plans else SyncReport(),
        step_seconds=steps,
        load_info=load_info,
    )


def _discard_local_progress(pipeline: dlt.Pipeline) -> None:
    """Forget local state and packages so the next run restarts from the warehouse."""
    working_dir = Path(pipeline.working_dir)
    shutil.rmtree(working_dir, ignore_errors=True)
    logger.info("discarded local pipeline state in %s", working_dir)


def _explain(exc: BaseException) -> str:
    """The most useful message in an exception chain (our own errors first)."""
    seen: set[int] = set()
    current: Any = exc
    messages: list[str] = []
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, AteraError):
            return f"{current} ({NOT_ADVANCED})"
        messages.append(str(current))
        current = getattr(current, "exception", None) or current.__cause__ or current.__context__
    detail = messages[-1] if messages else type(exc).__name__
    return f"sync failed: {detail} ({NOT_ADVANCED})"
