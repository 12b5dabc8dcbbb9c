"""The desk marts on synced sandbox data agree with the sandbox's own data, counted in
Python: tickets per day, the backlog, comments and hours."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import pytest

from pipelines.atera.records import parse_timestamp
from pipelines.models import run_models
from pipelines.sandbox import AteraSandbox
from pipelines.sync import run_sync
from tests.conftest import TEST_API_KEY, config_for

SUMMARY_MARTS = (
    "sla_first_response_by_priority",
    "sla_first_response_by_month",
    "sla_first_response_by_week",
    "sla_first_response_by_technician",
    "sla_first_response_by_customer",
    "sla_first_response_by_customer_month",
    "sla_first_response_by_technician_month",
    "sla_resolution_by_priority",
    "work_hours_by_customer_technician_month",
    "work_hours_utilization_by_technician_month",
    "backlog_by_priority_age",
    "backlog_daily",
    "daily_ticket_activity",
    "resolution_time_by_priority",
)


@pytest.fixture(scope="module")
def synced(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, dict[str, Any]]]:
    path = tmp_path_factory.mktemp("marts") / "atera.duckdb"
    with AteraSandbox(api_key=TEST_API_KEY, tickets=150, seed=11, rate_limit=None) as sandbox:
        run_sync(config_for(sandbox), path)
        snapshot = sandbox.snapshot()
    with duckdb.connect(str(path)) as con:
        run_models(con)
    yield path, snapshot


def query(path: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(path)) as con:
        return con.execute(sql).fetchall()


def test_fct_tickets_counts_comments_and_hours(synced) -> None:
    path, snapshot = synced
    tickets = {t["TicketID"]: t for t in snapshot["tickets"]}
    rows = {
        r[0]: r
        for r in query(
            path,
            "select ticket_id, ticket_title, public_technician_comments + "
            "internal_technician_comments + public_end_user_comments + "
            "internal_end_user_comments, work_hours, billable_work_hours, is_deleted "
            "from analytics.fct_tickets",
        )
    }
    assert set(rows) == set(tickets)
    comments = Counter(c["TicketID"] for c in snapshot["comments"])
    seconds: Counter[int] = Counter()
    billable: Counter[int] = Counter()
    for record in snapshot["work_hours"]:
        seconds[record["TicketID"]] += record["Duration"]
        if record["IsBillable"]:
            billable[record["TicketID"]] += record["Duration"]
    for ticket_id, (_, title, counted, hours, billable_hours, deleted) in rows.items():
        assert title == tickets[ticket_id]["TicketTitle"]
        assert counted == comments[ticket_id], ticket_id  # every author is known here
        assert hours == pytest.approx(seconds[ticket_id] / 3600)
        assert billable_hours == pytest.approx(billable[ticket_id] / 3600)
        assert deleted is False


def test_daily_activity_counts_and_backlog(synced) -> None:
    path, snapshot = synced
    opened = Counter(parse_timestamp(t["TicketCreatedDate"]).date() for t in snapshot["tickets"])
    rows = query(
        path,
        "select day, sum(opened), sum(backlog_end_of_day) from analytics.daily_ticket_activity "
        "group by day order by day",
    )
    assert {day: count for day, count, _ in rows if count} == dict(opened)
    not_resolved = sum(
        1 for t in snapshot["tickets"] if t["TicketStatus"] not in ("Resolved", "Closed")
    )
    assert rows[-1][2] == not_resolved
    # the backlog from the sync history: one sync so far, so the last day equals it too
    (backlog_today,) = query(
        path,
        "select sum(tickets) from analytics.backlog_daily "
        "where day = (select max(day) from analytics.backlog_daily)",
    )[0]
    assert backlog_today == not_resolved


def test_weekly_and_monthly_rollups_count_every_ticket(synced) -> None:
    path, snapshot = synced
    for mart in (
        "sla_first_response_by_week",
        "sla_first_response_by_month",
        "sla_first_response_by_customer_month",
        "sla_first_response_by_technician_month",
    ):
        (total,) = query(path, f"select sum(tickets) from analytics.{mart}")[0]
        assert total == len(snapshot["tickets"]), mart


def test_utilisation_adds_up_to_the_work_hours(synced) -> None:
    path, snapshot = synced
    total = sum(r["Duration"] for r in snapshot["work_hours"]) / 3600
    billable = sum(r["Duration"] for r in snapshot["work_hours"] if r["IsBillable"]) / 3600
    got_total, got_billable, bad_share = query(
        path,
        "select sum(total_hours), sum(billable_hours), "
        "count(*) filter (where abs(billable_pct - 100 * billable_hours / total_hours) > 0.01) "
        "from analytics.work_hours_utilization_by_technician_month",
    )[0]
    assert got_total == pytest.approx(total)
    assert got_billable == pytest.approx(billable)
    assert bad_share == 0


def test_every_summary_mart_says_what_it_is_true_as_of(synced) -> None:
    path, _ = synced
    (server_time,) = query(path, "select max(server_time) from atera_meta.sync_runs")[0]
    for mart in SUMMARY_MARTS:
        assert query(path, f"select distinct as_of from analytics.{mart}") == [(server_time,)], mart
