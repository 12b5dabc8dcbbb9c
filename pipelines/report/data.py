"""The report's figures: every query it runs, over the marts of one schema.

The report reads only these relations of `analytics` (or `analytics_as_of`):
`sla_first_response_by_priority`, `fct_ticket_first_response_sla`,
`backlog_by_priority_age`, `work_hours_by_customer_technician_month` and
`sla_targets`. The weekly trend and the response-time histogram are computed
here from the per-ticket fact. Weeks start on Monday and months on the 1st, in
the `[models] time_zone`; the fact's timestamps are UTC instants.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import duckdb

from pipelines.sql_text import quote_identifier

RELATIONS: tuple[str, ...] = (
    "sla_first_response_by_priority",
    "fct_ticket_first_response_sla",
    "backlog_by_priority_age",
    "work_hours_by_customer_technician_month",
    "sla_targets",
)
"""Every relation the report reads, in the marts schema."""

TREND_WEEKS = 12
BREACH_WINDOW = timedelta(days=7)
BREACH_ROWS_SHOWN = 300
"""The breach table lists at most this many tickets (the most recent breaches) and
says how many more there are."""

HISTOGRAM_EDGES: tuple[float, ...] = (15, 30, 60, 120, 240, 480, 960, 1440, 2880)
"""Upper bounds (minutes, inclusive) of the response-time bins; one more bin holds
everything above the last. The default targets (60, 240, 480, 1440) are edges."""

ALL_PRIORITIES = "All priorities"


@dataclass(frozen=True)
class PriorityCompliance:
    """One row of `sla_first_response_by_priority`."""

    priority: str
    target_minutes: float | None
    tickets: int
    met: int
    breached: int
    pending: int
    unknown: int
    compliance_pct: float | None
    median_response_minutes: float | None
    p90_response_minutes: float | None


@dataclass(frozen=True)
class WeekCompliance:
    """Tickets created in one week (of one priority, or all): met, breached, compliance."""

    week_start: date
    priority: str
    tickets: int
    met: int
    breached: int

    @property
    def compliance_pct(self) -> float | None:
        judged = self.met + self.breached
        return round(100 * self.met / judged, 2) if judged else None


@dataclass(frozen=True)
class ResponseHistogram:
    """Fulfilled tickets of one priority per response-time bin (see HISTOGRAM_EDGES)."""

    priority: str
    target_minutes: float | None
    counts: tuple[int, ...]
    not_fulfilled: int


@dataclass(frozen=True)
class BacklogCell:
    """One row of `backlog_by_priority_age`."""

    priority: str
    age_bucket: str
    tickets: int
    sla_breached: int


@dataclass(frozen=True)
class Breach:
    """A ticket whose first-response SLA was breached (its due time passed) in the window."""

    ticket_id: int
    priority: str
    customer_name: str | None
    technician_full_name: str | None
    created_at: datetime | None
    due_at: datetime
    minutes: float | None
    still_open: bool


@dataclass(frozen=True)
class TechnicianHours:
    """Billable and non-billable hours of one technician in the last full and current month."""

    technician: str | None
    previous_billable: float
    previous_non_billable: float
    current_billable: float
    current_non_billable: float


@dataclass
class ReportData:
    """Everything the page shows, read from one marts schema."""

    schema: str
    time_zone: str
    as_of: datetime | None
    tickets: int
    customers: int
    compliance: list[PriorityCompliance] = field(default_factory=list)
    weeks: list[date] = field(default_factory=list)
    weekly: list[WeekCompliance] = field(default_factory=list)
    histograms: list[ResponseHistogram] = field(default_factory=list)
    backlog: list[BacklogCell] = field(default_factory=list)
    breaches: list[Breach] = field(default_factory=list)
    breaches_total: int = 0
    months: tuple[date, date] | None = None
    hours: list[TechnicianHours] = field(default_factory=list)


def missing_relations(con: duckdb.DuckDBPyConnection, schema: str) -> list[str]:
    """The relations of RELATIONS that `schema` lacks (all of them when it does not exist)."""
    found = {
        name
        for (name,) in con.execute(
            "select table_name from information_schema.tables where table_schema = ?", [schema]
        ).fetchall()
    }
    return [name for name in RELATIONS if name not in found]


def read_as_of(con: duckdb.DuckDBPyConnection, schema: str) -> datetime | None:
    """The instant the marts are true as of (the fact's `as_of`); None without tickets."""
    row = con.execute(f"select max(as_of) from {_rel(schema, 'fct_ticket_first_response_sla')}")
    return _one(row)


def load_report_data(
    con: duckdb.DuckDBPyConnection, schema: str, time_zone: str, as_of: datetime
) -> ReportData:
    """Read every figure of the report from the marts in `schema`.

    Args:
        con: a (read-only) connection to the warehouse.
        schema: `analytics` or `analytics_as_of`.
        time_zone: the IANA zone of weeks and months (`[models] time_zone`).
        as_of: the instant the report is true as of (the marts' `as_of`).
    """
    totals = con.execute(
        "select count(*), count(distinct customer_id) "
        f"from {_rel(schema, 'fct_ticket_first_response_sla')}"
    ).fetchone()
    tickets, customers = totals if totals else (0, 0)
    data = ReportData(schema, time_zone, as_of, tickets, customers)
    data.compliance = compliance_by_priority(con, schema)
    data.weeks = trend_weeks(as_of, time_zone)
    data.weekly = weekly_compliance(con, schema, time_zone, data.weeks)
    data.histograms = response_histograms(con, schema, data.compliance)
    data.backlog = backlog_by_age(con, schema)
    data.breaches, data.breaches_total = recent_breaches(con, schema, as_of)
    data.months = report_months(as_of, time_zone)
    data.hours = billable_hours(con, schema, data.months)
    return data


def compliance_by_priority(con: duckdb.DuckDBPyConnection, schema: str) -> list[PriorityCompliance]:
    rows = con.execute(
        "select ticket_priority, target_minutes, tickets, met, breached, pending, unknown, "
        "compliance_pct, median_response_minutes, p90_response_minutes "
        f"from {_rel(schema, 'sla_first_response_by_priority')} order by priority_rank"
    ).fetchall()
    return [PriorityCompliance(*row) for row in rows]


def trend_weeks(as_of: datetime, time_zone: str) -> list[date]:
    """The Mondays of the TREND_WEEKS weeks up to and including the week of `as_of`."""
    local_day = as_of.astimezone(ZoneInfo(time_zone)).date()
    this_monday = local_day - timedelta(days=local_day.weekday())
    return [this_monday - timedelta(weeks=n) for n in range(TREND_WEEKS - 1, -1, -1)]


def weekly_compliance(
    con: duckdb.DuckDBPyConnection, schema: str, time_zone: str, weeks: list[date]
) -> list[WeekCompliance]:
    """Met and breached tickets per week of creation and priority, and over all priorities
    (priority ALL_PRIORITIES), for the weeks given; weeks without tickets are left out."""
    rows = con.execute(
        f"""
        with weekly as (
            select
                cast(date_trunc('week', timezone(?, created_at)) as date) as week_start,
                ticket_priority,
                priority_rank,
                sla_status
            from {_rel(schema, "fct_ticket_first_response_sla")}
            where created_at is not null
        )
        select
            week_start,
            coalesce(ticket_priority, ?) as priority,
            count(*) as tickets,
            count(*) filter (where sla_status = 'met') as met,
            count(*) filter (where sla_status = 'breached') as breached
        from weekly
        where week_start between ? and ?
        group by grouping sets ((week_start, ticket_priority, priority_rank), (week_start))
        order by week_start, grouping(ticket_priority) desc, priority_rank
        """,
        [time_zone, ALL_PRIORITIES, weeks[0], weeks[-1]],
    ).fetchall()
    return [WeekCompliance(*row) for row in rows]


def _bin_expression(column: str) -> str:
    cases = " ".join(
        f"when {column} <= {edge!r} then {index}" for index, edge in enumerate(HISTOGRAM_EDGES)
    )
    return f"case {cases} else {len(HISTOGRAM_EDGES)} end"


def response_histograms(
    con: duckdb.DuckDBPyConnection, schema: str, priorities: list[PriorityCompliance]
) -> list[ResponseHistogram]:
    """Per priority (in report order), fulfilled tickets per response-time bin."""
    rows = con.execute(
        f"""
        select
            ticket_priority,
            case when response_minutes is null then -1
                else {_bin_expression("response_minutes")} end as bin,
            count(*) as tickets
        from {_rel(schema, "fct_ticket_first_response_sla")}
        group by all
        """
    ).fetchall()
    counts: dict[str, list[int]] = {}
    open_counts: dict[str, int] = {}
    for priority, bin_index, tickets in rows:
        if bin_index < 0:
            open_counts[priority] = tickets
        else:
            counts.setdefault(priority, [0] * (len(HISTOGRAM_EDGES) + 1))[bin_index] = tickets
    return [
        ResponseHistogram(
            p.priority,
            p.target_minutes,
            tuple(counts.get(p.priority, [0] * (len(HISTOGRAM_EDGES) + 1))),
            open_counts.get(p.priority, 0),
        )
        for p in priorities
        if p.tickets
    ]


def backlog_by_age(con: duckdb.DuckDBPyConnection, schema: str) -> list[BacklogCell]:
    rows = con.execute(
        "select ticket_priority, age_bucket, tickets, sla_breached "
        f"from {_rel(schema, 'backlog_by_priority_age')} "
        "order by age_bucket_rank, priority_rank"
    ).fetchall()
    return [BacklogCell(*row) for row in rows]


def recent_breaches(
    con: duckdb.DuckDBPyConnection, schema: str, as_of: datetime
) -> tuple[list[Breach], int]:
    """Tickets whose SLA was breached in the BREACH_WINDOW before `as_of` (their due time
    passed then), most recent first, at most BREACH_ROWS_SHOWN; and how many there are."""
    relation = _rel(schema, "fct_ticket_first_response_sla")
    window = "sla_status = 'breached' and due_at > ? and due_at <= ?"
    bounds = [as_of - BREACH_WINDOW, as_of]
    total = _one(con.execute(f"select count(*) from {relation} where {window}", bounds)) or 0
    rows = con.execute(
        "select ticket_id, ticket_priority, customer_name, technician_full_name, created_at, "
        "due_at, coalesce(response_minutes, elapsed_minutes), fulfilled_at is null "
        f"from {relation} where {window} order by due_at desc, ticket_id limit ?",
        [*bounds, BREACH_ROWS_SHOWN],
    ).fetchall()
    return [Breach(*row) for row in rows], total


def report_months(as_of: datetime, time_zone: str) -> tuple[date, date]:
    """The first days of the last full month before `as_of` and of its month (local)."""
    current = as_of.astimezone(ZoneInfo(time_zone)).date().replace(day=1)
    previous = (current - timedelta(days=1)).replace(day=1)
    return previous, current


def billable_hours(
    con: duckdb.DuckDBPyConnection, schema: str, months: tuple[date, date]
) -> list[TechnicianHours]:
    """Hours per technician (who logged them) in the two months, most billable first."""
    previous, current = months
    rows = con.execute(
        f"""
        select
            technician_full_name,
            coalesce(sum(billable_hours) filter (where month = ?), 0) as previous_billable,
            coalesce(sum(non_billable_hours) filter (where month = ?), 0) as previous_other,
            coalesce(sum(billable_hours) filter (where month = ?), 0) as current_billable,
            coalesce(sum(non_billable_hours) filter (where month = ?), 0) as current_other
        from {_rel(schema, "work_hours_by_customer_technician_month")}
        where month in (?, ?)
        group by technician_contact_id, technician_full_name
        order by previous_billable + current_billable desc, technician_full_name nulls last
        """,
        [previous, previous, current, current, previous, current],
    ).fetchall()
    return [TechnicianHours(*row) for row in rows]


def _rel(schema: str, name: str) -> str:
    return f"{quote_identifier(schema)}.{quote_identifier(name)}"


def _one(cursor: duckdb.DuckDBPyConnection) -> Any:
    row = cursor.fetchone()
    return row[0] if row else None
