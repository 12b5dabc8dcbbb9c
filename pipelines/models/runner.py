"""Build the SQL models with dbt, and replace the marts only when everything passed.

A run:

1. gives `atera_raw` every declared table and column (empty, typed), so the
   models never meet a missing one;
2. turns the settings into dbt vars (as_of, targets, the business calendar).
   A live build is true as of the server time of the last sync whose data
   landed (`data_as_of`); a point-in-time build (`point_in_time=True`) uses
   only what was known at `as_of` and writes to `analytics_as_of`;
3. runs `dbt build`: seeds, staging and intermediate in place, the marts into
   a build schema (`analytics__build`), every data test on them;
4. only if every model built and every test passed, replaces the marts in
   `analytics` (or the point-in-time schema) with the new ones in one transaction,
   column comments included, and removes relations that the project no longer
   has (a warehouse built by an older version is upgraded in place).

So dashboards read either the previous build or the new one, never a
half-built or failing one. Running twice gives the same result.
"""

from __future__ import annotations

import logging
import re
import time
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from pipelines.atera.schema import RAW_TABLES
from pipelines.live_marts import materialize_live_views
from pipelines.models.business_calendar import open_intervals
from pipelines.models.config import load_model_settings
from pipelines.models.dbt_build import DbtOutcome, NodeFailure, run_dbt_build
from pipelines.models.errors import (
    DataTestFailed,
    DataTestFailure,
    ModelBuildError,
    ModelSettingsError,
)
from pipelines.models.settings import ModelSettings
from pipelines.models.warehouse_schemas import (
    AS_OF_SCHEMA,
    BUILD_SUFFIX,
    MARTS_SCHEMA,
    OWNED_SCHEMAS,
    drop_build_schema,
    drop_legacy_relations,
    publish_marts,
    remove_stale_relations,
)
from pipelines.point_in_time_builds import record_point_in_time_build
from pipelines.raw_tables import complete_raw_tables

logger = logging.getLogger("atera_sync.models")

COMPLIANCE_MART = "sla_first_response_by_priority"

RESERVED_SCHEMAS = frozenset({*OWNED_SCHEMAS, "atera_raw", "atera_meta", "atera_raw_staging"})
"""Schemas a point-in-time build may not write its marts to."""

_SCHEMA_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")

AS_OF_GIVEN = "given"
AS_OF_LAST_SYNC = "last sync"
AS_OF_CLOCK = "this machine's clock"

SAMPLE_ROWS = 5
"""Offending rows shown per failing data test."""

CALENDAR_MARGIN_DAYS = 400
"""Calendar days kept past the latest timestamp, so due times of open tickets exist."""

CALENDAR_EARLIEST = date(1970, 1, 1)
CALENDAR_MAX_YEARS_AHEAD = 5
"""Bounds for the business calendar, so a bogus date (year 1 or 9999) cannot blow it up."""


@dataclass
class ModelsResult:
    """What one `run_models` call built.

    Attributes:
        models: relations built (`schema.name`), in build order, marts under `analytics`.
        tests_passed: data tests that passed (all of them).
        duration_s: wall-clock seconds of the run.
        as_of: the instant the SLA clock of unanswered tickets was read at (UTC).
        compliance_by_priority: `analytics.sla_first_response_by_priority`, in report order.
        raw_tables: raw table -> whether it existed (False: created empty for the models).
        added_raw_columns: `table.column` of raw columns created empty for the models.
        dbt_seconds: seconds spent in `dbt build` (start-up, parsing and SQL).
        schema: the schema the marts were written to.
        point_in_time: only what was known at `as_of` counted.
        as_of_basis: where `as_of` came from: `given`, `last sync` (the server time
            of the last sync whose data landed) or `this machine's clock` (no history).
        current_attribute_tickets: in a point-in-time build, tickets whose priority,
            status and owner are today's values (their history begins after as_of).
    """

    models: list[str]
    tests_passed: int
    duration_s: float
    as_of: datetime
    compliance_by_priority: pd.DataFrame = field(repr=False)
    raw_tables: dict[str, bool] = field(default_factory=dict)
    added_raw_columns: list[str] = field(default_factory=list)
    dbt_seconds: float = 0.0
    schema: str = MARTS_SCHEMA
    point_in_time: bool = False
    as_of_basis: str = AS_OF_GIVEN
    current_attribute_tickets: int = 0


def normalize_as_of(as_of: datetime | None) -> datetime:
    """Return `as_of` as an aware UTC datetime; None means now; naive values are UTC."""
    if as_of is None:
        return datetime.now(UTC)
    if as_of.tzinfo is None:
        return as_of.replace(tzinfo=UTC)
    return as_of.astimezone(UTC)


