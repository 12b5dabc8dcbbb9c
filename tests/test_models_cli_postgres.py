"""`atera-sync models --destination postgres`: the live build (true as of the last sync) and
an `--as-of` build, with figures that depend neither on the host's time zone nor on the
database's."""

from __future__ import annotations

import os
import subprocess
import sys
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg2
from click.testing import CliRunner

from pipelines import cli
from pipelines.sandbox import AteraSandbox
from pipelines.sync import run_sync
from tests.conftest import TEST_API_KEY, config_for


def rows(dsn: str, sql: str) -> list[tuple]:
    with psycopg2.connect(dsn) as con, con.cursor() as cursor:
        cursor.execute(sql)
        return cursor.fetchall()


def month_start_ticket(sandbox: AteraSandbox) -> datetime:
    """A ticket created at 02:30 UTC on the first of last month: the evening before in New
    York, so a build that counted months in the session's zone would put it a month early."""
    this_month = sandbox.now().replace(day=1, hour=2, minute=30, second=0, microsecond=0)
    created = (this_month - timedelta(days=1)).replace(day=1)
    customer = next(iter(sandbox.store.customers.values()))
    saved = sandbox.store.clock
    sandbox.store.clock = lambda: created
    try:
        sandbox.store.create_ticket(
            {"TicketTitle": "month start", "EndUserID": customer.end_users[0].contact_id}
        )
    finally:
        sandbox.store.clock = saved
    return created


def test_live_and_as_of_builds_through_the_cli(postgres_dsn: str, tmp_path: Path) -> None:
    path = tmp_path / "atera.duckdb"  # names the local state folder; no file is written
    with AteraSandbox(api_key=TEST_API_KEY, tickets=40, seed=9, rate_limit=None) as sandbox:
        boundary = month_start_ticket(sandbox)
        run_sync(config_for(sandbox), path, destination="postgres")
    # sessions that do not say otherwise get New York time; the models must not care
    with psycopg2.connect(postgres_dsn) as con, con.cursor() as cursor:
        cursor.execute("select current_database()")
        (database,) = cursor.fetchone()
        cursor.execute(f"alter database \"{database}\" set timezone to 'America/New_York'")

    live = CliRunner().invoke(
        cli.main, ["models", "--destination", "postgres", "--duckdb", str(path)]
    )
    assert live.exit_code == 0, live.output
    assert "last sync" in live.output
    (server_time,) = rows(
        postgres_dsn, "select max(server_time) from atera_meta.sync_runs where status = 'success'"
    )[0]
    assert rows(
        postgres_dsn, "select distinct as_of from analytics.fct_ticket_first_response_sla"
    ) == [(server_time,)]
    live_before = rows(
        postgres_dsn, "select * from analytics.fct_ticket_first_response_sla order by 1"
    )
    assert len(live_before) == 41

    created = sorted(
        c.astimezone(UTC)
        for (c,) in rows(postgres_dsn, "select ticket_created_date from atera_raw.tickets")
    )
    as_of = boundary + timedelta(days=1)
    naive = as_of.replace(tzinfo=None).isoformat()  # naive on the command line means UTC
    done = subprocess.run(
        [sys.executable, "-m", "pipelines.cli", "models", "--destination", "postgres"]
        + ["--duckdb", str(path), "--as-of", naive],
        env={**os.environ, "TZ": "Asia/Tokyo"},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr + done.stdout
    assert "analytics_as_of" in done.stdout
    past = rows(
        postgres_dsn,
        "select count(*), min(as_of), max(as_of), max(created_at) "
        "from analytics_as_of.fct_ticket_first_response_sla",
    )[0]
    assert past[0] == sum(1 for c in created if c <= as_of)
    assert past[1] == past[2] == as_of
    assert past[3] <= as_of
    # calendar months in UTC (the default time zone of the models), not New York's or Tokyo's
    by_month = {
        month: tickets
        for month, tickets in rows(
            postgres_dsn,
            "select month, sum(tickets) from analytics_as_of.sla_first_response_by_month "
            "group by month having sum(tickets) > 0",
        )
    }
    expected = Counter(c.date().replace(day=1) for c in created if c <= as_of)
    assert by_month == expected
    # the point-in-time build left the live marts alone
    assert (
        rows(postgres_dsn, "select * from analytics.fct_ticket_first_response_sla order by 1")
        == live_before
    )
