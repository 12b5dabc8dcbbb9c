"""Golden tests of the first-response SLA on hand-built raw tables (calendar minutes)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from pipelines.models import ModelSettings, ModelsResult, run_models
from tests.models import RawDatabase, ts
from tests.models.engines import ENGINES, PostgresRawDatabase, on_postgres

CREATED = ts("2024-01-01 10:00")
AS_OF = ts("2024-01-03 10:00")
END_USER = 500
TECHNICIAN = 7


def ticket(ticket_id: int, priority: str | None, **fields: object) -> dict[str, object]:
    """A ticket created at CREATED for customer 1, end user 500, technician 7."""
    return {
        "ticket_id": ticket_id,
        "ticket_title": f"ticket {ticket_id}",
        "ticket_priority": priority,
        "ticket_status": "Open",
        "customer_id": 1,
        "customer_name": "Acme",
        "end_user_id": END_USER,
        "technician_contact_id": TECHNICIAN,
        "technician_full_name": "Jane Tech",
        "ticket_created_date": CREATED,
        **fields,
    }


def comment(comment_id: int, ticket_id: int, minutes: float, creator: int, internal: bool):
    """A comment `minutes` after CREATED."""
    return {
        "comment_id": comment_id,
        "ticket_id": ticket_id,
        "comment_text": "...",
        "comment_date": CREATED + timedelta(minutes=minutes),
        "creator_contact_id": creator,
        "is_internal": internal,
    }


def at(minutes: float):
    """CREATED plus some minutes."""
    return CREATED + timedelta(minutes=minutes)


def raw_tables(path: Path) -> RawDatabase:
    raw = RawDatabase(path)
    raw.table(
        "tickets",
        [
            ticket(1, "Critical", first_response_date=at(60)),  # exactly on target
            ticket(2, "Critical", first_response_date=at(61)),  # one minute late
            ticket(3, "Critical"),  # internal note first, public reply at 90
            ticket(4, "High"),  # only the end user wrote
            ticket(5, "High", ticket_status="Resolved", ticket_resolved_date=at(200)),
            ticket(6, "Medium", ticket_created_date=AS_OF - timedelta(minutes=481)),
            ticket(7, "Medium", ticket_created_date=AS_OF - timedelta(minutes=480)),
            ticket(8, None, first_response_date=at(5)),
            ticket(9, "Urgent"),
            ticket(10, " critical ", first_response_date=at(30.5)),
            ticket(11, "Low"),  # answered by a contact nobody knows
            ticket(12, "Low", end_user_id=501),  # answered by another ticket's end user
        ],
    )
    raw.table(
        "comments",
        [
            comment(31, 3, 10, TECHNICIAN, internal=True),
            comment(32, 3, 90, TECHNICIAN, internal=False),
            comment(41, 4, 5, END_USER, internal=False),
            comment(111, 11, 100, 999, internal=False),
            comment(121, 12, 50, END_USER, internal=False),
        ],
    )
    return raw


@pytest.fixture
def db(tmp_path: Path) -> RawDatabase:
    return raw_tables(tmp_path / "sla.duckdb")


def build(db: RawDatabase, **settings: object):
    return run_models(db.con, as_of=AS_OF, settings=ModelSettings(**settings))


@dataclass
class Built:
    """The tables built once with the default settings, on one engine."""

    db: RawDatabase | PostgresRawDatabase
    result: ModelsResult

    def sla(self) -> dict[int, dict[str, Any]]:
        return self.db.sla()

    def rows(self, sql: str) -> list[dict[str, Any]]:
        return self.db.rows(sql)


@pytest.fixture(scope="module", params=ENGINES)
def built(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Built]:
    folder = tmp_path_factory.mktemp("first_response")
    raw = raw_tables(folder / "sla.duckdb")
    if request.param == "postgres":
        server = on_postgres(request, raw.con, folder)
        yield Built(server, server.build(as_of=AS_OF, settings=ModelSettings()))
    else:
        yield Built(raw, build(raw))
    raw.con.close()


def test_exactly_on_target_is_met_and_one_minute_late_is_breached(built: Built) -> None:
    sla = built.sla()
    assert sla[1]["response_minutes"] == 60.0
    assert sla[1]["sla_status"] == "met"
    assert sla[1]["first_response_source"] == "api_first_response_date"
    assert sla[1]["due_at"] == at(60)
    assert sla[2]["response_minutes"] == 61.0
    assert sla[2]["sla_status"] == "breached"


def test_an_internal_note_is_not_a_response(built: Built) -> None:
    row = built.sla()[3]
    assert row["first_response_at"] == at(90)
    assert row["first_response_source"] == "technician_comment"
    assert row["sla_status"] == "breached"


def test_an_end_users_comment_is_not_a_response(built: Built) -> None:
    row = built.sla()[4]
    assert row["first_response_at"] is None
    assert row["first_response_source"] == "none"
    assert row["sla_status"] == "breached"  # open for two days, High is 240 minutes


def test_resolved_without_a_response_counts_the_resolution(built: Built) -> None:
    row = built.sla()[5]
    assert row["first_response_at"] is None
    assert row["fulfilled_at"] == at(200)
    assert row["fulfilled_by"] == "resolution"
    assert row["response_minutes"] == 200.0
    assert row["sla_status"] == "met"


def test_open_and_unanswered_is_breached_past_target_and_pending_within(built: Built) -> None:
    sla = built.sla()
    assert sla[6]["sla_status"] == "breached"
    assert sla[6]["elapsed_minutes"] == 481.0
    assert sla[6]["response_minutes"] is None
    assert sla[7]["sla_status"] == "pending"
    assert sla[7]["elapsed_minutes"] == 480.0
    assert sla[7]["due_at"] == AS_OF


def test_no_or_unknown_priority_counts_as_unknown_without_target(built: Built) -> None:
    sla = built.sla()
    for ticket_id, raw_priority in ((8, None), (9, "Urgent")):
        row = sla[ticket_id]
        assert row["ticket_priority"] == "Unknown"
        assert row["raw_ticket_priority"] == raw_priority
        assert row["target_minutes"] is None
        assert row["sla_status"] == "unknown"
        assert row["due_at"] is None
    assert sla[8]["response_minutes"] == 5.0
    # spelling is normalised before the target is looked up
    assert sla[10]["ticket_priority"] == "Critical"
    assert sla[10]["response_minutes"] == 30.5
    assert sla[10]["sla_status"] == "met"


def test_unknown_contacts_are_technicians_and_known_end_users_are_not(built: Built) -> None:
    sla = built.sla()
    assert sla[11]["first_response_at"] == at(100)
    assert sla[11]["first_response_source"] == "technician_comment"
    # contact 500 is the end user of other tickets, so not a technician on ticket 12
    assert sla[12]["first_response_at"] is None
    authors = {
        row["comment_key"]: (row["author_type"], row["author_rule"])
        for row in built.rows("select * from intermediate.int_comment_authors")
    }
    assert authors == {
        "31": ("technician", "known_technician"),
        "32": ("technician", "known_technician"),
        "41": ("end_user", "ticket_end_user"),
        "111": ("technician", "unknown_contact"),
        "121": ("end_user", "known_end_user"),
    }


def test_compliance_by_priority_numbers(built: Built) -> None:
    result = built.result
    table = result.compliance_by_priority
    assert list(table["ticket_priority"]) == ["Critical", "High", "Medium", "Low", "Unknown"]
    rows = {row["ticket_priority"]: row for row in table.to_dict("records")}

    critical = rows["Critical"]  # responses 60, 61, 90, 30.5 minutes
    assert (critical["tickets"], critical["met"], critical["breached"], critical["pending"]) == (
        4,
        2,
        2,
        0,
    )
    assert critical["target_minutes"] == 60
    assert critical["compliance_pct"] == 50.0
    assert critical["median_response_minutes"] == 60.5
    assert critical["p90_response_minutes"] == pytest.approx(81.3)  # 61 + 0.7 * (90 - 61)

    high = rows["High"]  # ticket 4 breached (no fulfilment), ticket 5 met at 200
    assert (high["tickets"], high["met"], high["breached"], high["pending"]) == (2, 1, 1, 0)
    assert high["compliance_pct"] == 50.0
    assert high["median_response_minutes"] == 200.0

    medium = rows["Medium"]
    assert (medium["met"], medium["breached"], medium["pending"]) == (0, 1, 1)
    assert medium["compliance_pct"] == 0.0
    assert medium["median_response_minutes"] != medium["median_response_minutes"]  # NaN

    low = rows["Low"]  # ticket 11 met at 100, ticket 12 breached unanswered
    assert (low["tickets"], low["met"], low["breached"]) == (2, 1, 1)

    unknown = rows["Unknown"]
    assert (unknown["tickets"], unknown["unknown"], unknown["met"], unknown["breached"]) == (
        2,
        2,
        0,
        0,
    )
    assert unknown["compliance_pct"] != unknown["compliance_pct"]  # NaN: no met or breached
    assert list(table["priority_rank"]) == [1, 2, 3, 4, 5]


def test_known_priorities_are_listed_without_tickets_and_unknown_only_when_present(
    tmp_path: Path,
) -> None:
    db = RawDatabase(tmp_path / "one.duckdb")
    db.table("tickets", [ticket(1, "High", first_response_date=at(10))])
    result = run_models(db.con, as_of=AS_OF, settings=ModelSettings())
    table = result.compliance_by_priority
    assert list(table["ticket_priority"]) == ["Critical", "High", "Medium", "Low"]
    assert list(table["tickets"]) == [0, 1, 0, 0]
    assert table["compliance_pct"].isna().tolist() == [True, False, True, True]


def test_breakdowns_by_month_technician_and_customer(db: RawDatabase) -> None:
    db.table(
        "tickets",
        [
            ticket(1, "Critical", first_response_date=at(30)),
            ticket(
                2,
                "Critical",
                ticket_created_date=ts("2024-02-01 10:00"),
                first_response_date=ts("2024-02-01 12:00"),
                technician_contact_id=8,
                technician_full_name="Joe Tech",
                customer_id=2,
                customer_name="Beta",
            ),
        ],
    )
    build(db)
    by_month = db.rows(
        "select month, ticket_priority, tickets, met, breached "
        "from analytics.sla_first_response_by_month where tickets > 0 order by month"
    )
    assert [(str(r["month"]), r["met"], r["breached"]) for r in by_month] == [
        ("2024-01-01", 1, 0),
        ("2024-02-01", 0, 1),
    ]
    assert db.rows("select count(*) as n from analytics.sla_first_response_by_month")[0]["n"] == 8
    by_technician = db.rows(
        "select technician_contact_id, technician_full_name, compliance_pct "
        "from analytics.sla_first_response_by_technician order by 1"
    )
    assert by_technician == [
        {"technician_contact_id": 7, "technician_full_name": "Jane Tech", "compliance_pct": 100.0},
        {"technician_contact_id": 8, "technician_full_name": "Joe Tech", "compliance_pct": 0.0},
    ]
    by_customer = db.rows(
        "select customer_id, customer_name, tickets, met "
        "from analytics.sla_first_response_by_customer order by 1"
    )
    assert by_customer == [
        {"customer_id": 1, "customer_name": "Acme", "tickets": 1, "met": 1},
        {"customer_id": 2, "customer_name": "Beta", "tickets": 1, "met": 0},
    ]


def test_targets_come_from_settings(db: RawDatabase) -> None:
    build(db, sla_targets={"Critical": 90, "Urgent": 15})
    sla = db.sla()
    assert sla[3]["sla_status"] == "met"  # 90 minutes against a 90-minute target
    assert sla[9]["ticket_priority"] == "Urgent"
    assert sla[9]["target_minutes"] == 15
    targets = db.rows("select * from analytics.sla_targets order by priority_rank")
    assert [(t["ticket_priority"], t["target_minutes"]) for t in targets] == [
        ("Critical", 90),
        ("High", 240),
        ("Medium", 480),
        ("Low", 1440),
        ("Urgent", 15),
    ]
