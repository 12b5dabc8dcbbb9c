"""Run one sync: Atera -> dlt -> DuckDB, safely, and report what happened.

Safety rules this module enforces:

* One run at a time per warehouse (a lock file beside it); a second run exits
  at once with a clear message.
* Data and watermark land together: dlt keeps the source state in the same
  load package as the rows, and trusts only the state of completed loads. If a
  run fails, its local working folder is discarded, so the next run restores
  the state from the warehouse and starts again from the last watermark that
  actually landed. A run that was killed resumes its pending load first.
* A full sync commits every `full_sync_chunk_pages` pages, so rerunning after a
  kill resumes where the last chunk landed instead of starting from zero.
* Readers never see a half-loaded state: dlt loads into a working copy, which
  is published atomically when the run (and its models) succeed; see
  `pipelines.warehouse`.
* Rows are written as Parquet files, which DuckDB ingests an order of
  magnitude faster than dlt's default INSERT statements.
"""

from __future__ import annotations

import logging
import shutil
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, tzinfo
from pathlib import Path
from typing import Any, Final, NoReturn
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import dlt
import duckdb
from filelock import FileLock, Timeout

from pipelines.atera import atera_source
from pipelines.atera.client import AteraClient, ClientStats
from pipelines.atera.config import AteraConfiguration
from pipelines.atera.errors import AteraError, ConfigurationError
from pipelines.atera.plan import ProgressCallback, SyncPlan, SyncReport
from pipelines.atera.privacy import Privacy, load_privacy
from pipelines.atera.reconcile import ReconcileReport, atera_reconcile_source
from pipelines.atera.records import as_utc
from pipelines.destination import DEFAULT_DUCKDB_PATH, DUCKDB
from pipelines.export import ExportError, export_after_sync
from pipelines.live_marts import KEEP_PREVIOUS_RUNS
from pipelines.load_tuning import apply_load_tuning, duckdb_destination
from pipelines.log_output import mask_secrets, register_secret, set_run_id
from pipelines.native_memory import bound_native_memory, release_free_memory
from pipelines.privacy_upgrade import apply_to_loaded_rows, rewrite_fresh, rewrite_pending
from pipelines.private_files import ensure_private_dir
from pipelines.raw_tables import complete_raw_tables
from pipelines.server_export import export_server_after_sync
from pipelines.server_lock import ServerLockTaken, ServerUnreachable
from pipelines.server_warehouse import ServerWarehouse
from pipelines.warehouse import Warehouse, history_row, new_run_id

logger = logging.getLogger("atera_sync.sync")

PIPELINE_NAME = "atera_sync"
DATASET_NAME = "atera_raw"
LOADER_FILE_FORMAT: Final = "parquet"
NOT_ADVANCED = "the watermark did not move: the next run starts from the last one that landed"
MAX_FULL_SYNC_CHUNKS = 100_000

AnyWarehouse = Warehouse | ServerWarehouse
AfterLoad = Callable[[Any, datetime | None], None]
"""Called after the data landed and before publishing (the models), with where the models
are built (the DuckDB working copy's Path, or the ServerWarehouse) and the server time the
data is true as of (None: unknown, e.g. a models-only rebuild: the step reads the sync
history)."""


class SyncError(Exception):
    """A sync failed; the message says why and what to do. The published warehouse is unchanged."""


class SyncAlreadyRunning(SyncError):
    """Another sync holds the lock on the same warehouse (DuckDB file or server)."""


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
    chunks: int = 1
    reconcile: ReconcileReport | None = None
    warehouse_label: str = ""
    """Where the data went: the DuckDB file, or `postgres://host:port/database`."""

    @property
    def load_rows_per_second(self) -> float:
        """Rows per second of dlt's normalize + load steps (API time excluded)."""
        seconds = self.step_seconds.get("normalize", 0.0) + self.step_seconds.get("load", 0.0)
        return sum(self.rows.values()) / seconds if seconds else 0.0


