"""Is the warehouse fresh? The last runs and the watermark, read from the warehouse itself.

`atera-sync status` answers from two things every warehouse holds: the run
history (`atera_meta.sync_runs`, one row per run, failed or not) and dlt's
state (`atera_raw._dlt_pipeline_state`, which carries the watermark and lands
in the same load as the rows). Both are read through a DB-API connection with
plain SQL and no parameters, so a reader for another destination only has to
hand over its own connection.

The verdict and its exit code:

| state   | code | meaning |
|---------|------|---------|
| fresh   | 0    | the last run succeeded, less than `max_age` ago |
| failed  | 4    | the last run failed; the last success is still younger than `max_age` |
| stale   | 5    | no successful run in the last `max_age` (none at all, or too old) |
| missing | 6    | no warehouse at the path, or no run recorded in it yet |

Stale wins over failed: a stale warehouse is the worse news for whoever reads it.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import zlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

EXIT_FRESH = 0
EXIT_LAST_RUN_FAILED = 4
EXIT_STALE = 5
EXIT_NO_RUN = 6
EXIT_CODES = {"fresh": EXIT_FRESH, "failed": EXIT_LAST_RUN_FAILED, "stale": EXIT_STALE}

DEFAULT_MAX_AGE = "26h"
# the names the sync writes (pipelines.warehouse, pipelines.sync); repeated here so that
# `atera-sync status` loads neither dlt nor dbt (tests/test_status.py keeps them equal)
HISTORY_TABLE = "atera_meta.sync_runs"
STATE_TABLE = "atera_raw._dlt_pipeline_state"
LOADS_TABLE = "atera_raw._dlt_loads"
PIPELINE_NAME = "atera_sync"
SOURCE_NAME = "atera"

_AGE = re.compile(r"(\d+(?:\.\d+)?)\s*([dhms])")
_UNIT_SECONDS = {"d": 86400, "h": 3600, "m": 60, "s": 1}


class Cursor(Protocol):
    """The part of a DB-API 2.0 cursor the status reader uses."""

    def execute(self, operation: str, *args: Any) -> Any: ...

    def fetchall(self) -> list[Any]: ...


class NoRunYet(Exception):
    """The warehouse holds no run history yet (nothing was synced into it)."""


def parse_max_age(text: str) -> timedelta:
    """`26h`, `90m`, `2d`, `1h30m`, `3600s` (or a bare number of hours) as a timedelta.

    Raises:
        ValueError: with an example of what is accepted.
    """
    cleaned = text.strip().lower()
    if re.fullmatch(r"\d+(?:\.\d+)?", cleaned):
        cleaned += "h"
    parts = _AGE.findall(cleaned)
    if not parts or _AGE.sub("", cleaned).strip():
        raise ValueError(
            f"--max-age {text!r} is not a duration: use a number with d, h, m or s, "
            "such as 26h, 90m, 2d or 1h30m"
        )
    age = timedelta(seconds=sum(float(n) * _UNIT_SECONDS[unit] for n, unit in parts))
    if age <= timedelta(0):
        raise ValueError(f"--max-age {text!r} must be longer than zero, such as 26h")
    return age


@dataclass(frozen=True)
class RunRecord:
    """One row of the run history, as the status needs it."""

    run_id: str
    started_at: datetime
    finished_at: datetime
    status: str
    mode: str | None
    rows_loaded: int | None
    api_calls: int | None
    watermark_after: datetime | None
    error: str | None
    code_version: str | None = None


@dataclass(frozen=True)
class WarehouseStatus:
    """The freshness verdict for one warehouse at one instant."""

    state: str
    max_age: timedelta
    checked_at: datetime
    last_run: RunRecord | None
    last_success: RunRecord | None
    failures_since_success: int
    watermark: datetime | None

    @property
    def exit_code(self) -> int:
        """0 fresh, 4 the last run failed, 5 stale, 6 no run yet."""
        return EXIT_CODES.get(self.state, EXIT_NO_RUN)

    @property
    def age(self) -> timedelta | None:
        """How long ago the last successful run finished."""
        if self.last_success is None:
            return None
        return self.checked_at - self.last_success.finished_at

    def as_dict(self) -> dict[str, Any]:
        """The status as JSON-ready values (timestamps in ISO 8601 UTC)."""
        success = self.last_success
        last = self.last_run
        age = self.age
        return {
            "status": self.state,
            "exit_code": self.exit_code,
            "checked_at": _iso(self.checked_at),
            "max_age_seconds": int(self.max_age.total_seconds()),
            "last_success": None if success is None else _run_dict(success),
            "age_seconds": None if age is None else int(age.total_seconds()),
            "watermark": _iso(self.watermark),
            "rows_loaded": None if success is None else success.rows_loaded,
            "failures_since_success": self.failures_since_success,
            "last_run": None if last is None else _run_dict(last),
        }


def read_status(cursor: Cursor, max_age: timedelta, now: datetime | None = None) -> WarehouseStatus:
    """Judge the warehouse behind `cursor` (a DB-API cursor) against `max_age`.

    Raises:
        NoRunYet: the warehouse has no run history.
    """
    runs = read_recent_runs(cursor)
    if not runs:
        raise NoRunYet("no run is recorded in the warehouse yet")
    checked_at = (now or datetime.now(UTC)).astimezone(UTC)
    last_success = next((r for r in runs if r.status == "success"), None)
    since = last_success.started_at if last_success else None
    failures = [
        r for r in runs if r.status != "success" and (since is None or r.started_at > since)
    ]
    if last_success is None or checked_at - last_success.finished_at > max_age:
        state = "stale"
    elif runs[0].status != "success":
        state = "failed"
    else:
        state = "fresh"
    return WarehouseStatus(
        state=state,
        max_age=max_age,
        checked_at=checked_at,
        last_run=runs[0],
        last_success=last_success,
        failures_since_success=len(failures),
        watermark=read_watermark(cursor),
    )


def read_recent_runs(cursor: Cursor, limit: int = 1000) -> list[RunRecord]:
    """The most recent runs, newest first (an empty list when there is no history table)."""
    if not _table_exists(cursor, "atera_meta", "sync_runs"):
        return []
    has_version = _has_column(cursor, "atera_meta", "sync_runs", "code_version")
    version = "code_version" if has_version else None
    cursor.execute(
        "select run_id, started_at, finished_at, status, mode, rows_loaded, api_calls, "
        f"watermark_after, error, {version or 'null'} from {HISTORY_TABLE} "
        f"order by started_at desc limit {int(limit)}"
    )
    return [
        RunRecord(
            run_id=str(row[0]),
            started_at=_utc(row[1]),
            finished_at=_utc(row[2]),
            status=str(row[3]),
            mode=row[4],
            rows_loaded=row[5],
            api_calls=row[6],
            watermark_after=_utc(row[7]) if row[7] is not None else None,
            error=row[8],
            code_version=row[9],
        )
        for row in cursor.fetchall()
    ]


def read_watermark(cursor: Cursor) -> datetime | None:
    """The watermark in dlt's newest completed state, or None before the first full sync."""
    if not _table_exists(cursor, "atera_raw", "_dlt_pipeline_state"):
        return None
    cursor.execute(
        f"select s.state from {STATE_TABLE} as s join {LOADS_TABLE} as l "
        f"on l.load_id = s._dlt_load_id where s.pipeline_name = '{PIPELINE_NAME}' "
        "and l.status = 0 order by l.load_id desc limit 1"
    )
    rows = cursor.fetchall()
    if not rows:
        return None
    state = decode_dlt_state(rows[0][0])
    watermark = state.get("sources", {}).get(SOURCE_NAME, {}).get("watermark")
    return _utc(datetime.fromisoformat(watermark)) if watermark else None


