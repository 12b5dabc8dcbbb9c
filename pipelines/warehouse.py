"""The DuckDB files of one warehouse: the working copy, the published copy, run history.

Analysts and BI tools open `data/atera.duckdb` (the *published* file). A sync
does not load into it: dlt loads into a working copy beside it
(`data/.atera.work.duckdb`), the SQL models are built there, and only then is
the working copy published: copied to a temporary file and renamed over the
published one in one atomic step. So

* a reader holding the published file open (even read-write in another
  process) never makes the nightly run fail, and keeps seeing the previous
  snapshot until it reconnects;
* a reader never sees a half-loaded state: the published file is always the
  result of a complete run.

Every run, failed or not, appends a row to `atera_meta.sync_runs` in both
copies, so freshness can be queried where analysts look. A run whose data did
not land must add its row to the published file *without* publishing the
working copy. When nobody has the published file open, the row is written in
place, in one transaction that is checkpointed before the file is closed: the
file is never half-written and nothing is copied. (While that takes a few
milliseconds, DuckDB's file lock makes a reader that connects in that instant
fail; it can simply connect again.) When a reader holds the file, DuckDB
refuses the write lock at once, and the row goes through a staged copy that is
renamed over the published file, the same path a publish takes: slower, but
the reader never makes the run fail.

Every file of the warehouse is readable by its owner only (see
`pipelines.private_files`): copies are created 0600, `prepare` creates the
folders 0700 and tightens what an earlier run left readable by others (one log
line), and `record_run` and `publish` tighten what libraries created during the
run under a permissive umask (a program calling `run_sync` itself).
"""

from __future__ import annotations

import glob
import json
import logging
import os
import shutil
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb

from pipelines import __version__
from pipelines.live_marts import (
    KEEP_PREVIOUS_RUNS,
    MartRuns,
    materialize_live_views,
    replace_tables_by_views,
)
from pipelines.log_output import mask_secrets
from pipelines.models.dbt_build import work_dir_for
from pipelines.private_files import (
    create_private_file,
    ensure_private_dir,
    report_tightened,
    tighten,
)
from pipelines.published_catalog import drop_internal_schemas
from pipelines.storage_version import ensure_storage_version, load_storage_version

logger = logging.getLogger("atera_sync.warehouse")

HISTORY_SCHEMA = "atera_meta"
HISTORY_TABLE = f"{HISTORY_SCHEMA}.sync_runs"

HISTORY_DDL = f"""
create schema if not exists {HISTORY_SCHEMA};
create table if not exists {HISTORY_TABLE} (
    run_id varchar primary key,
    started_at timestamptz not null,
    finished_at timestamptz not null,
    status varchar not null,
    mode varchar,
    api_calls bigint,
    retries bigint,
    rows_loaded bigint,
    rows_per_table json,
    watermark_before timestamptz,
    watermark_after timestamptz,
    server_time timestamptz,
    missing_ticket_ids json,
    problems json,
    error varchar,
    code_version varchar,
    child_fetches_skipped bigint,
    safety_net boolean,
    change_detection_missed bigint
);
"""

HISTORY_UPGRADES = tuple(
    f"alter table {HISTORY_TABLE} add column if not exists {column} {kind}"
    for column, kind in (
        # 0.3: the version of atera-sync that wrote the row
        ("code_version", "varchar"),
        # 0.3: change detection (see history_row)
        ("child_fetches_skipped", "bigint"),
        ("safety_net", "boolean"),
        ("change_detection_missed", "bigint"),
    )
)
"""Columns added to the history table since 0.2.0, applied in place before each insert
(rows written before keep NULL)."""

# DuckDB's Python client shares one database instance per file within a process,
# and a shared instance may belong to a file that a publish has since renamed
# away: a row written through it would be lost. A setting no other connection
# uses makes `connect` refuse to share (ConnectionException), so the in-place
# write either opens the file on disk afresh or falls back to the staged copy.
_PRIVATE_INSTANCE: dict[str, str | bool | int | float | list[str]] = {
    "custom_user_agent": "atera-sync-history"
}