def make_pipeline(warehouse: AnyWarehouse) -> dlt.Pipeline:
    """The dlt pipeline that loads the warehouse (a DuckDB file's working copy, or a
    server), dataset `atera_raw`."""
    if isinstance(warehouse, ServerWarehouse):
        return warehouse.pipeline()
    # dlt's telemetry would try to reach the internet on every run: keep runs offline
    dlt.config["runtime.dlthub_telemetry"] = False
    # no copies of the rows beyond the warehouse: neither the files of completed loads
    # nor the staging tables that a merge leaves behind
    dlt.config["load.delete_completed_jobs"] = True
    dlt.config["load.truncate_staging_dataset"] = True
    apply_load_tuning()
    return dlt.pipeline(
        pipeline_name=PIPELINE_NAME,
        destination=duckdb_destination(str(warehouse.work)),
        dataset_name=DATASET_NAME,
        pipelines_dir=str(warehouse.pipelines_dir),
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
        rate_limit_patience_seconds=config.rate_limit_patience_seconds,
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
    after_load: AfterLoad | None = None,
    reconcile: bool | None = None,
    privacy: Privacy | None = None,
    destination: str = DUCKDB,
) -> SyncResult:
    """Sync Atera into the warehouse, publish it, and return the run's figures.

    Args:
        config: resolved `[sources.atera]` settings (API key, rate limit, ...).
        duckdb_path: the published warehouse file that readers open; created if missing.
        base_url: overrides `config.base_url`.
        full_refresh: ignore the watermark and reload every ticket (merged).
        progress: optional callback(stage, done, total).
        after_load: run on the working copy before publishing (the SQL models,
            which roll back on failure); if it raises, the run is recorded as failed
            and fails, but the complete raw data is still published.
        reconcile: list every ticket id afterwards to find deleted tickets; None:
            when the last reconciliation is `reconcile_every_days` old.
        privacy: columns to hash or drop (default: `[privacy]` from the dlt config).
        destination: `duckdb` (the file at `duckdb_path`), or a server destination
            (`pipelines.destination`) configured the dlt way; dlt's local working folder
            for a server goes beside `duckdb_path`.

    Raises:
        ConfigurationError: the `[privacy]` or destination settings are invalid; nothing
            was done.
        SyncAlreadyRunning: another run holds the lock for this warehouse.
        SyncError: the run failed; the published warehouse and the watermark are unchanged.
    """
    privacy = load_privacy() if privacy is None else privacy
    register_secret(config.api_key)  # masked in log records and the run's history row
    warehouse = open_warehouse(duckdb_path, destination)
    with _run_lock(warehouse):
        run = _Run(config, warehouse, base_url, full_refresh, progress, after_load, reconcile)
        run.privacy = privacy
        return run.execute()


def open_warehouse(duckdb_path: Path, destination: str = DUCKDB) -> AnyWarehouse:
    """The DuckDB file at `duckdb_path`, or the server warehouse of `destination`.

    Raises:
        ConfigurationError: the server's credentials are missing.
    """
    if destination != DUCKDB:
        return ServerWarehouse(destination, state_root=Path(duckdb_path).expanduser().parent)
    warehouse = Warehouse.at(duckdb_path)
    ensure_private_dir(warehouse.published.parent, tighten_existing=False)
    return warehouse


@contextmanager
def _run_lock(warehouse: AnyWarehouse) -> Iterator[None]:
    """Hold the warehouse's run lock, or fail at once if another run holds it."""
    if isinstance(warehouse, ServerWarehouse):
        try:
            with warehouse.lock():
                yield
        except ServerLockTaken as exc:
            raise SyncAlreadyRunning(str(exc)) from None
        except ServerUnreachable as exc:
            raise SyncError(mask_secrets(str(exc))) from None
        return
    lock = FileLock(str(warehouse.lock_file))
    try:
        lock.acquire(timeout=0)
    except Timeout:
        raise SyncAlreadyRunning(
            f"another atera-sync run is already writing {warehouse.published} (lock file "
            f"{warehouse.lock_file.name}); wait for it to finish, this run did nothing"
        ) from None
    try:
        yield
    finally:
        lock.release()