def decode_dlt_state(text: str) -> dict[str, Any]:
    """dlt's stored state: zlib-compressed JSON in base64 (older dlt: plain JSON).

    Only plain values are read from it (the watermark is an ISO 8601 string), so
    dlt's typed-JSON markers on other values do not matter here.
    """
    try:
        raw = zlib.decompress(base64.b64decode(text, validate=True))
    except (binascii.Error, zlib.error):
        return dict(json.loads(text))
    return dict(json.loads(raw))


def _table_exists(cursor: Cursor, schema: str, table: str) -> bool:
    cursor.execute(
        "select count(*) from information_schema.tables "
        f"where table_schema = '{schema}' and table_name = '{table}'"
    )
    return bool(cursor.fetchall()[0][0])


def _has_column(cursor: Cursor, schema: str, table: str, column: str) -> bool:
    cursor.execute(
        "select count(*) from information_schema.columns where "
        f"table_schema = '{schema}' and table_name = '{table}' and column_name = '{column}'"
    )
    return bool(cursor.fetchall()[0][0])


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _run_dict(run: RunRecord) -> dict[str, Any]:
    return {
        "run_id": run.run_id,
        "started_at": _iso(run.started_at),
        "finished_at": _iso(run.finished_at),
        "status": run.status,
        "mode": run.mode,
        "rows_loaded": run.rows_loaded,
        "api_calls": run.api_calls,
        "watermark_after": _iso(run.watermark_after),
        "code_version": run.code_version,
        "error": run.error,
    }


def status_json(status: WarehouseStatus) -> str:
    """The status as one line of JSON."""
    return json.dumps(status.as_dict(), sort_keys=True)
