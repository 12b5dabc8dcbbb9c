"""Bring rows loaded under earlier `[privacy]` settings in line with the current ones.

The source hashes and drops columns of the rows it loads from now on. Rows
already in the warehouse are changed by the same run: newly hashed columns
are hashed in place (the same HMAC, so old and new rows still join), newly
dropped columns are emptied, and dlt's staging copies of the last load are
removed. DuckDB keeps freed blocks in its file, so a byte copy of the working
copy would still publish the old values: at the end of such a run the working
copy is rewritten into a fresh file (`COPY FROM DATABASE`) before it is
published (also when that run fails first: the next run that publishes
does it). What was applied is kept in `atera_meta.privacy_settings`.

A column taken out of `hash_columns` or `drop_columns` cannot be restored from
the warehouse: the next rows arrive in clear, and `atera-sync run
--full-refresh` reloads the old ones.
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from typing import Any

import duckdb

from pipelines.atera.privacy import Privacy
from pipelines.private_files import tighten
from pipelines.sql_text import quote_identifier as _quote
from pipelines.sql_text import quote_literal
from pipelines.storage_version import attach_options, load_storage_version

logger = logging.getLogger("atera_sync.privacy")

SETTINGS_TABLE = "atera_meta.privacy_settings"
RAW_SCHEMA = "atera_raw"
DLT_STAGING_SCHEMA = "atera_raw_staging"
NOTHING_APPLIED: dict[str, Any] = {"hash_columns": [], "drop_columns": [], "salt_id": None}


def _applied(con: duckdb.DuckDBPyConnection) -> dict[str, Any] | None:
    """The settings recorded by the last run, None when none were ever recorded."""
    con.execute("create schema if not exists atera_meta")
    con.execute(
        f"create table if not exists {SETTINGS_TABLE} (applied_at timestamptz not null, "
        "settings json not null, rewritten boolean not null)"
    )
    rows = con.execute(
        f"select settings from {SETTINGS_TABLE} order by applied_at desc limit 1"
    ).fetchall()
    return json.loads(rows[0][0]) if rows else None


def rewrite_pending(work: Path) -> bool:
    """Whether rows were changed and the working copy not yet rewritten into a fresh file."""
    if not work.exists():
        return False
    with duckdb.connect(str(work)) as con:
        _applied(con)
        row = con.execute(f"select count(*) from {SETTINGS_TABLE} where not rewritten").fetchone()
    return bool(row and row[0])


def _raw_columns(con: duckdb.DuckDBPyConnection) -> list[tuple[str, str, str]]:
    return [
        (str(t), str(c), str(k))
        for t, c, k in con.execute(
            "select table_name, column_name, data_type from information_schema.columns "
            "where table_schema = ? and table_catalog = current_database()",
            [RAW_SCHEMA],
        ).fetchall()
    ]


def apply_to_loaded_rows(work: Path, privacy: Privacy) -> None:
    """Hash and empty the loaded rows as the current settings say; record the settings.

    Call at the start of a run, before loading. When rows changed, call
    `rewrite_fresh` before the working copy is next published (see `rewrite_pending`).

    Args:
        work: the working copy (the published file is replaced by it at the end of the run).
        privacy: the current `[privacy]` settings.
    """
    current = privacy.fingerprint()
    with duckdb.connect(str(work)) as con:
        applied = _applied(con)
        if applied == current:
            return
        before = applied or NOTHING_APPLIED
        _warn_about_what_cannot_be_undone(before, current)
        to_hash = set(current["hash_columns"]) - set(before["hash_columns"])
        to_drop = set(current["drop_columns"]) - set(before["drop_columns"])
        changed = bool(to_hash or to_drop) and _change_rows(con, privacy, to_hash, to_drop)
        con.execute(
            f"insert into {SETTINGS_TABLE} values (current_timestamp, ?, ?)",
            [json.dumps(current), not changed],
        )


def _change_rows(
    con: duckdb.DuckDBPyConnection, privacy: Privacy, to_hash: set[str], to_drop: set[str]
) -> bool:
    # NULL stays NULL: DuckDB does not call the function for it
    con.create_function("atera_privacy_hash", privacy.hash_value, ["varchar"], "varchar")
    changed: list[str] = []
    con.begin()
    for table, column, data_type in _raw_columns(con):
        base = column.split("__v_")[0]  # a variant column holds values of the same field
        target = f"{RAW_SCHEMA}.{_quote(table)}"
        if base in to_drop:
            con.execute(f"update {target} set {_quote(column)} = null").fetchall()
            changed.append(f"{table}.{column} emptied")
        elif base in to_hash:
            if data_type.upper() != "VARCHAR":
                con.execute(f"alter table {target} alter {_quote(column)} type varchar")
            con.execute(
                f"update {target} set {_quote(column)} = atera_privacy_hash({_quote(column)})"
            ).fetchall()
            changed.append(f"{table}.{column} hashed")
    # dlt's staging tables hold a copy of the last load's rows
    con.execute(f"drop schema if exists {_quote(DLT_STAGING_SCHEMA)} cascade")
    con.commit()
    if changed:
        logger.info("[privacy] applied to the rows already loaded: %s", ", ".join(changed))
    return bool(changed)


def _warn_about_what_cannot_be_undone(before: dict[str, Any], current: dict[str, Any]) -> None:
    for key, verb in (("hash_columns", "hashed"), ("drop_columns", "dropped")):
        restored = set(before[key]) - set(current[key])
        if restored:
            logger.warning(
                "[privacy] %s no longer lists %s: rows loaded before stay %s; run "
                "`atera-sync run --full-refresh` to reload them",
                key,
                ", ".join(sorted(restored)),
                verb,
            )
    if before["hash_columns"] and before.get("salt_id") != current.get("salt_id"):
        logger.warning(
            "[privacy] the salt changed: values hashed before do not match the new hashes; "
            "run `atera-sync run --full-refresh` to hash every row with the new salt"
        )


def rewrite_fresh(path: Path) -> None:
    """Rewrite a DuckDB file into a new one holding only live data, and put it in its place.

    Freed blocks (deleted or overwritten values) stay in a DuckDB file until reused;
    a copy of the live data leaves them behind.
    """
    fresh = path.with_name(f"{path.name}.fresh")
    fresh.unlink(missing_ok=True)
    version = load_storage_version()  # the fresh file keeps the format readers can open
    with duckdb.connect(str(path)) as con:
        con.execute(f"update {SETTINGS_TABLE} set rewritten = true where not rewritten")
        try:
            con.execute("checkpoint")
            target = quote_literal(str(fresh))
            con.execute(f"attach {target} as atera_fresh {attach_options(version)}")
            con.execute(f"copy from database {_quote(_database_name(con))} to atera_fresh")
            con.execute("detach atera_fresh")
        except BaseException:
            con.execute(f"update {SETTINGS_TABLE} set rewritten = false")
            fresh.unlink(missing_ok=True)
            raise
    tighten([fresh])
    os.replace(fresh, path)
    path.with_name(f"{path.name}.wal").unlink(missing_ok=True)
    logger.info("rewrote %s into a fresh file, without the values [privacy] removed", path.name)


def _database_name(con: duckdb.DuckDBPyConnection) -> str:
    row = con.execute("select current_database()").fetchone()
    assert row is not None
    return str(row[0])
