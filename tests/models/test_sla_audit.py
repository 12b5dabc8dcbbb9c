"""Golden tests of the audited SLA definition (docs/sla.md), on hand-built raw tables.

Every expected value is worked out by hand in the comments next to it. One raw
database serves three builds: live, point in time, and with Atera's own due times.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from pipelines.models import ModelSettings, run_models
from pipelines.models.settings import ScopedTargets
from tests.models import RawDatabase, ts
from tests.models.engines import ENGINES, PostgresRawDatabase, on_postgres

CREATED = ts("2024-01-01 10:00")
LIVE_AS_OF = ts("2024-01-03 10:00")  # 2,880 minutes after CREATED
PIT = CREATED + timedelta(minutes=100)  # the point-in-time build's as_of
TECH = 7
END_USER = 500

TICKET_COLUMNS = {
    "ticket_id": "bigint",
    "ticket_title": "varchar",
    "ticket_priority": "varchar",
    "ticket_status": "varchar",
    "customer_id": "bigint",
    "customer_name": "varchar",
    "contract_id": "bigint",
    "end_user_id": "bigint",
    "technician_contact_id": "bigint",
    "technician_full_name": "varchar",
    "ticket_created_date": "timestamptz",
    "ticket_resolved_date": "timestamptz",
    "first_response_date": "timestamptz",
    "first_response_due_date": "timestamptz",
    "closed_ticket_due_date": "timestamptz",
}
VERSION_COLUMNS = {
    "ticket_id": "bigint",
    "observed_at": "timestamptz",
    "ticket_priority": "varchar",
    "ticket_status": "varchar",
    "customer_id": "bigint",
    "technician_contact_id": "bigint",
    "ticket_resolved_date": "timestamptz",
}


def at(minutes: float):
    return CREATED + timedelta(minutes=minutes)


def ticket(ticket_id: int, priority: str, **fields: Any) -> dict[str, Any]:
    return {
        "ticket_id": ticket_id,
        "ticket_title": f"ticket {ticket_id}",
        "ticket_priority": priority,
        "ticket_status": "Open",
        "customer_id": 1,
        "customer_name": "Acme",
        "end_user_id": END_USER,
        "technician_contact_id": TECH,
        "technician_full_name": "Jane Tech",
        "ticket_created_date": CREATED,
        **fields,
    }


def public_reply(comment_id: int, ticket_id: int, minutes: float) -> dict[str, Any]:
    return {
        "comment_id": comment_id,
        "ticket_id": ticket_id,
        "comment_text": "on it",
        "comment_date": at(minutes),
        "creator_contact_id": TECH,
        "is_internal": False,
    }


def snapshot(ticket_id: int, status: str, observed: float, activity: float | None):
    return {
        "ticket_id": ticket_id,
        "ticket_status": status,
        "ticket_priority": "Critical",
        "observed_at": at(observed),
        "last_activity_date": at(activity) if activity is not None else None,
    }


def raw_database(path: Path) -> RawDatabase:
    db = RawDatabase(path)
    db.table(
        "tickets",
        [
            # 1: resolved at +10, a public technician comment at +90
            ticket(1, "Critical", ticket_status="Resolved", ticket_resolved_date=at(10)),
            # 2: seen Resolved at +25 (activity +20), reopened, resolved again at +2,880
            ticket(2, "Critical", ticket_status="Resolved", ticket_resolved_date=at(2880)),
            # 3: an earlier sync saw resolved date +15; today's resolved date is +2,880
            ticket(3, "Critical", ticket_status="Resolved", ticket_resolved_date=at(2880)),
            # 4: public technician comment at +30, the API's field at +300
            ticket(4, "High", first_response_date=at(300), first_response_due_date=at(240)),
            # 5: the API's field 10 minutes before creation
            ticket(5, "High", first_response_date=at(-10), first_response_due_date=at(480)),
            # 7: created after the point in time (+160)
            ticket(7, "Medium", ticket_created_date=at(160)),
            # 8: answered at +120, after the point in time
            ticket(8, "Critical"),
            # 9: answered at +150
            ticket(9, "High"),
            # 10: Low at +50 (a version), Critical now; answered at +90
            ticket(10, "Critical"),
            # 11: deleted in Atera
            ticket(11, "Critical"),
            # 12: customer 2 has a 30-minute Critical target; answered at +45
            ticket(12, "Critical", customer_id=2),
            # 13: contract 77 (120 minutes) wins over customer 2 (30); answered at +90
            ticket(13, "Critical", customer_id=2, contract_id=77),
            # 14: Atera's own due time +60; answered at +100
            ticket(14, "High", first_response_due_date=at(60)),
        ],
        TICKET_COLUMNS,
    )
    db.table(
        "comments",
        [
            public_reply(11, 1, 90),
            public_reply(41, 4, 30),
            public_reply(81, 8, 120),
            public_reply(91, 9, 150),
            public_reply(101, 10, 90),
            public_reply(121, 12, 45),
            public_reply(131, 13, 90),
            public_reply(141, 14, 100),
        ],
    )
    db.table(
        "ticket_status_snapshots",
        [
            snapshot(2, "Resolved", 25, 20),
            snapshot(2, "Open", 1440, 1400),
            snapshot(2, "Resolved", 2885, 2880),
        ],
    )
    db.table(
        "ticket_versions",
        [
            {
                "ticket_id": 3,
                "observed_at": at(30),
                "ticket_priority": "Critical",
                "ticket_status": "Resolved",
                "customer_id": 1,
                "technician_contact_id": TECH,
                "ticket_resolved_date": at(15),
            },
            {
                "ticket_id": 10,
                "observed_at": at(50),
                "ticket_priority": "Low",
                "ticket_status": "Open",
                "customer_id": 1,
                "technician_contact_id": TECH,
            },
        ],
        VERSION_COLUMNS,
    )
    db.table(
        "deleted_tickets",
        [{"ticket_id": None, "deleted_at": at(5)}, {"ticket_id": 11, "deleted_at": at(5)}],
        {"ticket_id": "bigint", "deleted_at": "timestamptz"},
    )
    return db


Built = RawDatabase | PostgresRawDatabase
"""The audit's tables, built on DuckDB or on PostgreSQL."""