class _Run:
    """One locked run: chunks of dlt loads, the after-load step, history, publishing."""

    def __init__(
        self,
        config: AteraConfiguration,
        warehouse: AnyWarehouse,
        base_url: str | None,
        full_refresh: bool,
        progress: ProgressCallback | None,
        after_load: AfterLoad | None,
        reconcile: bool | None,
    ) -> None:
        self.reconcile = reconcile
        self.reconcile_report: ReconcileReport | None = None
        self.config = config
        self.warehouse = warehouse
        self.base_url = base_url
        self.full_refresh = full_refresh
        self.progress = progress
        self.after_load = after_load
        self.run_id = new_run_id()
        set_run_id(self.run_id)  # log records of this run carry its id
        self.started_at = datetime.now(UTC)
        self.started = time.monotonic()
        self.rows: Counter[str] = Counter()
        self.steps: dict[str, float] = {}
        self.reports: list[SyncReport] = []
        self.stats = ClientStats()
        self.privacy = Privacy()

    def execute(self) -> SyncResult:
        bound_native_memory()  # before the HTTP, dlt and DuckDB threads start
        try:
            self.warehouse.prepare()
            if isinstance(self.warehouse, Warehouse):
                apply_to_loaded_rows(self.warehouse.work, self.privacy)
            zone = naive_zone(self.config.timezone)
            with build_client(self.config, self.base_url) as client:
                self.stats = client.stats
                pipeline = self._load_chunks(client, zone)
                if self._reconcile_due(pipeline):
                    self._reconcile(pipeline, client, zone)
            with pipeline.sql_client() as sql:
                complete_raw_tables(sql.execute_sql, pipeline.dataset_name)
        except Exception as exc:
            self._fail(_explain(exc), exc)
        if self.after_load is not None:
            try:
                self.after_load(models_target(self.warehouse), self._data_as_of())
            except Exception as exc:
                # the raw data is complete and the models rolled back to their last good
                # build: publish that, so analysts get today's data, and say what failed
                message = (
                    "the data landed and was published, but the SQL models failed and "
                    f"keep their last good build: {exc}"
                )
                self._record("failed", message, landed=True)
                publish(self.warehouse, self.run_id)
                raise SyncError(message) from exc
        self._record("success", None)
        publish(self.warehouse, self.run_id)
        self._export()
        return SyncResult(
            duckdb_path=published_path(self.warehouse),
            warehouse_label=warehouse_label(self.warehouse),
            started_at=self.started_at,
            duration_s=time.monotonic() - self.started,
            rows=dict(self.rows),
            api_calls=self.stats.calls,
            retries=self.stats.retries,
            report=self._combined_report(),
            step_seconds=dict(self.steps),
            chunks=len(self.reports),
            reconcile=self.reconcile_report,
        )

    def _data_as_of(self) -> datetime | None:
        """The server time of this sync's start: the clock of its watermark."""
        return self._combined_report().server_time if self.reports else None

    def _export(self) -> None:
        """`[export]`: write the published marts as files too, when configured."""
        try:
            if isinstance(self.warehouse, ServerWarehouse):
                export_server_after_sync(self.warehouse)
            else:
                export_after_sync(self.warehouse.published)
        except ExportError as exc:
            raise SyncError(f"the run succeeded and was published, but {exc}") from exc

    def _fail(self, message: str, exc: Exception) -> NoReturn:
        self._record("failed", message)
        raise SyncError(message) from exc

    def _load_chunks(self, client: AteraClient, zone: tzinfo) -> dlt.Pipeline:
        """dlt runs until the sync is complete: one for an incremental sync, a chunk each
        for a full one."""
        pipeline = make_pipeline(self.warehouse)
        if pipeline.has_pending_data:
            pipeline = self._finish_interrupted_load(pipeline)
        full_refresh = self.full_refresh
        for chunk in range(MAX_FULL_SYNC_CHUNKS):
            plans: list[SyncPlan] = []
            source = atera_source(
                client=client,
                overlap_seconds=self.config.overlap_seconds,
                full_refresh=full_refresh,
                full_sync_chunk_pages=self.config.full_sync_chunk_pages,
                api_shape=self.config.resolved_api_shape(),
                incremental_endpoint=self.config.incremental_endpoint,
                naive_zone=zone,
                progress=self.progress,
                privacy=self.privacy,
                plan_sink=plans.append,
                account_tables=chunk == 0,  # customers and contracts: once per run
                safety_net_every_days=self.config.safety_net_every_days,
                work_hours_lookback_days=self.config.work_hours_lookback_days,
            )
            try:
                pipeline.run(source, loader_file_format=loader_format(self.warehouse))
            except Exception:
                _discard_local_progress(pipeline)
                if plans:
                    self.reports.append(plans[0].report)
                raise
            self._collect(pipeline)
            release_free_memory()  # what this chunk freed, before the next one
            if not plans or not plans[0].listed:
                raise SyncError("dlt loaded nothing from the Atera source; run again")
            report = plans[0].report
            self.reports.append(report)
            if report.mode != "full" or report.full_sync_done:
                return pipeline
            # the next chunk continues the full sync from the state that just landed
            full_refresh = False
            logger.info(
                "full sync: pages %s-%s landed, continuing", *(report.full_sync_pages or ("?", "?"))
            )
        raise SyncError(f"a full sync did not finish within {MAX_FULL_SYNC_CHUNKS} chunks")

    def _finish_interrupted_load(self, pipeline: dlt.Pipeline) -> dlt.Pipeline:
        """Land the package that a killed run left behind, with its state; the pipeline to
        go on with.

        If it cannot land, discard it and go on from the last watermark that landed: on a
        server a killed run may have committed some of the package's tables already (dlt
        commits table by table), and copying them again breaks their unique `_dlt_id`.
        """
        logger.info("finishing the load that an interrupted run left behind")
        try:
            pipeline.run()
        except Exception as exc:
            _discard_local_progress(pipeline)
            logger.warning(
                "could not finish the load that an interrupted run left behind (%s); this "
                "run loads again from the last watermark that landed",
                str(exc).splitlines()[0] if str(exc) else type(exc).__name__,
            )
            if isinstance(self.warehouse, ServerWarehouse):
                self.warehouse.forget_pipeline()
            return make_pipeline(self.warehouse)
        self._collect(pipeline)
        return pipeline

    def _reconcile_due(self, pipeline: dlt.Pipeline) -> bool:
        if self.reconcile is not None:
            return self.reconcile
        every = self.config.reconcile_every_days
        if every <= 0:
            return False
        state = pipeline.state.get("sources", {}).get("atera", {})
        last = as_utc(state.get("last_reconcile_at"))
        now = self._combined_report().server_time
        if now is None:  # without the server's time there is no telling; wait for one
            return False
        return last is None or now - last >= timedelta(days=every)

    def _reconcile(self, pipeline: dlt.Pipeline, client: AteraClient, zone: tzinfo) -> None:
        if isinstance(self.warehouse, ServerWarehouse):
            known, deleted = self.warehouse.ticket_ids()
        else:
            known, deleted = _ticket_ids(self.warehouse.work)
        reports: list[ReconcileReport] = []
        source = atera_reconcile_source(
            client=client,
            known_ticket_ids=known,
            deleted_ticket_ids=deleted,
            naive_zone=zone,
            report_sink=reports.append,
            privacy=self.privacy,
        )
        try:
            pipeline.run(source, loader_file_format=loader_format(self.warehouse))
        except Exception:
            _discard_local_progress(pipeline)
            raise
        self._collect(pipeline)
        self.reconcile_report = reports[0]

    def _collect(self, pipeline: dlt.Pipeline) -> None:
        trace = pipeline.last_trace
        if trace is None:
            return
        if trace.last_normalize_info is not None:
            for table, count in trace.last_normalize_info.row_counts.items():
                if not table.startswith("_dlt"):
                    self.rows[table] += count
        for step in trace.steps:
            if step.finished_at is not None:
                seconds = (step.finished_at - step.started_at).total_seconds()
                self.steps[step.step] = self.steps.get(step.step, 0.0) + seconds

    def _combined_report(self) -> SyncReport:
        if not self.reports:
            return SyncReport()
        first, last = self.reports[0], self.reports[-1]
        combined = SyncReport(**{**last.__dict__})
        combined.watermark_before = first.watermark_before
        combined.tickets_listed = sum(r.tickets_listed for r in self.reports)
        combined.child_targets = sum(r.child_targets for r in self.reports)
        combined.missing_ticket_ids = set().union(*(r.missing_ticket_ids for r in self.reports))
        combined.problems = [p for r in self.reports for p in r.problems]
        combined.server_time = first.server_time or last.server_time
        combined.child_fetches_skipped = sum(r.child_fetches_skipped for r in self.reports)
        combined.tickets_refreshed = sum(r.tickets_refreshed for r in self.reports)
        combined.safety_net = any(r.safety_net for r in self.reports)
        missed = [r.change_detection_missed for r in self.reports]
        known = [m for m in missed if m is not None]
        combined.change_detection_missed = sum(known) if known else None
        return combined

    def _record(self, status: str, error: str | None, *, landed: bool | None = None) -> None:
        """Append this run's history row; `landed`: the data reached the working copy."""
        landed = status == "success" if landed is None else landed
        report = self._combined_report()
        row = history_row(
            run_id=self.run_id,
            started_at=self.started_at,
            finished_at=datetime.now(UTC),
            status=status,
            mode=report.mode if self.reports else None,
            api_calls=self.stats.calls,
            retries=self.stats.retries,
            rows=dict(self.rows),
            watermark_before=report.watermark_before,
            watermark_after=report.new_watermark if landed else None,
            server_time=report.server_time,
            missing_ticket_ids=sorted(report.missing_ticket_ids),
            problems=report.problems,
            error=error,
            child_fetches_skipped=report.child_fetches_skipped if self.reports else None,
            safety_net=report.safety_net,
            change_detection_missed=report.change_detection_missed,
        )
        try:
            self.warehouse.record_run(row, publish_row_only=not landed)
        except Exception as exc:  # history must never hide the run's own outcome
            logger.warning("could not record the run in the history table: %s", exc)


