"""The figures in the report equal those of the marts (and of the per-ticket fact,
recomputed here in Python), and writing it leaves the warehouse untouched."""

from __future__ import annotations

import hashlib
from bisect import bisect_left
from collections import Counter
from datetime import date, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from pipelines.report import write_report
from pipelines.report.data import ALL_PRIORITIES, HISTOGRAM_EDGES
from tests.report.conftest import REPORT_ZONE, fetch
from tests.report.html_tables import rows_of


def number(cell: str) -> float:
    return float(cell.replace(",", "").removesuffix("%").removesuffix(" h").split(" ")[0])


@pytest.fixture(scope="module")
def page(report_warehouse: Path, tmp_path_factory: pytest.TempPathFactory) -> str:
    out = tmp_path_factory.mktemp("page") / "report.html"
    write_report(report_warehouse, out, time_zone=REPORT_ZONE)
    return out.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def fact(report_warehouse: Path) -> list[tuple]:
    return fetch(
        report_warehouse,
        "select ticket_id, ticket_priority, created_at, sla_status, response_minutes, due_at, "
        "as_of from analytics.fct_ticket_first_response_sla",
    )


def test_compliance_by_priority_is_the_mart(report_warehouse: Path, page: str) -> None:
    mart = fetch(
        report_warehouse,
        "select ticket_priority, tickets, met, breached, pending, compliance_pct "
        "from analytics.sla_first_response_by_priority order by priority_rank",
    )
    shown = rows_of(page, "compliance-figures")
    assert [r["priority"] for r in shown] == [m[0] for m in mart]
    for row, (_, tickets, met, breached, pending, pct) in zip(shown, mart, strict=True):
        assert [number(row[k]) for k in ("tickets", "met", "breached", "pending")] == [
            tickets,
            met,
            breached,
            pending,
        ]
        assert row["compliance"] == (f"{pct:.1f}%" if pct is not None else "–")
    assert sum(m[1] for m in mart) > 200


def test_the_weekly_trend_counts_tickets_by_local_monday(fact: list[tuple], page: str) -> None:
    zone = ZoneInfo(REPORT_ZONE)
    as_of = fact[0][6]
    today = as_of.astimezone(zone).date()
    first = today - timedelta(days=today.weekday()) - timedelta(weeks=11)
    expected: dict[tuple[str, str], Counter] = {}
    for _, priority, created_at, status, *_ in fact:
        local = created_at.astimezone(zone).date()
        monday = local - timedelta(days=local.weekday())
        if monday < first:
            continue
        for key in ((monday.isoformat(), priority), (monday.isoformat(), ALL_PRIORITIES)):
            counts = expected.setdefault(key, Counter())
            counts["tickets"] += 1
            counts[status] += 1
    shown = {
        (r["week"], r["priority"]): (number(r["tickets"]), number(r["met"]), number(r["breached"]))
        for r in rows_of(page, "trend-figures")
    }
    assert shown == {k: (c["tickets"], c["met"], c["breached"]) for k, c in expected.items()}
    weeks = {week for week, _ in shown}
    assert len(weeks) >= 10
    assert all(date.fromisoformat(w).weekday() == 0 for w in weeks)


def test_the_histogram_bins_every_fulfilled_ticket(fact: list[tuple], page: str) -> None:
    expected: dict[str, list[int]] = {}
    open_tickets: Counter = Counter()
    for _, priority, _, _, minutes, *_ in fact:
        if minutes is None:
            open_tickets[priority] += 1
            continue
        bins = expected.setdefault(priority, [0] * (len(HISTOGRAM_EDGES) + 1))
        bins[bisect_left(HISTOGRAM_EDGES, minutes)] += 1
    shown = {r["priority"]: r for r in rows_of(page, "histogram-figures")}
    assert set(shown) == set(expected) | set(open_tickets)
    for priority, row in shown.items():
        cells = list(row.values())[1:]
        assert [int(number(c)) for c in cells[:-1]] == expected.get(priority, [0] * 10)
        assert number(cells[-1]) == open_tickets[priority]


def test_backlog_is_the_mart(report_warehouse: Path, page: str) -> None:
    mart = fetch(
        report_warehouse,
        "select age_bucket, ticket_priority, tickets, sla_breached "
        "from analytics.backlog_by_priority_age order by age_bucket_rank, priority_rank",
    )
    shown = [
        (r["age"], r["priority"], number(r["open tickets"]), number(r["SLA breached"]))
        for r in rows_of(page, "backlog-figures")
    ]
    assert shown == mart
    assert sum(m[2] for m in mart) > 0


def test_breaches_are_the_tickets_whose_due_time_passed_in_the_last_7_days(
    fact: list[tuple], page: str
) -> None:
    as_of = fact[0][6]
    expected = {
        ticket_id
        for ticket_id, _, _, status, _, due_at, _ in fact
        if status == "breached" and as_of - timedelta(days=7) < due_at <= as_of
    }
    shown = [int(r["ticket"]) for r in rows_of(page, "breaches")] if expected else []
    assert set(shown) == expected and len(shown) == len(expected)
    assert expected, "the test warehouse should have recent breaches"


def test_billable_hours_are_the_months_of_the_mart(
    report_warehouse: Path, fact: list[tuple], page: str
) -> None:
    current = fact[0][6].astimezone(ZoneInfo(REPORT_ZONE)).date().replace(day=1)
    previous = (current - timedelta(days=1)).replace(day=1)
    mart = fetch(
        report_warehouse,
        "select coalesce(technician_full_name, '(no technician)'), month, billable_hours "
        "from analytics.work_hours_by_customer_technician_month where month in (?, ?)",
        [previous, current],
    )
    expected: dict[str, list[float]] = {}
    for name, month, billable in mart:
        expected.setdefault(name, [0.0, 0.0])[month == current] += billable
    header = f"{previous:%B %Y} billable", f"{current:%B %Y} billable"
    shown = {
        r["technician"]: [number(r[h]) for h in header] for r in rows_of(page, "hours-figures")
    }
    assert shown == {k: [round(v, 1) for v in vs] for k, vs in expected.items()}
    assert shown


def test_the_report_never_writes_to_the_warehouse(report_warehouse: Path, tmp_path: Path) -> None:
    def state() -> tuple[str, list[str]]:
        digest = hashlib.sha256(report_warehouse.read_bytes()).hexdigest()
        return digest, sorted(p.name for p in report_warehouse.parent.iterdir())

    before = state()
    write_report(report_warehouse, tmp_path / "r.html", time_zone=REPORT_ZONE)
    assert state() == before
