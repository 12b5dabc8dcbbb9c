"""The runner: one transaction, data tests, reproducible as_of, dependency order."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

from pipelines.models import (
    DataTestFailed,
    ModelBuildError,
    ModelCycleError,
    ModelReferenceError,
    ModelSettings,
    run_models,
    runner,
)
from pipelines.models.project import load_project, references, sql_dir
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


def test_result_lists_models_in_dependency_order(tmp_path: Path) -> None:
    db = RawDatabase(tmp_path / "order.duckdb")
    _tickets(db, 1)
    result = run_models(db.con, as_of=AS_OF, settings=ModelSettings())
    position = {name: i for i, name in enumerate(result.models)}
    assert position["staging.stg_tickets"] < position["intermediate.int_ticket_sla_windows"]
    assert (
        position["intermediate.int_ticket_sla_clock"]
        < position["analytics.fct_ticket_first_response_sla"]
    )
    assert (
        position["analytics.fct_ticket_first_response_sla"]
        < position["analytics.sla_first_response_by_priority"]
    )
    assert result.tests_passed == len(list((sql_dir() / "tests").glob("*.sql")))
    assert result.duration_s > 0
    assert result.as_of == AS_OF


def test_a_failing_data_test_names_itself_and_rolls_everything_back(tmp_path: Path) -> None:
    db = RawDatabase(tmp_path / "dupes.duckdb")
    _tickets(db, 1, 42, 42)  # a duplicate key that a merge would never write
    with pytest.raises(DataTestFailed) as caught:
        run_models(db.con, as_of=AS_OF, settings=ModelSettings())
    message = str(caught.value)
    assert "assert_stg_tickets_ticket_id_is_unique_and_not_null" in caught.value.test_names
    assert "assert_stg_tickets_ticket_id_is_unique_and_not_null" in message
    assert "ticket_id=42" in message
    schemas = {row["schema_name"] for row in db.rows("select schema_name from duckdb_schemas()")}
    assert not schemas & {"staging", "intermediate", "analytics"}


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
    assert again.models == first.models == later.models
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


def _project(root: Path, files: dict[str, str]) -> Path:
    for relative, sql in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(sql)
    (root / "tests").mkdir(exist_ok=True)
    return root


def test_references_ignore_comments_and_strings() -> None:
    sql = """
    -- reads staging.stg_old
    select 'analytics.not_a_table' as label, *
    from intermediate.int_a as a  /* analytics.commented */
    inner join "staging"."stg_b" as b on a.id = b.id
    """
    assert references(sql) == {"intermediate.int_a", "staging.stg_b"}


def test_build_order_follows_references(tmp_path: Path) -> None:
    root = _project(
        tmp_path,
        {
            "marts/report.sql": "select * from intermediate.int_b",
            "intermediate/int_b.sql": "select * from intermediate.int_a",
            "intermediate/int_a.sql": "select * from staging.stg_x",
            "staging/stg_x.sql": "select 1 as id;",
        },
    )
    project = load_project(root)
    assert [m.relation for m in project.models] == [
        "staging.stg_x",
        "intermediate.int_a",
        "intermediate.int_b",
        "analytics.report",
    ]
    assert project.models[0].sql == "select 1 as id"


def test_a_cycle_is_reported(tmp_path: Path) -> None:
    root = _project(
        tmp_path,
        {
            "intermediate/int_a.sql": "select * from intermediate.int_b",
            "intermediate/int_b.sql": "select * from intermediate.int_a",
        },
    )
    with pytest.raises(ModelCycleError, match="int_a -> intermediate.int_b -> intermediate.int_a"):
        load_project(root)


def test_a_missing_model_is_reported(tmp_path: Path) -> None:
    root = _project(tmp_path, {"marts/report.sql": "select * from staging.stg_missing"})
    with pytest.raises(ModelReferenceError, match="staging.stg_missing"):
        load_project(root)


def test_sql_dir_is_the_repository_sql_folder() -> None:
    assert (sql_dir() / "marts" / "fct_ticket_first_response_sla.sql").is_file()


def test_a_broken_model_names_its_file_and_rolls_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = _project(
        tmp_path / "sql",
        {
            "staging/stg_x.sql": "select 1 as id",
            "marts/broken.sql": "select no_such_column from staging.stg_x",
        },
    )
    monkeypatch.setattr(runner, "load_project", lambda: load_project(root))
    db = RawDatabase(tmp_path / "broken.duckdb")
    with pytest.raises(ModelBuildError, match=r"analytics\.broken from sql/marts/broken\.sql"):
        run_models(db.con, as_of=AS_OF, settings=ModelSettings())
    schemas = {row["schema_name"] for row in db.rows("select schema_name from duckdb_schemas()")}
    assert "staging" not in schemas
