"""Staging copes with missing raw tables and with Atera's published API field names."""

from __future__ import annotations

from pathlib import Path

import duckdb

from pipelines.models import ModelSettings, run_models
from tests.models import PUBLISHED_COLUMNS, RawDatabase, ts

AS_OF = ts("2024-01-10 00:00")


def test_an_empty_database_builds_empty_marts(tmp_path: Path) -> None:
    con = duckdb.connect(str(tmp_path / "empty.duckdb"))  # no atera_raw at all
    result = run_models(con, as_of=AS_OF, settings=ModelSettings())
    assert result.raw_tables == dict.fromkeys(result.raw_tables, False)
    assert list(result.compliance_by_priority["tickets"]) == [0, 0, 0, 0]
    assert con.execute("select count(*) from analytics.backlog_by_priority_age").fetchone() == (20,)


def test_missing_comments_and_work_hours_tables(tmp_path: Path) -> None:
    db = RawDatabase(tmp_path / "tickets_only.duckdb")
    db.table(
        "tickets",
        [
            {
                "ticket_id": 1,
                "ticket_priority": "High",
                "ticket_created_date": ts("2024-01-01 10:00"),
                "first_response_date": ts("2024-01-01 11:00"),
            },
            {
                "ticket_id": 2,
                "ticket_priority": "High",
                "ticket_created_date": ts("2024-01-01 10:00"),
            },
        ],
    )
    result = run_models(db.con, as_of=AS_OF, settings=ModelSettings())
    assert result.raw_tables["tickets"] is True
    assert result.raw_tables["comments"] is False
    assert result.raw_tables["work_hours"] is False
    sla = db.sla()
    assert sla[1]["sla_status"] == "met"
    assert sla[2]["sla_status"] == "breached"
    assert db.rows("select count(*) as n from staging.stg_comments") == [{"n": 0}]
    assert db.rows(
        "select count(*) as n from analytics.work_hours_by_customer_technician_month"
    ) == [{"n": 0}]
    assert db.rows("select count(*) as n from analytics.fct_ticket_status_transitions") == [
        {"n": 0}
    ]


def test_published_api_field_names(tmp_path: Path) -> None:
    db = RawDatabase(tmp_path / "published.duckdb")
    created = ts("2024-01-01 10:00")
    common = {
        "ticket_priority": "Critical",
        "ticket_status": "Open",
        "customer_id": 1,
        "customer_name": "Acme",
        "end_user_id": 500,
        "technician_contact_id": 7,
        "technician_full_name": "Jane Tech",
        "ticket_created_date": created,
    }
    db.table(
        "tickets",
        [
            {**common, "ticket_id": 1, "technician_first_comment_date": ts("2024-01-01 10:45")},
            {**common, "ticket_id": 2, "first_response_due_date": ts("2024-01-01 11:00")},
            {**common, "ticket_id": 3},
        ],
        PUBLISHED_COLUMNS["tickets"],
    )
    db.table(
        "comments",
        [
            # an end user's reply on ticket 2, then a technician's public one
            {"comment_key": "2-a", "ticket_id": 2, "date": ts("2024-01-01 10:05"),
             "comment": "any news?", "end_user_id": 500, "technician_contact_id": 0,
             "is_internal": False},
            {"comment_key": "2-b", "ticket_id": 2, "date": ts("2024-01-01 10:50"),
             "comment": "on it", "end_user_id": 0, "technician_contact_id": 9,
             "first_name": "Sam", "last_name": "Support", "is_internal": False},
            # only an internal note on ticket 3
            {"comment_key": "3-a", "ticket_id": 3, "date": ts("2024-01-01 10:10"),
             "technician_contact_id": 7, "is_internal": True},
        ],
        PUBLISHED_COLUMNS["comments"],
    )  # fmt: skip
    db.table(
        "work_hours",
        [
            {"work_hour_id": 1, "work_hours_id": 1, "ticket_id": 2, "technician_contact_id": 9,
             "start_work_hour": ts("2024-01-01 11:00"), "end_work_hour": ts("2024-01-01 12:30"),
             "billiable": True},
            {"work_hour_id": 2, "work_hours_id": 2, "ticket_id": 2, "technician_contact_id": 9,
             "start_work_hour": ts("2024-01-01 13:00"), "end_work_hour": ts("2024-01-01 13:30"),
             "billiable": False},
        ],
        PUBLISHED_COLUMNS["work_hours"],
    )  # fmt: skip
    run_models(db.con, as_of=AS_OF, settings=ModelSettings())
    sla = db.sla()
    assert sla[1]["first_response_source"] == "api_technician_first_comment_date"
    assert sla[1]["response_minutes"] == 45.0
    assert sla[2]["first_response_source"] == "technician_comment"
    assert sla[2]["first_response_at"] == ts("2024-01-01 10:50")
    assert sla[2]["atera_due_at"] == ts("2024-01-01 11:00")
    assert sla[3]["first_response_source"] == "none"
    assert sla[3]["sla_status"] == "breached"

    work = db.rows("select * from analytics.work_hours_by_customer_technician_month")
    assert len(work) == 1
    assert work[0]["technician_full_name"] == "Sam Support"  # from the comments
    assert work[0]["customer_name"] == "Acme"
    assert (work[0]["billable_hours"], work[0]["non_billable_hours"]) == (1.5, 0.5)
    assert work[0]["work_hour_records"] == 2


