"""Marts that a connection kept open for hours still sees fresh, one run per query.

A DuckDB connection reads the file it opened: renaming a new warehouse over
it changes nothing for a connection opened before (and, in one process,
DuckDB shares that old instance with every new connection while one lives).
BI servers keep pooled connections for hours. So the marts do not live in the
published file; each publish writes them as Parquet into a folder of its own,

    data/atera.marts/runs/<run_id>/analytics/<mart>.parquet   (+ column atera_run)
    data/atera.marts/runs/<run_id>/_run.parquet               (run_id, active_from, as_of)

and the published file holds, under the marts' names, views with absolute
paths that read the *active* run: the one with the latest `active_from` not
after the query's transaction start (`now()`, one instant for the whole
query). That rule is the pointer. A plain pointer (a symbolic link swapped
by a rename) is not enough: a query opens each mart's file separately, and a
swap between two opens mixes two runs (measured: a reader querying in a loop
saw one in its first run).

The protocol: a run folder is written completely under a hidden name, its
`_run.parquet` last with `active_from` = now + `ACTIVATION_DELAY_S` (now for
the first run, when no view can read another), and then
renamed into `runs/` in one step, well before `active_from`. A query whose
transaction started before `active_from` reads the previous run in every view,
whether or not it lists the new folder; a query that started at or after it
began after the rename, so every view lists the new folder and reads it. The
publish stages the new published file meanwhile and renames it over the old
one once `active_from` has passed, so a run's data is visible when it returns.
Old folders are kept for a few runs, so that a running query never loses its
files. Readers must share the writer's clock (the same host).

The schemas made live are the user-facing model schemas (`analytics`,
`analytics_as_of`), whatever tables they hold. The working copy keeps the
marts as tables (dbt builds them there); `materialize_live_views` turns the
views of a published file back into tables when the file is used as a working
copy again.
"""

from __future__ import annotations

import logging
import os
import shutil
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb

from pipelines.point_in_time_builds import point_in_time_schemas
from pipelines.private_files import ensure_private_dir
from pipelines.sql_text import quote_identifier as _quote
from pipelines.sql_text import quote_literal as _literal

logger = logging.getLogger("atera_sync.warehouse")

LIVE_SCHEMAS = ("analytics", "analytics_as_of")
"""The marts' schemas; `live_schemas` adds those of point-in-time builds (`--schema`)."""


def live_schemas(con: duckdb.DuckDBPyConnection) -> list[str]:
    """The user-facing model schemas of a database: LIVE_SCHEMAS and every schema a
    point-in-time build wrote."""
    return list(dict.fromkeys((*LIVE_SCHEMAS, *point_in_time_schemas(con))))


"""Schemas whose tables readers see through the pointer (the marts, point-in-time marts)."""

RUN_COLUMN = "atera_run"
"""The run id, in every row of a mart's Parquet file (the views select by it)."""

RUN_FILE = "_run.parquet"
RUN_VIEW = "atera_meta.marts_run"
"""One row: the run whose marts a query reads (run_id, active_from, as_of)."""

RUN_COMMENT = "The run whose marts a query reads: run_id, active_from, as_of (live, like them)"

ACTIVATION_DELAY_S = 1.0
"""Seconds between a run folder appearing and its marts becoming the ones queries read."""

KEEP_PREVIOUS_RUNS = 2
"""Run folders kept besides the active one, for queries that started before a switch."""


