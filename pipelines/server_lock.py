"""One writer at a time on a server warehouse.

On PostgreSQL a run holds a session-level advisory lock for its whole length,
on a connection of its own (not one that dlt or dbt use, which come and go),
with TCP keepalives so that a dead network path is noticed and the server
frees the lock of a run that vanished. A second run finds the lock taken and
stops at once (exit code 3), as on the DuckDB file.

Behind a connection pooler in *transaction* mode (PgBouncer's
`pool_mode = transaction`) a session lock is not held by "this session": each
statement may reach another server connection. The lock connection checks that
two statements in a row reach the same server process and refuses to run
otherwise, with what to do (connect the run to the server directly, or through
a pool in session mode). A pool of exactly one connection cannot be told
apart; see docs/destinations.md.

Other server destinations (MotherDuck, BigQuery, Snowflake) have no lock that
outlives a statement; one scheduler job (a systemd timer, an Airflow DAG with
`max_active_runs=1`) guards them, and dlt's state keeps a second run from
moving the watermark past data that did not land.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from pipelines.atera.errors import ConfigurationError

logger = logging.getLogger("atera_sync.lock")

ADVISORY_LOCK_KEY = 0x4154_4552_4153_594E
"""`pg_try_advisory_lock` key of atera-sync runs (per database): "ATERASYN"."""

KEEPALIVES = {
    "keepalives": 1,
    "keepalives_idle": 30,
    "keepalives_interval": 10,
    "keepalives_count": 3,
}


class ServerLockTaken(Exception):
    """Another run holds the warehouse's lock."""


class ServerUnreachable(Exception):
    """The server refused the connection (address, credentials, network)."""


class ServerRunLock:
    """`with ServerRunLock(credentials, label):` holds the advisory lock or raises at once.

    Raises:
        ServerLockTaken: another run holds it.
        ConfigurationError: a transaction-pooling proxy stands between us and the server.
    """

    def __init__(self, credentials: Any, label: str) -> None:
        self.credentials = credentials
        self.label = label
        self.connection: Any = None

    def __enter__(self) -> ServerRunLock:
        import psycopg2

        c = self.credentials
        key = ADVISORY_LOCK_KEY - (1 << 64) if ADVISORY_LOCK_KEY >= 1 << 63 else ADVISORY_LOCK_KEY
        try:
            self.connection = psycopg2.connect(
                host=c.host,
                port=c.port,
                user=c.username,
                password=c.password,
                dbname=c.database,
                connect_timeout=int(getattr(c, "connect_timeout", 15) or 15),
                application_name="atera-sync run lock",
                **KEEPALIVES,
            )
        except psycopg2.Error as exc:
            detail = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise ServerUnreachable(
                f"cannot connect to {self.label}: {detail}; check the server and "
                "DESTINATION__POSTGRES__CREDENTIALS (or [destination.postgres] credentials); "
                "this run did nothing"
            ) from None
        self.connection.autocommit = True
        try:
            with self.connection.cursor() as cursor:
                cursor.execute("select pg_backend_pid()")
                first = cursor.fetchone()[0]
                cursor.execute("select pg_try_advisory_lock(%s), pg_backend_pid()", (key,))
                taken, second = cursor.fetchone()
            if first != second:
                raise ConfigurationError(
                    f"the connection to {self.label} goes through a pooler in transaction "
                    "mode (two statements reached two server processes), so the run lock "
                    "cannot be held: connect atera-sync to PostgreSQL directly, or through a "
                    "pool in session mode"
                )
            if not taken:
                raise ServerLockTaken(
                    f"another atera-sync run is already writing {self.label} (it holds the "
                    "advisory lock); wait for it to finish, this run did nothing"
                )
        except BaseException:
            self.connection.close()
            raise
        logger.debug("holding the run lock of %s", self.label)
        return self

    def __exit__(self, *exc: object) -> None:
        # closing the session frees its advisory locks
        if self.connection is not None:
            self.connection.close()


@contextmanager
def no_server_lock(destination: str) -> Iterator[None]:
    """The lock of destinations without one: a note in the log, nothing held."""
    logger.info("%s has no run lock: run atera-sync from one scheduler job at a time", destination)
    yield