def marts_schema_for(point_in_time: bool, schema: str | None) -> str:
    """The schema the marts go to: `analytics`, or for a point-in-time build `schema`
    (default `analytics_as_of`).

    Raises:
        ModelSettingsError: `schema` is given for a live build, is not a plain lower-case
            identifier, or is one of the project's own schemas.
    """
    if not point_in_time:
        if schema not in (None, MARTS_SCHEMA):
            raise ModelSettingsError("--schema only applies to a point-in-time build (--as-of)")
        return MARTS_SCHEMA
    name = (schema or AS_OF_SCHEMA).strip()
    if not _SCHEMA_NAME.match(name) or name in RESERVED_SCHEMAS or name.endswith(BUILD_SUFFIX):
        raise ModelSettingsError(
            f"--schema {name!r}: use a lower-case name such as {AS_OF_SCHEMA!r} that is not "
            f"one of the warehouse's own schemas ({', '.join(sorted(RESERVED_SCHEMAS))})"
        )
    return name


def last_sync_time(con: duckdb.DuckDBPyConnection) -> datetime | None:
    """The server time of the last sync whose data landed, from `atera_meta.sync_runs`."""
    exists = con.execute(
        "select count(*) from duckdb_tables() where database_name = current_database() "
        "and schema_name = 'atera_meta' and table_name = 'sync_runs'"
    ).fetchall()
    if not exists[0][0]:
        return None
    rows = con.execute(
        "select max(server_time) from atera_meta.sync_runs where watermark_after is not null"
    ).fetchall()
    value = rows[0][0]
    return normalize_as_of(value) if value is not None else None


def run_models(
    con: duckdb.DuckDBPyConnection,
    *,
    as_of: datetime | None = None,
    settings: ModelSettings | None = None,
    point_in_time: bool = False,
    schema: str | None = None,
    data_as_of: datetime | None = None,
) -> ModelsResult:
    """Build staging, intermediate and the marts with dbt, and run the data tests.

    Args:
        con: an open connection to a DuckDB file, no transaction in progress; the
            raw data is read from its `atera_raw` schema (which may lack tables).
        as_of: the instant unanswered tickets are judged at. Default: `data_as_of`,
            else the server time of the last sync whose data landed (sync history),
            else now. Naive means UTC.
        settings: targets, business hours and options (default: `load_model_settings()`).
        point_in_time: use only what was known at `as_of` (which is then required),
            and write the marts to `schema` instead of `analytics`.
        schema: the schema of a point-in-time build (default `analytics_as_of`).
        data_as_of: the server time the loaded data is true as of (the sync that
            just loaded it), used when `as_of` is not given.

    Returns:
        What was built, and the compliance by priority as a DataFrame.

    Raises:
        DataTestFailed: a data test failed; `analytics` is unchanged.
        ModelBuildError: a model failed to build; `analytics` is unchanged.
        ModelProjectError: dbt could not read the project.
        ModelSettingsError: the `[models]` configuration is invalid.
    """
    if settings is None:
        settings = load_model_settings()
    if point_in_time and as_of is None:
        raise ModelSettingsError("a point-in-time build needs an as_of instant")
    target = marts_schema_for(point_in_time, schema)
    basis = AS_OF_GIVEN
    if as_of is None:
        as_of = data_as_of or last_sync_time(con)
        basis = AS_OF_LAST_SYNC if as_of is not None else AS_OF_CLOCK
    as_of = normalize_as_of(as_of)
    started = time.perf_counter()
    path = _database_path(con)
    added = complete_raw_tables(lambda sql: con.execute(sql).fetchall())
    drop_legacy_relations(con)
    drop_build_schema(con)
    materialize_live_views(con)  # a published file's marts are views over Parquet
    variables = model_vars(con, settings, as_of)
    variables["point_in_time"] = point_in_time
    outcome = run_dbt_build(path, variables, {"ATERA_AS_OF": as_of.isoformat()})
    if outcome.failures:
        error = _failure(con, outcome)
        drop_build_schema(con)
        raise error
    publish_marts(con, target)
    if point_in_time:
        record_point_in_time_build(con, target, as_of)
    built = [_published_name(relation, target) for relation in outcome.relations]
    remove_stale_relations(con, set(built), target)
    compliance = con.execute(
        f"select * from {target}.{COMPLIANCE_MART} order by priority_rank"
    ).df()
    current_attributes = 0
    if point_in_time:
        current_attributes = con.execute(
            f"select count(*) from {target}.fct_ticket_first_response_sla "
            "where attributes_source = 'current'"
        ).fetchall()[0][0]
    duration = time.perf_counter() - started
    logger.debug(
        "built %d relations and passed %d data tests in %.2fs (dbt %.2fs, as of %s)",
        len(built),
        outcome.tests_passed,
        duration,
        outcome.seconds,
        as_of.isoformat(),
    )
    return ModelsResult(
        models=built,
        tests_passed=outcome.tests_passed,
        duration_s=duration,
        as_of=as_of,
        compliance_by_priority=compliance,
        raw_tables={table: table not in added for table in RAW_TABLES},
        added_raw_columns=[name for name in added if "." in name],
        dbt_seconds=outcome.seconds,
        schema=target,
        point_in_time=point_in_time,
        as_of_basis=basis,
        current_attribute_tickets=int(current_attributes),
    )