class MartRuns:
    """The Parquet folders of the published marts; the active one is the pointer."""

    def __init__(self, root: Path) -> None:
        self.root = root

    @property
    def runs(self) -> Path:
        return self.root / "runs"

    def active_run(self, at: datetime | None = None) -> Path | None:
        """The folder a query starting at `at` (default now) reads, None before any."""
        if not self.runs.is_dir() or not any(self.runs.glob(f"*/{RUN_FILE}")):
            return None
        with duckdb.connect() as con:
            row = con.execute(
                "select max_by(run_id, active_from) from read_parquet(?) where active_from <= ?",
                [str(self.runs / "*" / RUN_FILE), at or datetime.now(UTC)],
            ).fetchone()
        return self.runs / str(row[0]) if row and row[0] else None

    def write(self, work: Path, run_id: str) -> datetime:
        """Write the live tables of `work` as a new run; return when it becomes active.

        Call `wait_until_active` with the result before telling anyone the run is
        published; other work can be done meanwhile.
        """
        folder, active_from = self._write(work, run_id)
        late = datetime.now(UTC) - active_from
        if late >= timedelta(0) and self._runs_before(active_from):  # the rename was late
            logger.warning(
                "run folder %s appeared %.3f s after its activation time: a query that "
                "started in between may have read two runs",
                folder.name,
                late.total_seconds(),
            )
        return active_from

    def _runs_before(self, active_from: datetime) -> bool:
        with duckdb.connect() as con:
            row = con.execute(
                "select count(*) from read_parquet(?) where active_from < ?",
                [str(self.runs / "*" / RUN_FILE), active_from],
            ).fetchone()
        return bool(row and row[0])

    @staticmethod
    def wait_until_active(active_from: datetime) -> None:
        """Sleep until queries read the run that becomes active at `active_from`."""
        time.sleep(max(0.0, (active_from - datetime.now(UTC)).total_seconds()))

    def _write(self, work: Path, run_id: str) -> tuple[Path, datetime]:
        ensure_private_dir(self.runs)
        for stale in self.root.glob(".*.partial"):  # a killed run's (the caller holds the lock)
            shutil.rmtree(stale, ignore_errors=True)
        final = self.runs / run_id
        partial = self.root / f".{run_id}.{uuid.uuid4().hex}.partial"
        try:
            with duckdb.connect(str(work), read_only=True) as con:
                tables = live_tables(con)
                for schema, table in tables:
                    ensure_private_dir(partial / schema)
                    _copy_to_parquet(
                        con,
                        f"select *, {_literal(run_id)} as {RUN_COLUMN} "
                        f"from {_quote(schema)}.{_quote(table)}",
                        partial / schema / f"{table}.parquet",
                    )
                as_of = _latest_as_of(con, tables)
            ensure_private_dir(partial)
            # without an earlier run no view can read another one: active at once
            delay = ACTIVATION_DELAY_S if self.active_run() is not None else 0.0
            active_from = datetime.now(UTC) + timedelta(seconds=delay)
            with duckdb.connect() as run:
                run.execute(
                    "create table run as select ?::varchar as run_id, "
                    "?::timestamptz as active_from, ?::timestamptz as as_of",
                    [run_id, active_from, as_of],
                )
                _copy_to_parquet(run, "select * from run", partial / RUN_FILE)
            os.rename(partial, final)
        finally:
            shutil.rmtree(partial, ignore_errors=True)
        return final, active_from

    def prune(self, keep_previous: int = KEEP_PREVIOUS_RUNS) -> list[Path]:
        """Remove run folders older than the active one and the `keep_previous` before it."""
        active = self.active_run()
        if active is None:
            return []
        with duckdb.connect() as con:
            older = con.execute(
                "select run_id from read_parquet(?) where active_from < ("
                "  select active_from from read_parquet(?) where run_id = ?"
                ") order by active_from desc",
                [str(self.runs / "*" / RUN_FILE)] * 2 + [active.name],
            ).fetchall()
        removed = [self.runs / str(run_id) for (run_id,) in older[keep_previous:]]
        for folder in removed:
            shutil.rmtree(folder, ignore_errors=True)
        return removed

    def view_sql(self, schema: str, table: str) -> str:
        """The query of a live view: the rows of the active run's file of `schema.table`."""
        files = _literal(str(self.runs / "*" / schema / f"{table}.parquet"))
        runs = _literal(str(self.runs / "*" / RUN_FILE))
        return (
            f"select * exclude ({RUN_COLUMN}) from read_parquet({files}, union_by_name = true) "
            f"where {RUN_COLUMN} = (select max_by(run_id, active_from) from read_parquet({runs}) "
            "where active_from <= now())"
        )

    def run_view_sql(self) -> str:
        """The query of `atera_meta.marts_run`: the active run's row."""
        runs = _literal(str(self.runs / "*" / RUN_FILE))
        return (
            f"select * from read_parquet({runs}) where active_from <= now() "
            "order by active_from desc limit 1"
        )