def test_work_hours_by_customer_technician_month(tmp_path: Path) -> None:
    db = RawDatabase(tmp_path / "work.duckdb")
    db.table(
        "tickets",
        [
            {"ticket_id": 1, "ticket_priority": "Low", "customer_id": 1, "customer_name": "Acme",
             "technician_contact_id": 7, "technician_full_name": "Jane Tech",
             "ticket_created_date": ts("2024-01-30 10:00")},
        ],
    )  # fmt: skip
    db.table(
        "work_hours",
        [
            {"work_hour_id": 1, "ticket_id": 1, "technician_contact_id": 7,
             "start_date": ts("2024-01-30 10:00"), "end_date": ts("2024-01-30 11:30"),
             "duration": 5400, "is_billable": True},
            {"work_hour_id": 2, "ticket_id": 1, "technician_contact_id": 7,
             "start_date": ts("2024-01-31 10:00"), "duration": 1800, "is_billable": False},
            {"work_hour_id": 3, "ticket_id": 1, "technician_contact_id": 7,
             "start_date": ts("2024-02-01 10:00"), "duration": 3600, "is_billable": True},
        ],
    )  # fmt: skip
    run_models(db.con, as_of=AS_OF, settings=ModelSettings())
    work = db.rows(
        "select cast(month as varchar) as month, customer_id, technician_contact_id, "
        "technician_full_name, billable_hours, non_billable_hours, total_hours "
        "from analytics.work_hours_by_customer_technician_month order by month"
    )
    assert work == [
        {"month": "2024-01-01", "customer_id": 1, "technician_contact_id": 7,
         "technician_full_name": "Jane Tech", "billable_hours": 1.5, "non_billable_hours": 0.5,
         "total_hours": 2.0},
        {"month": "2024-02-01", "customer_id": 1, "technician_contact_id": 7,
         "technician_full_name": "Jane Tech", "billable_hours": 1.0, "non_billable_hours": 0.0,
         "total_hours": 1.0},
    ]  # fmt: skip


def test_deleted_tickets_are_left_out_and_a_null_id_empties_nothing(tmp_path: Path) -> None:
    db = RawDatabase(tmp_path / "deleted.duckdb")
    db.table(
        "tickets",
        [
            {"ticket_id": i, "ticket_priority": "High", "ticket_status": "Open",
             "ticket_created_date": ts("2024-01-01 10:00")}
            for i in (1, 2, 3)
        ],
    )  # fmt: skip
    db.table(
        "comments",
        [{"comment_id": 11, "ticket_id": 2, "comment_date": ts("2024-01-01 10:30"),
          "creator_contact_id": 9, "is_internal": False}],
    )  # fmt: skip
    db.table(
        "deleted_tickets",
        [
            {"ticket_id": 2, "deleted_at": ts("2024-01-05 00:00")},  # gone
            {"ticket_id": 3, "deleted_at": None},  # listed again: restored
            {"ticket_id": None, "deleted_at": ts("2024-01-05 00:00")},  # a bad row
        ],
        {"ticket_id": "bigint", "deleted_at": "timestamptz"},
    )
    run_models(db.con, as_of=AS_OF, settings=ModelSettings())
    assert sorted(db.sla()) == [1, 3]
    assert db.rows("select count(*) as n from staging.stg_comments") == [{"n": 0}]