SETTINGS = {
    "resolution_targets": {"Critical": 1440, "High": 2880},
    "scoped_targets": (
        ScopedTargets("customer", 2, first_response={"Critical": 30}),
        ScopedTargets("contract", 77, first_response={"Critical": 120}),
    ),
}


@pytest.fixture(scope="module", params=ENGINES)
def built(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Built]:
    """The live build, then a point-in-time build into analytics_as_of, on each engine."""
    folder = tmp_path_factory.mktemp("audit")
    db = raw_database(folder / "audit.duckdb")
    live = {"as_of": LIVE_AS_OF, "settings": ModelSettings(**SETTINGS)}
    past = {"as_of": PIT, "settings": ModelSettings(**SETTINGS), "point_in_time": True}
    if request.param == "postgres":
        server = on_postgres(request, db.con, folder)
        server.build(**live)
        server.build(**past)
        yield server
    else:
        run_models(db.con, **live)
        run_models(db.con, **past)
        yield db
    db.con.close()


def facts(
    db: Built,
    schema: str = "analytics",
    mart: str = "fct_ticket_first_response_sla",
):
    return {row["ticket_id"]: row for row in db.rows(f"select * from {schema}.{mart}")}


def test_resolved_within_target_then_commented_is_met_at_the_resolution(
    built: Built,
) -> None:
    row = facts(built)[1]
    assert row["first_response_at"] == at(90)
    assert row["fulfilled_at"] == at(10)
    assert row["fulfilled_by"] == "resolution"
    assert (row["sla_status"], row["response_minutes"]) == ("met", 10.0)


def test_a_reopened_ticket_is_judged_at_its_first_resolution(
    built: Built,
) -> None:
    sla = facts(built)
    # snapshot at +25 saw Resolved, LastActivityDate +20: resolved at +20
    assert (sla[2]["fulfilled_at"], sla[2]["sla_status"]) == (at(20), "met")
    assert sla[2]["response_minutes"] == 20.0
    # an earlier sync's version had resolved date +15
    assert (sla[3]["fulfilled_at"], sla[3]["sla_status"]) == (at(15), "met")
    resolution = facts(built, mart="fct_ticket_resolution_sla")
    assert resolution[2]["first_resolved_at"] == at(20)
    assert resolution[2]["reopen_count"] == 1


def test_the_earliest_first_response_wins_and_anomalies_are_listed(
    built: Built,
) -> None:
    sla = facts(built)
    # High 240: the comment at +30 counts, not the field at +300
    assert sla[4]["first_response_at"] == at(30)
    assert sla[4]["first_response_source"] == "technician_comment"
    assert (sla[4]["sla_status"], sla[4]["response_minutes"]) == ("met", 30.0)
    # a field before creation is the earliest response: 0 minutes, but listed
    assert sla[5]["first_response_source"] == "api_first_response_date"
    assert sla[5]["response_minutes"] == 0.0
    anomalies = {
        (row["ticket_id"], row["reason"]): row["difference_minutes"]
        for row in built.rows("select * from analytics.dq_first_response_anomalies")
    }
    assert anomalies == {
        (4, "api_field_after_public_comment"): 270.0,
        (5, "api_field_before_creation"): -10.0,
    }


def test_a_null_id_among_deleted_tickets_empties_nothing(
    built: Built,
) -> None:
    sla = facts(built)
    assert 11 not in sla
    assert set(sla) == {1, 2, 3, 4, 5, 7, 8, 9, 10, 12, 13, 14}


def test_the_most_specific_target_wins(built: Built) -> None:
    sla = facts(built)
    assert (sla[12]["target_minutes"], sla[12]["target_source"]) == (30.0, "customer")
    assert sla[12]["sla_status"] == "breached"  # 45 > 30
    assert (sla[13]["target_minutes"], sla[13]["target_source"]) == (120.0, "contract")
    assert sla[13]["sla_status"] == "met"  # 90 <= 120
    assert (sla[8]["target_minutes"], sla[8]["target_source"]) == (60.0, "priority")


