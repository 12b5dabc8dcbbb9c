"""The runner: dbt builds the project, the marts change only when every test passed."""

from __future__ import annotations

import subprocess
import sys
from datetime import datetime
from pathlib import Path

import pytest

from pipelines.models import DataTestFailed, ModelBuildError, ModelSettings, run_models
from pipelines.models.dbt_build import sql_dir
from tests.models import RawDatabase, ts

AS_OF = ts("2024-01-01 12:00")


def _tickets(db: RawDatabase, *ticket_ids: int) -> None:
    db.table(
        "tickets",
        [
            {
                "ticket_id": ticket_id,
                "ticket_priority": "High",
                "ticket_status": "Open",
                "ticket_created_date": ts("2024-01-01 09:00"),
            }
            for ticket_id in ticket_ids
        ],
    )


def _schemas(db: RawDatabase) -> set[str]:
    return {row["schema_name"] for row in db.rows("select schema_name from duckdb_schemas()")}


def test_result_lists_what_was_built_and_tested(tmp_path: Path) -> None:
    db = RawDatabase(tmp_path / "order.duckdb")
    _tickets(db, 1)
    result = run_models(db.con, as_of=AS_OF, settings=ModelSettings())
    position = {name: i for i, name in enumerate(result.models)}
    assert position["staging.stg_tickets"] < position["intermediate.int_ticket_sla_windows"]
    assert (
        position["intermediate.int_ticket_sla_clock"]
        < position["analytics.fct_ticket_first_response_sla"]
    )
    assert "analytics.sla_targets" in position and "model_inputs.sla_targets" in position
    singular = len(list((sql_dir() / "tests").glob("*.sql")))
    assert result.tests_passed > singular  # the generic tests of the YAML files too
    assert result.duration_s > result.dbt_seconds > 0
    assert result.as_of == AS_OF
    # every raw table the tests did not create was created empty, typed
    assert result.raw_tables["tickets"] is True
    assert result.raw_tables["deleted_tickets"] is False and result.raw_tables["comments"] is False
    assert "analytics__build" not in _schemas(db)


def test_a_failing_data_test_names_itself_and_keeps_the_marts(tmp_path: Path) -> None:
    db = RawDatabase(tmp_path / "dupes.duckdb")
    _tickets(db, 1)
    run_models(db.con, as_of=AS_OF, settings=ModelSettings())
    before = db.rows("select * from analytics.fct_ticket_first_response_sla")
    _tickets(db, 1, 42, 42)  # a duplicate key that a merge would never write
    with pytest.raises(DataTestFailed) as caught:
        run_models(db.con, as_of=AS_OF, settings=ModelSettings())
    message = str(caught.value)
    assert any("stg_tickets" in name and "ticket_id" in name for name in caught.value.test_names)
    assert "42" in message  # the offending rows are shown
    assert "analytics schema is unchanged" in message
    assert db.rows("select * from analytics.fct_ticket_first_response_sla") == before
    assert "analytics__build" not in _schemas(db)


def test_a_broken_model_names_its_file_and_keeps_the_marts(tmp_path: Path) -> None:
    db = RawDatabase(tmp_path / "broken.duckdb")
    _tickets(db, 1)
    run_models(db.con, as_of=AS_OF, settings=ModelSettings())
    # a raw value that no model can read as the timestamp it should be
    db.con.execute("alter table atera_raw.tickets alter ticket_created_date type varchar")
    db.con.execute("update atera_raw.tickets set ticket_created_date = 'next tuesday'")
    with pytest.raises(ModelBuildError, match=r"could not build \w+\.\w+ from sql/models/"):
        run_models(db.con, as_of=AS_OF, settings=ModelSettings())
    assert list(db.sla()) == [1]


def test_a_failed_run_leaves_the_previous_build_in_place(tmp_path: Path) -> None:
    db = RawDatabase(tmp_path / "previous.duckdb")
    _tickets(db, 1)
    run_models(db.con, as_of=AS_OF, settings=ModelSettings())
    _tickets(db, 1, 2, 2)
    with pytest.raises(DataTestFailed):
        run_models(db.con, as_of=AS_OF, settings=ModelSettings())
    assert list(db.sla()) == [1]


def test_as_of_reproduces_a_report_and_runs_are_idempotent(tmp_path: Path) -> None:
    db = RawDatabase(tmp_path / "as_of.duckdb")
    _tickets(db, 1)  # High, created 09:00, unanswered: due 13:00
    query = "select * from analytics.fct_ticket_first_response_sla order by ticket_id"

    first = run_models(db.con, as_of=AS_OF, settings=ModelSettings())
    report = db.con.execute(query).df()
    later = run_models(db.con, as_of=ts("2024-01-01 14:00"), settings=ModelSettings())
    assert db.sla()[1]["sla_status"] == "breached"
    again = run_models(db.con, as_of=AS_OF, settings=ModelSettings())

    assert db.sla()[1]["sla_status"] == "pending"
    assert db.con.execute(query).df().equals(report)
    assert set(again.models) == set(first.models) == set(later.models)
    assert again.compliance_by_priority.equals(first.compliance_by_priority)


def test_a_naive_as_of_is_utc_and_the_session_time_zone_does_not_matter(tmp_path: Path) -> None:
    db = RawDatabase(tmp_path / "zones.duckdb")
    _tickets(db, 1)
    run_models(db.con, as_of=AS_OF, settings=ModelSettings(time_zone="Europe/Amsterdam"))
    expected = db.sla()
    db.con.execute("set TimeZone = 'America/Los_Angeles'")
    result = run_models(
        db.con,
        as_of=datetime(2024, 1, 1, 12, 0),
        settings=ModelSettings(time_zone="Europe/Amsterdam"),
    )
    assert result.as_of == AS_OF
    assert db.sla() == expected
    assert str(expected[1]["created_month"]) == "2024-01-01"


