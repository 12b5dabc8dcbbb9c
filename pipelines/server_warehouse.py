"""A warehouse on a database server (PostgreSQL; MotherDuck, BigQuery, Snowflake through dlt).

There is no working copy to publish: dlt loads `atera_raw` in the server
itself, and readers see each table as soon as dlt commits it (a server load
commits table by table; see docs/destinations.md). What stays the same as on
the DuckDB file:

* the watermark is in dlt's state, in `atera_raw._dlt_pipeline_state` in the
  same load package as the rows, so a failed or killed run leaves it where the
  last complete load put it, and the next run finishes or redoes the rest;
* the run history is `atera_meta.sync_runs`, one row per run, failed or not;
* the marts are built into a shadow schema, tested there, and swapped into
  `analytics` in one transaction (`pipelines.models.server_marts`);
* one writer at a time: on PostgreSQL a session-level advisory lock, held on a
  dedicated connection with TCP keepalives for the whole run (`ServerRunLock`).

dlt keeps a local working folder (load packages in flight, a cache of the
state) under `data/`, named after the server and database, so that two
warehouses never share one; the state itself is restored from the server.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import dlt

from pipelines.atera.errors import ConfigurationError
from pipelines.destination import POSTGRES
from pipelines.load_tuning import apply_load_tuning
from pipelines.log_output import register_secret
from pipelines.server_lock import ServerRunLock, no_server_lock
from pipelines.server_sql import history_ddl

logger = logging.getLogger("atera_sync.warehouse")

PIPELINE_NAME = "atera_sync"
DATASET_NAME = "atera_raw"
DEFAULT_STATE_ROOT = Path("data")

LOADER_FILE_FORMATS: dict[str, str] = {POSTGRES: "parquet"}
"""The file format dlt loads with, per destination (else dlt's preferred one). PostgreSQL
takes Parquet through ADBC's COPY (`adbc-driver-postgresql`), an order of magnitude faster
than INSERT statements; dlt's CSV path would be as fast but counts fields, not rows, in its
load figures."""

REPLACE_STRATEGIES: dict[str, str] = {POSTGRES: "insert-from-staging"}
"""How dlt replaces a whole table (`customers`, `contracts`), per destination. dlt's default
on PostgreSQL truncates the table when the load starts and copies the new rows later, so a
reader (or a run killed in between) would see it empty; from staging, the truncate and the
insert are one transaction."""


@dataclass
class ServerWarehouse:
    """One warehouse on a server, from dlt's configuration of `destination`.

    Raises (on creation):
        ConfigurationError: the destination's credentials are missing or invalid.
    """

    destination: str
    state_root: Path = DEFAULT_STATE_ROOT
    _pipeline: dlt.Pipeline | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        self.state_root = Path(self.state_root).expanduser().resolve()
        self.factory = getattr(dlt.destinations, self.destination)()
        self.credentials = _credentials(self.factory, self.destination)
        for secret in ("password", "private_key"):  # masked in every log line and error
            register_secret(getattr(self.credentials, secret, None))

    @property
    def label(self) -> str:
        """Where the data goes, without secrets: `postgres://host:port/database`."""
        host = getattr(self.credentials, "host", None) or ""
        port = getattr(self.credentials, "port", None)
        database = getattr(self.credentials, "database", None) or ""
        address = f"{host}:{port}" if port else host
        return f"{self.destination}://{address}/{database}"

    @property
    def identity(self) -> str:
        """A short digest of the label: names this warehouse's local folders."""
        return hashlib.sha256(self.label.encode()).hexdigest()[:10]

    @property
    def pipelines_dir(self) -> Path:
        """dlt's local working folder for this warehouse (packages in flight, state cache)."""
        return self.state_root / f".atera.{self.destination}-{self.identity}.dlt"

    @property
    def dbt_work_dir(self) -> Path:
        """dbt's folder for this warehouse (profile, compiled SQL, logs)."""
        return self.state_root / f".atera.{self.destination}-{self.identity}.dbt"

    @property
    def loader_file_format(self) -> str | None:
        chosen = LOADER_FILE_FORMATS.get(self.destination)
        if chosen == "parquet" and self.destination == POSTGRES and not _has_adbc():
            logger.info("adbc-driver-postgresql is not installed: loading with INSERT statements")
            return "insert_values"
        return chosen

    def pipeline(self) -> dlt.Pipeline:
        """The dlt pipeline that loads this warehouse's `atera_raw`."""
        if self._pipeline is None:
            dlt.config["runtime.dlthub_telemetry"] = False
            dlt.config["load.delete_completed_jobs"] = True
            dlt.config["load.truncate_staging_dataset"] = True
            if self.destination in REPLACE_STRATEGIES:
                key = f"destination.{self.destination}.replace_strategy"
                dlt.config[key] = REPLACE_STRATEGIES[self.destination]
            apply_load_tuning()  # the Arrow batches get dlt's columns, as on DuckDB
            self._pipeline = dlt.pipeline(
                pipeline_name=PIPELINE_NAME,
                destination=self.factory,
                dataset_name=DATASET_NAME,
                pipelines_dir=str(self.pipelines_dir),
            )
        return self._pipeline

    def forget_pipeline(self) -> None:
        """Drop the cached pipeline object (after its local folder was discarded)."""
        self._pipeline = None

    @contextmanager
    def sql(self) -> Iterator[Any]:
        """dlt's SQL client for this warehouse (`execute_sql(sql, *params)`, `%s` style)."""
        with self.pipeline().sql_client() as client:
            yield client

    def execute(self, sql: str, *params: Any) -> Sequence[Sequence[Any]] | None:
        """Run one statement in its own transaction; its rows, if any."""
        with self.sql() as client:
            return client.execute_sql(sql, *params)

    def lock(self) -> Any:
        """The context that keeps a second run out (see `pipelines.server_lock`)."""
        if self.destination == POSTGRES:
            return ServerRunLock(self.credentials, self.label)
        return no_server_lock(self.destination)

    def prepare(self) -> None:
        self.pipelines_dir.mkdir(parents=True, exist_ok=True)

    def table_exists(self, schema: str, table: str) -> bool:
        rows = self.execute(
            "select count(*) from information_schema.tables "
            "where table_schema = %s and table_name = %s",
            schema,
            table,
        )
        return bool(rows and rows[0][0])

    def ticket_ids(self) -> tuple[set[int], set[int]]:
        """The ticket ids in the warehouse, and those marked deleted."""
        known: set[int] = set()
        deleted: set[int] = set()
        if self.table_exists(DATASET_NAME, "tickets"):
            rows = self.execute(f"select ticket_id from {DATASET_NAME}.tickets") or []
            known = {int(i) for (i,) in rows}
        if self.table_exists(DATASET_NAME, "deleted_tickets"):
            rows = (
                self.execute(
                    f"select ticket_id from {DATASET_NAME}.deleted_tickets "
                    "where deleted_at is not null"
                )
                or []
            )
            deleted = {int(i) for (i,) in rows}
        return known, deleted

    def record_run(self, row: dict[str, Any], *, publish_row_only: bool = False) -> None:
        """Insert (or replace, by run_id) a run's row in `atera_meta.sync_runs`."""
        del publish_row_only  # a server has one copy: the row is visible at once
        columns = list(row)
        placeholders = ", ".join("%s" for _ in columns)
        with self.sql() as client:
            for statement in history_ddl(self.destination):
                client.execute_sql(statement)
            with client.begin_transaction():
                client.execute_sql(
                    "delete from atera_meta.sync_runs where run_id = %s", row["run_id"]
                )
                client.execute_sql(
                    f"insert into atera_meta.sync_runs ({', '.join(columns)}) "
                    f"values ({placeholders})",
                    *[row[c] for c in columns],
                )

    def publish(self, run_id: str | None = None) -> None:
        """Nothing to copy: the raw data is in place and the models swapped their marts in."""


def _has_adbc() -> bool:
    try:
        import adbc_driver_postgresql  # noqa: F401
    except ImportError:
        return False
    return True


def _credentials(factory: Any, destination: str) -> Any:
    try:
        spec = factory.spec()._bind_dataset_name(dataset_name=DATASET_NAME)
        return factory.configuration(spec).credentials
    except Exception as exc:
        upper = destination.upper()
        raise ConfigurationError(
            f"the {destination} destination has no usable credentials: set "
            f"[destination.{destination}] credentials in .dlt/secrets.toml or "
            f"DESTINATION__{upper}__CREDENTIALS (see docs/destinations.md); dlt said: "
            f"{str(exc).splitlines()[0]}"
        ) from None