def live_tables(con: duckdb.DuckDBPyConnection) -> list[tuple[str, str]]:
    """The (schema, table) pairs of the live schemas, in name order."""
    schemas = live_schemas(con)
    placeholders = ", ".join("?" for _ in schemas)
    rows = con.execute(
        "select schema_name, table_name from duckdb_tables() "
        f"where database_name = current_database() and schema_name in ({placeholders}) "
        "order by schema_name, table_name",
        schemas,
    ).fetchall()
    return [(str(schema), str(table)) for schema, table in rows]


def replace_tables_by_views(con: duckdb.DuckDBPyConnection, runs: MartRuns) -> list[str]:
    """In a staged published file: each live table becomes a view through the pointer.

    Table and column comments move to the views, so BI tools still show them.

    Returns:
        The relations now read through the pointer (`schema.name`).
    """
    replaced: list[str] = []
    con.begin()
    try:
        for schema, table in live_tables(con):
            relation = f"{_quote(schema)}.{_quote(table)}"
            comments = _comments(con, schema, table)
            con.execute(f"drop table {relation}")
            con.execute(f"create view {relation} as {runs.view_sql(schema, table)}")
            for column, comment in comments.items():
                target = relation if column is None else f"{relation}.{_quote(column)}"
                kind = "view" if column is None else "column"
                con.execute(f"comment on {kind} {target} is {_literal(comment)}")
            replaced.append(f"{schema}.{table}")
        con.execute("create schema if not exists atera_meta")
        con.execute(f"create or replace view {RUN_VIEW} as {runs.run_view_sql()}")
        con.execute(f"comment on view {RUN_VIEW} is {_literal(RUN_COMMENT)}")
        con.commit()
    except BaseException:
        con.rollback()
        raise
    return replaced


def materialize_live_views(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Turn the live views of a published file back into tables (a working copy again).

    A view whose Parquet file is gone is dropped: the next build of the models
    replaces it.

    Returns:
        The relations that are tables again.
    """
    schemas = live_schemas(con)
    placeholders = ", ".join("?" for _ in schemas)
    views = con.execute(
        "select schema_name, view_name from duckdb_views() "
        f"where database_name = current_database() and schema_name in ({placeholders}) "
        "and not internal and sql ilike '%read_parquet%'",
        schemas,
    ).fetchall()
    restored: list[str] = []
    for schema, view in views:
        relation = f"{_quote(schema)}.{_quote(view)}"
        staged = f"{_quote(schema)}.{_quote(view + '__materialized')}"
        try:
            con.execute(f"create or replace table {staged} as select * from {relation}")
        except duckdb.Error:
            con.execute(f"drop view {relation}")
            continue
        con.execute(f"drop view {relation}")
        con.execute(f"alter table {staged} rename to {_quote(view)}")
        restored.append(f"{schema}.{view}")
    con.execute(f"drop view if exists {RUN_VIEW}")
    if restored:
        logger.info("the marts are tables again in the working copy: %s", ", ".join(restored))
    return restored


def _comments(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> dict[str | None, str]:
    """A table's comment (key None) and its columns' comments."""
    found: dict[str | None, str] = {}
    row = con.execute(
        "select comment from duckdb_tables() where database_name = current_database() "
        "and schema_name = ? and table_name = ?",
        [schema, table],
    ).fetchone()
    if row and row[0]:
        found[None] = str(row[0])
    for column, comment in con.execute(
        "select column_name, comment from duckdb_columns() where database_name = "
        "current_database() and schema_name = ? and table_name = ? and comment is not null",
        [schema, table],
    ).fetchall():
        found[str(column)] = str(comment)
    return found


def _latest_as_of(con: duckdb.DuckDBPyConnection, tables: list[tuple[str, str]]) -> datetime | None:
    """The latest `as_of` of the marts that have that column (the SLA clock's instant)."""
    latest: datetime | None = None
    for schema, table in tables:
        has = con.execute(
            "select count(*) from duckdb_columns() where database_name = current_database() "
            "and schema_name = ? and table_name = ? and column_name = 'as_of'",
            [schema, table],
        ).fetchone()
        if not has or not has[0]:
            continue
        row = con.execute(f"select max(as_of) from {_quote(schema)}.{_quote(table)}").fetchone()
        if row and row[0] is not None and (latest is None or row[0] > latest):
            latest = row[0]
    return latest


def _copy_to_parquet(con: duckdb.DuckDBPyConnection, query: str, target: Path) -> None:
    con.execute(f"copy ({query}) to {_literal(str(target))} (format parquet, compression zstd)")
