"""The run's inputs the SQL models read, in schema `model_inputs`.

* `run_parameters`: one row: `as_of`, `pause_sla_when_pending`, `time_zone`,
  `business_hours_enabled`.
* `sla_targets`: `ticket_priority, target_minutes, priority_rank` from the settings.
* `business_calendar`: `open_from, open_to`: the UTC intervals in which the
  SLA clock runs (see `pipelines.models.business_calendar`).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

import duckdb

from pipelines.models.business_calendar import open_intervals
from pipelines.models.contracts import CONTRACT_SCHEMA
from pipelines.models.settings import ModelSettings

INPUT_SCHEMA = "model_inputs"

CALENDAR_MARGIN_DAYS = 400
"""Calendar days kept past the latest timestamp, so due times of open tickets exist."""

CALENDAR_EARLIEST = date(1970, 1, 1)
CALENDAR_MAX_YEARS_AHEAD = 5
"""Bounds for the business calendar, so a bogus date (year 1 or 9999) cannot blow it up."""


def _data_date_range(
    con: duckdb.DuckDBPyConnection, as_of: datetime, zone: str
) -> tuple[date, date]:
    # Cover every instant an SLA clock can start or stop at; local dates in `zone`.
    bounds = con.execute(
        f"""
        with instants as (
            select ticket_created_date as instant_at from {CONTRACT_SCHEMA}.tickets
            union all
            select greatest(
                ticket_resolved_date, first_response_date, technician_first_comment_date
            ) from {CONTRACT_SCHEMA}.tickets
            union all
            select coalesce(comment_date, "date") from {CONTRACT_SCHEMA}.comments
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


def create_inputs(con: duckdb.DuckDBPyConnection, settings: ModelSettings, as_of: datetime) -> int:
    """Create or replace the `model_inputs` tables for this run.

    Args:
        con: connection inside the run's transaction; `raw_contract` must exist.
        settings: targets, calendar and options.
        as_of: aware datetime the SLA clock of unanswered tickets is read at.

    Returns:
        The number of open intervals in the business calendar.
    """
    con.execute(f"create schema if not exists {INPUT_SCHEMA}")
    con.execute(
        f"""
        create or replace table {INPUT_SCHEMA}.run_parameters (
            as_of timestamptz not null,
            pause_sla_when_pending boolean not null,
            time_zone varchar not null,
            business_hours_enabled boolean not null
        )
        """
    )
    con.execute(
        f"insert into {INPUT_SCHEMA}.run_parameters values (?, ?, ?, ?)",
        [
            as_of,
            settings.pause_sla_when_pending,
            settings.time_zone,
            settings.business_hours is not None,
        ],
    )

    ranked = settings.ranked_targets()
    con.execute(
        f"""
        create or replace table {INPUT_SCHEMA}.sla_targets as
        select
            unnest(?::varchar[]) as ticket_priority,
            unnest(?::double[]) as target_minutes,
            unnest(?::integer[]) as priority_rank
        """,
        [[p for p, _, _ in ranked], [t for _, t, _ in ranked], [r for _, _, r in ranked]],
    )

    if settings.business_hours is None:
        intervals = open_intervals(None, settings.time_zone, as_of.date(), as_of.date())
    else:
        first_day, last_day = _data_date_range(con, as_of, settings.time_zone)
        intervals = open_intervals(settings.business_hours, settings.time_zone, first_day, last_day)
    con.execute(
        f"""
        create or replace table {INPUT_SCHEMA}.business_calendar as
        select
            unnest(?::timestamptz[]) as open_from,
            unnest(?::timestamptz[]) as open_to
        """,
        [[start for start, _ in intervals], [end for _, end in intervals]],
    )
    return len(intervals)
