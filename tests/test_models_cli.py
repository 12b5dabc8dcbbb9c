"""`atera-sync models`: live builds true as of the last sync, point-in-time builds that
leave `analytics` alone, and results that do not depend on the host's time zone."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import pytest
from click.testing import CliRunner

from pipelines import cli
from pipelines.sandbox import AteraSandbox
from pipelines.sync import run_sync
from tests.conftest import TEST_API_KEY, config_for
from tests.models import RawDatabase, ts


def rows(path: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(path), read_only=True) as con:
        return con.execute(sql).fetchall()


@pytest.fixture(scope="module")
def synced(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A warehouse after one sync of the sandbox, without models."""
    path = tmp_path_factory.mktemp("models_cli") / "atera.duckdb"
    with AteraSandbox(api_key=TEST_API_KEY, tickets=120, seed=5, rate_limit=None) as sandbox:
        run_sync(config_for(sandbox), path)
    yield path


def invoke(*args: str):
    return CliRunner().invoke(cli.main, list(args), catch_exceptions=False)


def test_the_live_build_is_true_as_of_the_last_sync(synced: Path) -> None:
    result = invoke("models", "--duckdb", str(synced))
    assert result.exit_code == 0, result.output
    (server_time,) = rows(
        synced, "select max(server_time) from atera_meta.sync_runs where status = 'success'"
    )[0]
    as_of = rows(synced, "select distinct as_of from analytics.fct_ticket_first_response_sla")
    assert as_of == [(server_time,)]
    assert "last sync" in result.output
    assert "marts in analytics" in result.output


def test_an_as_of_build_writes_its_own_schema_and_leaves_analytics_alone(synced: Path) -> None:
    assert invoke("models", "--duckdb", str(synced)).exit_code == 0
    live_before = rows(synced, "select * from analytics.fct_ticket_first_response_sla order by 1")
    (earliest,) = rows(synced, "select min(ticket_created_date) from atera_raw.tickets")[0]
    as_of = (earliest + timedelta(days=30)).astimezone(UTC).replace(microsecond=0)

    result = invoke("models", "--duckdb", str(synced), "--as-of", as_of.isoformat())
    assert result.exit_code == 0, result.output
    assert "analytics_as_of" in result.output
    assert "point in time" in result.output
    assert rows(synced, "select * from analytics.fct_ticket_first_response_sla order by 1") == (
        live_before
    )
    past = rows(
        synced,
        "select count(*), min(as_of), max(as_of), max(created_at) "
        "from analytics_as_of.fct_ticket_first_response_sla",
    )[0]
    assert past[0] == tickets_created_by(synced, as_of)
    assert past[1] == past[2] == as_of
    assert past[3] <= as_of
    # nothing after as_of is used: no response or fulfilment later than it
    later = rows(
        synced,
        "select count(*) from analytics_as_of.fct_ticket_first_response_sla "
        f"where fulfilled_at > timestamptz '{as_of.isoformat()}'",
    )[0][0]
    assert later == 0


def tickets_created_by(path: Path, as_of: datetime) -> int:
    with duckdb.connect(str(path), read_only=True) as con:
        return con.execute(
            "select count(*) from atera_raw.tickets where ticket_created_date <= ?", [as_of]
        ).fetchall()[0][0]


def test_schema_option(synced: Path) -> None:
    result = invoke(
        "models", "--duckdb", str(synced), "--as-of", "2026-01-01T00:00:00Z", "--schema", "audit_q4"
    )
    assert result.exit_code == 0, result.output
    assert rows(synced, "select count(*) from audit_q4.sla_first_response_by_priority")[0][0] >= 4
    for bad in (["--schema", "analytics"], ["--schema", "atera_raw"], ["--schema", "Bad-Name"]):
        refused = invoke("models", "--duckdb", str(synced), "--as-of", "2026-01-01", *bad)
        assert refused.exit_code == 2, refused.output
    alone = invoke("models", "--duckdb", str(synced), "--schema", "audit_q4")
    assert alone.exit_code == 2 and "--as-of" in alone.output


def naive_warehouse(path: Path) -> None:
    """A ticket with naive (zone-less) timestamps: created 10:00, answered 11:30 (UTC)."""
    db = RawDatabase(path)
    db.table(
        "tickets",
        [
            {
                "ticket_id": 1,
                "ticket_priority": "Critical",
                "ticket_status": "Open",
                "end_user_id": 500,
                "ticket_created_date": datetime(2024, 1, 1, 10, 0),
                "first_response_date": datetime(2024, 1, 1, 11, 30),
            },
            {
                "ticket_id": 2,
                "ticket_priority": "High",
                "ticket_status": "Open",
                "end_user_id": 500,
                "ticket_created_date": datetime(2024, 1, 1, 10, 0),
            },
        ],
        {
            "ticket_id": "bigint",
            "ticket_priority": "varchar",
            "ticket_status": "varchar",
            "end_user_id": "bigint",
            "ticket_created_date": "timestamp",
            "first_response_date": "timestamp",
        },
    )
    db.con.close()


@pytest.mark.parametrize("zone", ["UTC", "America/New_York", "Asia/Tokyo"])
def test_naive_timestamps_mean_utc_whatever_the_hosts_time_zone(tmp_path: Path, zone: str) -> None:
    path = tmp_path / "naive.duckdb"
    naive_warehouse(path)
    env = {**os.environ, "TZ": zone}
    # as of 14:00 UTC: ticket 1 answered after 90 minutes (Critical 60: breached),
    # ticket 2 open for 240 minutes (High 240: pending, exactly on target)
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pipelines.cli",
            "models",
            "--duckdb",
            str(path),
            "--as-of",
            "2024-01-01T14:00:00",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr + done.stdout
    statuses = dict(
        rows(
            path,
            "select ticket_id, sla_status || ' ' || cast(elapsed_minutes as varchar) "
            "from analytics_as_of.fct_ticket_first_response_sla",
        )
    )
    assert statuses == {1: "breached 90.0", 2: "pending 240.0"}
    assert (
        ts("2024-01-01 14:00")
        == rows(path, "select distinct as_of from analytics_as_of.fct_ticket_first_response_sla")[
            0
        ][0]
    )
