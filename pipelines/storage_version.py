"""Which DuckDB versions can open the warehouse: the storage version of its files.

DuckDB writes a file in the newest storage format by default, which older
DuckDB versions refuse to open ("can only read versions between ..."). The
drivers inside BI tools (Metabase, DBeaver, the ODBC driver, Grafana's plugin)
each bundle a fixed, often older, DuckDB. A file created with
`ATTACH ... (STORAGE_VERSION 'v1.1.0')` opens in DuckDB 1.1 and every later
version, and keeps that format when a newer DuckDB writes to it later.

So the warehouse's files are created with the configured storage version
(`[warehouse] storage_version`, default `v1.1.0`), and a file in another
format (a warehouse built before this setting, or after the setting changed)
is moved over once, by copying the whole database into a new file
(`COPY FROM DATABASE`: every table, view, comment, constraint and dlt's state)
that is renamed over it.
"""

from __future__ import annotations

import logging
import os
import re
import tempfile
from pathlib import Path

import dlt
import duckdb

from pipelines.atera.errors import ConfigurationError
from pipelines.private_files import tighten
from pipelines.sql_text import quote_identifier, quote_literal

logger = logging.getLogger("atera_sync.warehouse")

DEFAULT_STORAGE_VERSION = "v1.1.0"
"""The oldest format DuckDB 2.0 writes that keeps every feature the warehouse uses
(column comments included): DuckDB 1.1.0 and later open it."""

SETTING = "warehouse.storage_version"
# a setting no other connection uses makes `connect` refuse an instance this process
# already has open (ConnectionException) instead of sharing it
_OWN_INSTANCE: dict[str, str | bool | int | float | list[str]] = {
    "custom_user_agent": "atera-sync-storage-version"
}
_VERSION = re.compile(r"v\d+\.\d+\.\d+|latest")


def load_storage_version() -> str:
    """`[warehouse] storage_version` (env `WAREHOUSE__STORAGE_VERSION`), default `v1.1.0`.

    Raises:
        ConfigurationError: the value is not a storage version this DuckDB can write.
    """
    value = dlt.config.get(SETTING, str)
    version = str(value).strip() if value else DEFAULT_STORAGE_VERSION
    if not _VERSION.fullmatch(version):
        raise ConfigurationError(
            f"[warehouse] storage_version {version!r} is not a DuckDB version such as "
            f"{DEFAULT_STORAGE_VERSION!r} (or 'latest')"
        )
    try:
        format_tag_of_version(version)
    except duckdb.Error as exc:
        first = str(exc).splitlines()[0]
        raise ConfigurationError(
            f"[warehouse] storage_version {version!r} cannot be written by DuckDB "
            f"{duckdb.__version__}: {first}; use {DEFAULT_STORAGE_VERSION!r} or 'latest'"
        ) from None
    return version


def attach_options(version: str) -> str:
    """The options of an ATTACH that creates a file in `version`'s format."""
    return f"(storage_version {quote_literal(version)})"


def create_database(path: Path, version: str) -> None:
    """Create an empty DuckDB file at `path` in `version`'s storage format."""
    with duckdb.connect() as con:
        con.execute(f"attach {quote_literal(str(path))} as created {attach_options(version)}")
        con.execute("detach created")


def format_tag(path: Path) -> str:
    """The oldest DuckDB that opens the file at `path`, as DuckDB reports it (`v1.0.0+`)."""
    query = "select tags['storage_version'] from duckdb_databases() where database_name = ?"
    try:
        with duckdb.connect() as con:
            con.execute(f"attach {quote_literal(str(path))} as probed (read_only)")
            row = con.execute(query, ["probed"]).fetchone()
            con.execute("detach probed")
    except duckdb.Error:
        # this process has the file open already (DuckDB refuses a second handle): ask it
        with duckdb.connect(str(path)) as con:
            row = con.execute(query, [_current_database(con)]).fetchone()
    return str(row[0]) if row and row[0] else "unknown"


def format_tag_of_version(version: str) -> str:
    """The tag a new file created with `version` gets (several versions share one format)."""
    with tempfile.TemporaryDirectory() as folder:
        probe = Path(folder) / "probe.duckdb"
        create_database(probe, version)
        return format_tag(probe)


def ensure_storage_version(path: Path, version: str) -> bool:
    """Create the file in `version`'s format, or move an existing one over to it once.

    Returns:
        Whether the file was created or rewritten.
    """
    if not path.exists():
        create_database(path, version)
        return True
    current, wanted = format_tag(path), format_tag_of_version(version)
    if current == wanted:
        return False
    try:
        rewrite_in_format(path, version)
    except duckdb.ConnectionException:
        logger.warning(
            "%s is open elsewhere in this process, so it stays in DuckDB's %s format for "
            "now; the next run moves it to storage version %s",
            path.name,
            current,
            version,
        )
        return False
    logger.info(
        "moved %s to DuckDB storage version %s (readable by DuckDB %s; it was %s)",
        path.name,
        version,
        wanted.rstrip("+") + " and later",
        current,
    )
    return True


def rewrite_in_format(path: Path, version: str) -> None:
    """Copy the whole database at `path` into a new file of `version`, renamed over it.

    The new file is complete before the rename: a failure leaves `path` as it was.

    Raises:
        duckdb.ConnectionException: this process has the file open (a connection
            there would keep writing to the file renamed away, so it is not moved).
    """
    fresh = path.with_name(f"{path.name}.{version}.tmp")
    fresh.unlink(missing_ok=True)
    try:
        with duckdb.connect(str(path), config=_OWN_INSTANCE) as con:
            con.execute("checkpoint")
            name = _current_database(con)
            con.execute(f"attach {quote_literal(str(fresh))} as moved {attach_options(version)}")
            con.execute(f"copy from database {quote_identifier(name)} to moved")
            con.execute("detach moved")
        tighten([fresh])
        os.replace(fresh, path)
        path.with_name(f"{path.name}.wal").unlink(missing_ok=True)
    finally:
        fresh.unlink(missing_ok=True)
        fresh.with_name(f"{fresh.name}.wal").unlink(missing_ok=True)


def _current_database(con: duckdb.DuckDBPyConnection) -> str:
    row = con.execute("select current_database()").fetchone()
    assert row is not None
    return str(row[0])