def test_point_in_time_uses_only_what_was_known(built: Built) -> None:
    live = facts(built)
    past = facts(built, "analytics_as_of")
    assert 7 not in past and 7 in live  # created after the point in time
    # 8: answer at +120 does not exist at +100: Critical 100 > 60 minutes
    assert (past[8]["sla_status"], past[8]["first_response_at"]) == ("breached", None)
    assert past[8]["elapsed_minutes"] == 100.0
    # 9: High, nothing by +100 < 240: pending; live it was met at +150
    assert past[9]["sla_status"] == "pending"
    assert (live[9]["sla_status"], live[9]["response_minutes"]) == ("met", 150.0)
    # 2: the snapshot at +25 is known at +100
    assert (past[2]["sla_status"], past[2]["fulfilled_at"]) == ("met", at(20))
    # 10: Low at +50 per its version; Critical today
    assert (past[10]["ticket_priority"], past[10]["attributes_source"]) == (
        "Low",
        "ticket_versions",
    )
    assert (live[10]["ticket_priority"], live[10]["attributes_source"]) == ("Critical", "current")
    assert {row["as_of"] for row in past.values()} == {PIT}
    assert {row["as_of"] for row in live.values()} == {LIVE_AS_OF}


def test_resolution_sla(built: Built) -> None:
    resolution = facts(built, mart="fct_ticket_resolution_sla")
    # Critical 1,440: resolved at +10
    assert (resolution[1]["sla_status"], resolution[1]["resolution_minutes"]) == ("met", 10.0)
    # resolved again at +2,880: the latest resolution counts for the resolution SLA
    assert (resolution[2]["sla_status"], resolution[2]["resolution_minutes"]) == (
        "breached",
        2880.0,
    )
    # open at the live as_of, 2,880 > 1,440
    assert (resolution[8]["sla_status"], resolution[8]["resolution_minutes"]) == ("breached", None)
    # High 2,880: open for exactly 2,880 minutes: pending
    assert resolution[9]["sla_status"] == "pending"
    # Medium has no resolution target
    assert (resolution[7]["sla_status"], resolution[7]["resolution_target_minutes"]) == (
        "unknown",
        None,
    )
    by_priority = {
        row["ticket_priority"]: row
        for row in built.rows("select * from analytics.sla_resolution_by_priority")
    }
    assert by_priority["Medium"]["unknown"] == 1
    assert by_priority["Critical"]["resolution_target_minutes"] == 1440.0


def test_vendor_parity(built: Built) -> None:
    parity = facts(built, mart="sla_vendor_parity")
    assert (parity[4]["reason"], parity[4]["due_difference_minutes"]) == ("agrees", 0.0)
    assert (parity[5]["reason"], parity[5]["due_difference_minutes"]) == (
        "different_target",
        240.0,
    )
    assert (parity[14]["reason"], parity[14]["due_difference_minutes"]) == (
        "different_target",
        -180.0,
    )
    assert parity[1]["reason"] == "missing_field"
    summary = {
        row["ticket_priority"]: row
        for row in built.rows("select * from analytics.sla_vendor_parity_by_priority")
    }
    # High: tickets 4, 5, 9, 14; compared 4, 5, 14; agreeing 4
    high = summary["High"]
    assert (high["tickets"], high["compared_tickets"], high["agreeing_tickets"]) == (4, 3, 1)
    assert high["agreement_pct"] == pytest.approx(33.33)


def test_atera_targets_decide_where_atera_sent_a_due_time(tmp_path: Path) -> None:
    db = raw_database(tmp_path / "atera.duckdb")
    run_models(
        db.con,
        as_of=LIVE_AS_OF,
        settings=ModelSettings(targets_source="atera"),
    )
    sla = facts(db)
    # due +60 from Atera, answered at +100: breached (the priority table says met)
    assert (sla[14]["target_source"], sla[14]["due_at"]) == ("atera", at(60))
    assert sla[14]["sla_status"] == "breached"
    # due +480 from Atera, answered at -10: met
    assert (sla[5]["target_source"], sla[5]["sla_status"]) == ("atera", "met")
    # no due time from Atera: the priority table
    assert (sla[8]["target_source"], sla[8]["sla_status"]) == ("priority", "breached")
    db.con.close()


def test_no_pause_before_the_first_observation_of_pending(tmp_path: Path) -> None:
    db = RawDatabase(tmp_path / "pause.duckdb")
    db.table("tickets", [ticket(1, "Critical")], TICKET_COLUMNS)
    db.table("comments", [public_reply(1, 1, 100)])
    db.table(
        "ticket_status_snapshots",
        [snapshot(1, "Pending", 30, 5), snapshot(1, "Open", 90, 80)],
    )
    run_models(db.con, as_of=LIVE_AS_OF, settings=ModelSettings(pause_sla_when_pending=True))
    row = facts(db)[1]
    # Pending from its first observation (+30, not LastActivityDate +5) until Open
    # at +80: 50 minutes paused, 100 - 50 = 50 minutes counted
    assert (row["paused_minutes"], row["response_minutes"]) == (50.0, 50.0)
    assert row["sla_status"] == "met"
    db.con.close()