def _ticket_ids(work: Path) -> tuple[set[int], set[int]]:
    """The ticket ids in the warehouse, and those marked deleted."""
    with duckdb.connect(str(work), read_only=True) as con:
        tables = {
            name
            for (name,) in con.execute(
                "select table_name from information_schema.tables where table_schema = ?",
                [DATASET_NAME],
            ).fetchall()
        }
        known: set[int] = set()
        deleted: set[int] = set()
        if "tickets" in tables:
            rows = con.execute(f"select ticket_id from {DATASET_NAME}.tickets").fetchall()
            known = {i for (i,) in rows}
        if "deleted_tickets" in tables:
            rows = con.execute(
                f"select ticket_id from {DATASET_NAME}.deleted_tickets where deleted_at is not null"
            ).fetchall()
            deleted = {i for (i,) in rows}
    return known, deleted


def refresh_after_load(duckdb_path: Path, step: AfterLoad, destination: str = DUCKDB) -> None:
    """Run the after-load step alone (rebuild the models) and publish, under the run lock.

    Raises:
        SyncAlreadyRunning: a run holds the lock.
        FileNotFoundError: there is no warehouse at `duckdb_path` yet.
        ConfigurationError: the server's credentials are missing.
    """
    if destination != DUCKDB:
        server = ServerWarehouse(destination, state_root=Path(duckdb_path).expanduser().parent)
        with _run_lock(server):
            step(server, None)
        return
    warehouse = Warehouse.at(duckdb_path)
    if not warehouse.published.exists() and not warehouse.work.exists():
        raise FileNotFoundError(f"{duckdb_path} does not exist: run `atera-sync run` first")
    with _run_lock(warehouse):
        warehouse.prepare()
        step(warehouse.work, None)
        publish(warehouse)