@dataclass(frozen=True)
class Warehouse:
    """The files that make up one warehouse, derived from the published path."""

    published: Path

    @classmethod
    def at(cls, path: Path | str) -> Warehouse:
        """The warehouse whose published file is `path` (made absolute)."""
        return cls(Path(path).expanduser().resolve())

    @property
    def work(self) -> Path:
        """The working copy that dlt loads into and the models are built in."""
        return self.published.with_name(f".{self.published.stem}.work.duckdb")

    @property
    def pipelines_dir(self) -> Path:
        """dlt's local working folder (state cache, load packages)."""
        return self.published.with_name(f".{self.published.stem}.dlt")

    @property
    def marts_dir(self) -> Path:
        """The published marts as Parquet, one folder per run, and the pointer to the current
        one (see `pipelines.live_marts`)."""
        return self.published.with_name(f"{self.published.stem}.marts")

    @property
    def lock_file(self) -> Path:
        """Held while a run writes; a second run exits at once."""
        return self.published.with_name(f"{self.published.name}.lock")

    @property
    def dbt_work_dir(self) -> Path:
        """dbt's folder for the working copy (profile, compiled SQL, run results, log)."""
        return work_dir_for(self.work)

    def private_paths(self) -> list[Path]:
        """Every file and folder of this warehouse that only its owner may read.

        The published file and the working copy with everything named after them
        (DuckDB's `.wal` files and spill folders, the lock, rewrites in progress),
        staged copies a killed run left behind, dlt's folder and dbt's. The data
        folder itself is not among them: it may be a folder of the user's (created
        0700 when missing, but never changed when it exists).
        """
        folder = self.published.parent
        patterns = [
            f"{glob.escape(self.published.name)}*",
            f"{glob.escape(self.work.name)}*",
            f".{glob.escape(self.published.name)}.*.tmp*",
        ]
        named = {path for pattern in patterns for path in folder.glob(pattern)}
        return [*sorted(named), self.pipelines_dir, self.dbt_work_dir, self.marts_dir]

    def prepare(self) -> None:
        """Create the private folders, tighten what others can read, restore the working copy.

        Anything that group or others could read (left by an earlier version, or
        created under a permissive umask) is made owner-only, with one log line.
        The working copy is an implementation detail: losing it loses nothing,
        because the published file holds the same data and dlt's state. It is
        created (or moved over once) in the configured storage format
        (`pipelines.storage_version`), which every publish copies byte for byte.

        Raises:
            ConfigurationError: `[warehouse] storage_version` is invalid.
        """
        ensure_private_dir(self.published.parent, tighten_existing=False)
        # the run's lock was created a moment ago, with the caller's umask; it holds no
        # data, so tightening it is no news
        tighten([self.lock_file])
        report_tightened(tighten(self.private_paths()), self.published.parent)
        ensure_private_dir(self.pipelines_dir)
        version = load_storage_version()
        if not self.work.exists() and self.published.exists():
            _copy_database(self.published, self.work)
            with duckdb.connect(str(self.work)) as con:
                materialize_live_views(con)
        ensure_storage_version(self.work, version)

    def publish(
        self, run_id: str | None = None, *, keep_previous_runs: int = KEEP_PREVIOUS_RUNS
    ) -> None:
        """Publish the working copy: the marts as a new Parquet run, then the file.

        The new run's folder is written completely and becomes the active run
        (connections open on the published file read the new marts from their next
        query on, see `pipelines.live_marts`); then a copy of the working copy whose
        marts are views of the active run is renamed over the published file, atomically.

        Args:
            run_id: names the marts' run folder (default: a new id).
            keep_previous_runs: run folders kept besides the new one (0 after a
                `[privacy]` rewrite: older marts may hold values it removed).
        """
        _checkpoint(self.work)
        runs = MartRuns(self.marts_dir)
        active_from = runs.write(self.work, run_id or new_run_id())

        def stage(staged: Path) -> None:
            _stage_catalog(staged, runs)
            runs.wait_until_active(active_from)  # the file is renamed over once the run is read

        self._replace_published(self.work, edit=stage)
        runs.prune(keep_previous_runs)
        self._make_private()

    def record_run(self, row: dict[str, Any], *, publish_row_only: bool) -> None:
        """Append a run's row to the history of both copies.

        Args:
            row: the sync_runs columns.
            publish_row_only: the run's data did not land (or is published
                separately): add the row to the published file without
                publishing the working copy's data.
        """
        if self.work.exists() or not self.published.exists():
            _append_history(self.work, row)
        if publish_row_only and self.published.exists():
            self._append_history_to_published(row)
        self._make_private()

    def _make_private(self) -> None:
        """Tighten what this run's libraries created under a permissive umask (no log line).

        Under `atera-sync`, whose umask is private, there is nothing to do; a program
        that calls `run_sync` with its own umask gets private files all the same.
        """
        changed = tighten(self.private_paths())
        if changed:
            logger.debug("made %d new file(s) and folder(s) private", len(changed))

    def _append_history_to_published(self, row: dict[str, Any]) -> None:
        """Write the row into the published file in place, or via a staged copy if it is open."""
        try:
            con = duckdb.connect(str(self.published), config=_PRIVATE_INSTANCE)
        except (duckdb.IOException, duckdb.ConnectionException) as exc:
            # IOException: another process holds DuckDB's file lock (a reader);
            # ConnectionException: this process has the file open already
            reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            logger.info(
                "the published warehouse is open elsewhere, so the run's history row goes "
                "through a staged copy of it (%s)",
                reason,
            )
            self._replace_published(
                self.published, edit=lambda staged: _append_history(staged, row)
            )
            return
        with con:
            _insert_history(con, row)

    def _replace_published(self, source: Path, edit: Callable[[Path], None] | None = None) -> None:
        """Copy `source` beside the published file, optionally edit the copy, rename it over."""
        staged = self.published.with_name(f".{self.published.name}.{uuid.uuid4().hex}.tmp")
        try:
            _copy_database(source, staged)
            if edit is not None:
                edit(staged)
            # a log left by an interrupted in-place write belongs to the file being
            # replaced (its rows are in the staged copy or the working copy); beside
            # the new file DuckDB would refuse to open it ("WAL does not match")
            _wal(self.published).unlink(missing_ok=True)
            os.replace(staged, self.published)
        finally:
            # after a failure, do not leave a copy of the whole warehouse behind
            staged.unlink(missing_ok=True)
            _wal(staged).unlink(missing_ok=True)