def model_vars(
    con: duckdb.DuckDBPyConnection, settings: ModelSettings, as_of: datetime
) -> dict[str, Any]:
    """The dbt vars of one run (see `sql/dbt_project.yml`); `as_of` goes by `ATERA_AS_OF`."""
    calendar = None
    if settings.business_hours is not None:
        first_day, last_day = _data_date_range(con, as_of, settings.time_zone)
        intervals = open_intervals(settings.business_hours, settings.time_zone, first_day, last_day)
        calendar = [[start.isoformat(), end.isoformat()] for start, end in intervals]
    return {
        "pause_sla_when_pending": settings.pause_sla_when_pending,
        "time_zone": settings.time_zone,
        "business_hours_enabled": settings.business_hours is not None,
        "business_calendar": calendar,
        "sla_targets": [
            {"ticket_priority": name, "target_minutes": minutes, "priority_rank": rank}
            for name, minutes, rank in settings.ranked_targets()
        ],
        "resolution_targets": [
            {"ticket_priority": name, "resolution_target_minutes": minutes}
            for name, minutes in settings.resolution_targets.items()
        ],
        "scoped_sla_targets": [row for scoped in settings.scoped_targets for row in scoped.rows()],
        "targets_source": settings.targets_source,
        "marts_schema_suffix": BUILD_SUFFIX,
    }


def _data_date_range(
    con: duckdb.DuckDBPyConnection, as_of: datetime, zone: str
) -> tuple[date, date]:
    # every instant an SLA clock can start or stop at, as local dates in `zone`
    bounds = con.execute(
        """
        with instants as (
            select ticket_created_date as instant_at from atera_raw.tickets
            union all
            select greatest(
                ticket_resolved_date, first_response_date, technician_first_comment_date
            ) from atera_raw.tickets
            union all
            select coalesce(comment_date, "date") from atera_raw.comments
            union all
            select ?::timestamptz
        )
        select
            cast(min(timezone(?, instant_at)) as date),
            cast(max(timezone(?, instant_at)) as date)
        from instants
        """,
        [as_of, zone, zone],
    ).fetchone()
    assert bounds is not None  # an aggregate always returns one row
    low, high = bounds
    latest = as_of.date() + timedelta(days=CALENDAR_MARGIN_DAYS + 366 * CALENDAR_MAX_YEARS_AHEAD)
    first_day = max(low - timedelta(days=1), CALENDAR_EARLIEST)
    last_day = min(high + timedelta(days=CALENDAR_MARGIN_DAYS), latest)
    return first_day, max(first_day, last_day)


def _database_path(con: duckdb.DuckDBPyConnection) -> Path:
    row = con.execute(
        "select path from duckdb_databases() where database_name = current_database()"
    ).fetchone()
    if row is None or not row[0]:
        raise ModelBuildError("the models", "sql/", "dbt needs a DuckDB file, not :memory:")
    return Path(row[0]).resolve()


def _published_name(relation: str, target: str) -> str:
    schema, _, name = relation.partition(".")
    if schema == MARTS_SCHEMA + BUILD_SUFFIX:
        schema = target
    return f"{schema}.{name}"


def _failure(con: duckdb.DuckDBPyConnection, outcome: DbtOutcome) -> Exception:
    tests = [f for f in outcome.failures if f.kind == "test"]
    if tests and len(tests) == len(outcome.failures):
        return DataTestFailed([_sampled(con, f) for f in tests])
    first = next(f for f in outcome.failures if f.kind != "test")
    return ModelBuildError(first.relation or first.name, first.path, first.message)


def _sampled(con: duckdb.DuckDBPyConnection, failure: NodeFailure) -> DataTestFailure:
    """A failing test with the first rows its query returns (while the build still exists)."""
    columns: list[str] = []
    rows: list[tuple[Any, ...]] = []
    if failure.compiled_sql:
        try:
            cursor = con.execute(
                f"select * from (\n{failure.compiled_sql}\n) as failing limit {SAMPLE_ROWS}"
            )
            columns = [column[0] for column in cursor.description or []]
            rows = cursor.fetchall()
        except duckdb.Error:  # the message alone still names the test
            logger.debug("could not sample the rows of %s", failure.name, exc_info=True)
    return DataTestFailure(failure.name, failure.path, failure.message, columns, rows)