def docs_for_warehouse(duckdb_path: Path, write: Callable[[Path], Path]) -> Path:
    """Call `write(working copy)` under the run lock (the docs read the built models).

    Raises:
        SyncAlreadyRunning: a run holds the lock.
        FileNotFoundError: there is no warehouse at `duckdb_path` yet.
    """
    warehouse = Warehouse.at(duckdb_path)
    if not warehouse.published.exists() and not warehouse.work.exists():
        raise FileNotFoundError(f"{duckdb_path} does not exist")
    with _run_lock(warehouse):
        warehouse.prepare()
        return write(warehouse.work)


def models_target(warehouse: AnyWarehouse) -> Any:
    """What the after-load step builds the models in: the working copy's path, or the server."""
    return warehouse if isinstance(warehouse, ServerWarehouse) else warehouse.work


def published_path(warehouse: AnyWarehouse) -> Path:
    """The published DuckDB file (for a server: the folder of dlt's local state)."""
    if isinstance(warehouse, ServerWarehouse):
        return warehouse.state_root
    return warehouse.published


def warehouse_label(warehouse: AnyWarehouse) -> str:
    """Where the data lands, for people: the published file, or the server without secrets."""
    if isinstance(warehouse, ServerWarehouse):
        return warehouse.label
    return str(warehouse.published)


def loader_format(warehouse: AnyWarehouse) -> Any:
    """The file format dlt writes the rows in for this warehouse."""
    if isinstance(warehouse, ServerWarehouse):
        return warehouse.loader_file_format
    return LOADER_FILE_FORMAT


def publish(warehouse: AnyWarehouse, run_id: str | None = None) -> None:
    """Publish the working copy; first rewrite it into a fresh file if `[privacy]` changed rows.

    (DuckDB keeps the old values of changed rows in freed blocks of its file; after a
    rewrite no earlier run's marts are kept either.) A server warehouse has nothing to
    publish: its data is in place and the models swap their marts in themselves.
    """
    if isinstance(warehouse, ServerWarehouse):
        return
    rewritten = rewrite_pending(warehouse.work)
    if rewritten:
        rewrite_fresh(warehouse.work)
    warehouse.publish(run_id, keep_previous_runs=0 if rewritten else KEEP_PREVIOUS_RUNS)


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
        if isinstance(current, SyncError):
            return str(current)
        if isinstance(current, AteraError):
            return f"{current} ({NOT_ADVANCED})"
        messages.append(str(current))
        current = getattr(current, "exception", None) or current.__cause__ or current.__context__
    detail = messages[-1] if messages else type(exc).__name__
    return f"sync failed: {detail} ({NOT_ADVANCED})"