def test_backlog_and_resolution_time(tmp_path: Path) -> None:
    db = RawDatabase(tmp_path / "backlog.duckdb")
    db.table(
        "tickets",
        [
            {"ticket_id": 1, "ticket_priority": "High", "ticket_status": "Open",
             "ticket_created_date": ts("2023-12-31 13:00")},  # 23 hours old
            {"ticket_id": 2, "ticket_priority": "High", "ticket_status": "Pending",
             "ticket_created_date": ts("2023-12-27 12:00")},  # 5 days
            {"ticket_id": 3, "ticket_priority": "High", "ticket_status": "Resolved",
             "ticket_created_date": ts("2023-12-27 12:00"),
             "ticket_resolved_date": ts("2023-12-27 14:00")},
            {"ticket_id": 4, "ticket_priority": "High", "ticket_status": "Closed",
             "ticket_created_date": ts("2023-12-27 12:00"),
             "ticket_resolved_date": ts("2023-12-28 12:00")},
            {"ticket_id": 5, "ticket_priority": None, "ticket_status": "Open",
             "ticket_created_date": ts("2023-11-01 12:00")},  # 61 days
        ],
    )  # fmt: skip
    run_models(db.con, as_of=AS_OF, settings=ModelSettings())
    backlog = db.rows(
        "select ticket_priority, age_bucket, tickets, sla_breached "
        "from analytics.backlog_by_priority_age where tickets > 0 "
        "order by priority_rank, age_bucket_rank"
    )
    assert backlog == [
        {"ticket_priority": "High", "age_bucket": "< 1 day", "tickets": 1, "sla_breached": 1},
        {"ticket_priority": "High", "age_bucket": "3-7 days", "tickets": 1, "sla_breached": 1},
        {"ticket_priority": "Unknown", "age_bucket": "30+ days", "tickets": 1, "sla_breached": 0},
    ]
    resolution = db.rows(
        "select ticket_priority, resolved_tickets, median_resolution_hours, p90_resolution_hours "
        "from analytics.resolution_time_by_priority order by priority_rank"
    )
    assert resolution[1] == {
        "ticket_priority": "High",
        "resolved_tickets": 2,
        "median_resolution_hours": 13.0,
        "p90_resolution_hours": 21.8,
    }
    assert [r["ticket_priority"] for r in resolution] == ["Critical", "High", "Medium", "Low"]


def test_relations_the_project_no_longer_builds_are_removed(tmp_path: Path) -> None:
    db = RawDatabase(tmp_path / "stale.duckdb")
    _tickets(db, 1)
    for schema in ("staging", "intermediate", "analytics", "raw_contract", "model_inputs"):
        db.con.execute(f"create schema if not exists {schema}")
    db.con.execute("create view staging.stg_gone as select 1 as x")
    db.con.execute("create table analytics.old_mart as select 1 as x")
    db.con.execute("create view raw_contract.tickets as select 1 as x")
    db.con.execute("create table model_inputs.sla_targets as select 'High' as p, 1 as r")
    db.con.execute("create schema mine")
    db.con.execute("create table mine.notes as select 1 as x")
    run_models(db.con, as_of=AS_OF, settings=ModelSettings())
    relations = {
        f"{row['schema_name']}.{row['table_name']}"
        for row in db.rows(
            "select schema_name, table_name from duckdb_tables() union all "
            "select schema_name, view_name from duckdb_views() where not internal"
        )
    }
    assert not relations & {"staging.stg_gone", "analytics.old_mart"}
    assert "raw_contract" not in _schemas(db)
    assert "mine.notes" in relations  # not a schema the project owns
    assert {"analytics.sla_targets", "model_inputs.sla_targets"} <= relations


def test_every_mart_column_is_described_in_the_warehouse(tmp_path: Path) -> None:
    db = RawDatabase(tmp_path / "docs.duckdb")
    _tickets(db, 1)
    run_models(db.con, as_of=AS_OF, settings=ModelSettings())
    missing = db.rows(
        "select table_name, column_name from duckdb_columns() "
        "where schema_name = 'analytics' and (comment is null or comment = '')"
    )
    assert missing == []
    tables = db.rows(
        "select table_name, comment from duckdb_tables() where schema_name = 'analytics'"
    )
    assert len(tables) >= 11 and all(row["comment"] for row in tables)


def _dbt(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    dbt = Path(sys.executable).with_name("dbt")
    return subprocess.run(
        [str(dbt), *args, "--profiles-dir", str(sql_dir()), "--project-dir", str(sql_dir())],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )


@pytest.mark.parametrize("target", ["duckdb", "postgres"])
def test_the_project_parses_for_duckdb_and_postgres_without_a_server(
    target: str, tmp_path: Path
) -> None:
    import os

    env = {
        **os.environ,
        "ATERA_DBT_TARGET": target,
        "ATERA_DUCKDB_PATH": str(tmp_path / "parse.duckdb"),
        "ATERA_PG_PORT": "1",  # nothing listens: parsing must not connect
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    }
    args = ("--target-path", str(tmp_path / "target"), "--log-path", str(tmp_path / "logs"))
    parsed = _dbt("parse", *args, env=env)
    assert parsed.returncode == 0, parsed.stdout + parsed.stderr
    listed = _dbt("ls", "--resource-type", "model", "--resource-type", "test", *args, env=env)
    assert listed.returncode == 0, listed.stdout + listed.stderr
    names = listed.stdout.split()
    assert "atera_sync.marts.fct_ticket_first_response_sla" in names
    assert "atera_sync.staging.unique_stg_tickets_ticket_id" in names