def _stage_catalog(staged: Path, runs: MartRuns) -> None:
    """Make a staged copy of the working copy the file readers open: the user-facing
    schemas only (`pipelines.published_catalog`), marts as live views."""
    with duckdb.connect(str(staged)) as con:
        drop_internal_schemas(con)
        replace_tables_by_views(con, runs)
        con.execute("checkpoint")


def new_run_id() -> str:
    """A unique id for a run's history row."""
    return uuid.uuid4().hex


def history_row(
    *,
    run_id: str,
    started_at: datetime,
    finished_at: datetime,
    status: str,
    mode: str | None,
    api_calls: int,
    retries: int,
    rows: dict[str, int],
    watermark_before: datetime | None,
    watermark_after: datetime | None,
    server_time: datetime | None,
    missing_ticket_ids: list[int],
    problems: list[str],
    error: str | None,
    child_fetches_skipped: int | None = None,
    safety_net: bool = False,
    change_detection_missed: int | None = None,
) -> dict[str, Any]:
    """The sync_runs row of one run, with the version of atera-sync that ran it.

    `child_fetches_skipped`: per-ticket child fetches (ticket x kind) that change
    detection left out; `safety_net`: whether the run fetched every open ticket's
    children anyway; `change_detection_missed`: then, how many had changed without
    a sign of activity (NULL on other runs).
    """
    return {
        "run_id": run_id,
        "started_at": started_at,
        "finished_at": finished_at,
        "status": status,
        "mode": mode,
        "api_calls": api_calls,
        "retries": retries,
        "rows_loaded": sum(rows.values()),
        "rows_per_table": json.dumps(rows, sort_keys=True),
        "watermark_before": watermark_before,
        "watermark_after": watermark_after,
        "server_time": server_time,
        "missing_ticket_ids": json.dumps(sorted(missing_ticket_ids)),
        "problems": mask_secrets(json.dumps(problems[:1000])),
        "error": None if error is None else mask_secrets(error),
        "code_version": __version__,
        "child_fetches_skipped": child_fetches_skipped,
        "safety_net": safety_net,
        "change_detection_missed": change_detection_missed,
    }


def _append_history(path: Path, row: dict[str, Any]) -> None:
    """Insert (or replace, by run_id) a history row in the DuckDB file at `path`."""
    with duckdb.connect(str(path)) as con:
        _insert_history(con, row)


def _insert_history(con: duckdb.DuckDBPyConnection, row: dict[str, Any]) -> None:
    """Insert (or replace) the row in one transaction, then fold it into the file.

    The checkpoint moves the row from DuckDB's write-ahead log into the file
    itself, so that no log is left beside the file for a later copy or rename
    to separate from it.
    """
    columns = list(row)
    placeholders = ", ".join("?" for _ in columns)
    con.begin()
    try:
        con.execute(HISTORY_DDL)
        for statement in HISTORY_UPGRADES:
            con.execute(statement)
        con.execute(
            f"insert or replace into {HISTORY_TABLE} ({', '.join(columns)}) "
            f"values ({placeholders})",
            [row[c] for c in columns],
        )
        con.commit()
    except BaseException:
        con.rollback()
        raise
    con.execute("checkpoint")


def _wal(path: Path) -> Path:
    """DuckDB's write-ahead log of the database file at `path`."""
    return path.with_name(f"{path.name}.wal")


def _copy_database(source: Path, target: Path) -> None:
    """Copy a DuckDB file with its write-ahead log, if it has one, so the copy is complete.

    The copies are owner-only (0600) from their first byte: `shutil.copyfile` keeps
    the mode of a target that exists, and `os.replace` the mode of the file renamed.
    """
    create_private_file(target)
    shutil.copyfile(source, target)
    if _wal(source).exists():
        create_private_file(_wal(target))
        shutil.copyfile(_wal(source), _wal(target))
    else:
        # a log left beside `target` by an earlier file would not match the copy
        _wal(target).unlink(missing_ok=True)


def _checkpoint(path: Path) -> None:
    """Fold DuckDB's write-ahead log into the file, so that a byte copy is complete."""
    with duckdb.connect(str(path)) as con:
        con.execute("checkpoint")
