"""Status history from the sync snapshots: transitions, invalid ones, SLA pauses."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from pipelines.models import BusinessHours, ModelSettings, run_models
from tests.models import RawDatabase, ts
from tests.models.engines import ENGINES, PostgresRawDatabase, on_postgres

AS_OF = ts("2024-01-01 12:00")


def snapshot(ticket_id: int, status: str, observed: str, last_activity: str | None, **extra):
    return {
        "ticket_id": ticket_id,
        "ticket_status": status,
        "ticket_priority": extra.get("priority", "Critical"),
        "observed_at": ts(observed),
        "last_activity_date": ts(last_activity) if last_activity else None,
    }


def raw_tables(path: Path) -> RawDatabase:
    raw = RawDatabase(path)
    base = {"ticket_priority": "Critical", "end_user_id": 500, "technician_contact_id": 7}
    raw.table(
        "tickets",
        [
            # Pending 10:10-10:50, answered at 11:20: 80 minutes, 40 of them paused
            {**base, "ticket_id": 1, "ticket_created_date": ts("2024-01-01 10:00")},
            # Pending since 10:20 and unanswered at 12:00
            {**base, "ticket_id": 2, "ticket_created_date": ts("2024-01-01 10:00")},
            # Pending only after the first response (10:30): nothing to pause
            {
                **base,
                "ticket_id": 3,
                "ticket_created_date": ts("2024-01-01 10:00"),
                "first_response_date": ts("2024-01-01 11:10"),
            },
            # Open -> Closed, and Closed -> Open: both forbidden
            {**base, "ticket_id": 4, "ticket_created_date": ts("2024-01-01 08:00")},
            # Open -> Pending -> Resolved -> Closed: all allowed
            {**base, "ticket_id": 5, "ticket_created_date": ts("2024-01-01 08:00")},
        ],
    )
    raw.table(
        "comments",
        [
            {
                "comment_id": 1,
                "ticket_id": 1,
                "comment_date": ts("2024-01-01 11:20"),
                "creator_contact_id": 7,
                "is_internal": False,
            }
        ],
    )
    raw.table(
        "ticket_status_snapshots",
        [
            snapshot(1, "Open", "2024-01-01 10:05", "2024-01-01 10:00"),
            snapshot(1, "Pending", "2024-01-01 10:35", "2024-01-01 10:10"),
            snapshot(1, "Open", "2024-01-01 11:05", "2024-01-01 10:50"),
            snapshot(2, "Pending", "2024-01-01 10:35", "2024-01-01 10:20"),
            snapshot(3, "Open", "2024-01-01 10:05", "2024-01-01 10:00"),
            snapshot(3, "Pending", "2024-01-01 11:35", "2024-01-01 11:30"),
            snapshot(4, "Open", "2024-01-01 08:05", "2024-01-01 08:00"),
            snapshot(4, "Open", "2024-01-01 08:35", "2024-01-01 08:20", priority="High"),
            snapshot(4, "Closed", "2024-01-01 09:05", None),
            snapshot(4, "Open", "2024-01-01 09:35", "2024-01-01 08:00"),
            snapshot(5, "Open", "2024-01-01 08:05", "2024-01-01 08:00"),
            snapshot(5, "Pending", "2024-01-01 08:35", "2024-01-01 08:30"),
            snapshot(5, "Resolved", "2024-01-01 09:05", "2024-01-01 09:00"),
            snapshot(5, "Closed", "2024-01-01 09:35", "2024-01-01 09:40"),
        ],
    )
    return raw


@pytest.fixture
def db(tmp_path: Path) -> RawDatabase:
    return raw_tables(tmp_path / "history.duckdb")


@pytest.fixture(scope="module", params=ENGINES)
def built(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RawDatabase | PostgresRawDatabase]:
    """The tables built once with the default settings, on each engine."""
    folder = tmp_path_factory.mktemp("history")
    raw = raw_tables(folder / "history.duckdb")
    if request.param == "postgres":
        server = on_postgres(request, raw.con, folder)
        server.build(as_of=AS_OF, settings=ModelSettings())
        yield server
    else:
        run_models(raw.con, as_of=AS_OF, settings=ModelSettings())
        yield raw
    raw.con.close()


def test_pending_time_counts_by_default(built: RawDatabase | PostgresRawDatabase) -> None:
    sla = built.sla()
    assert sla[1]["response_minutes"] == 80.0
    assert sla[1]["paused_minutes"] == 0.0
    assert sla[1]["sla_status"] == "breached"
    assert sla[2]["sla_status"] == "breached"


def test_pause_when_pending_skips_pending_minutes_before_the_first_response(
    db: RawDatabase,
) -> None:
    run_models(db.con, as_of=AS_OF, settings=ModelSettings(pause_sla_when_pending=True))
    sla = db.sla()
    assert sla[1]["response_minutes"] == 40.0
    assert sla[1]["paused_minutes"] == 40.0
    assert sla[1]["sla_status"] == "met"
    assert sla[1]["due_at"] == ts("2024-01-01 11:40")

    # first seen Pending at 10:35 (LastActivityDate 10:20 is not trusted for a first
    # observation): 35 minutes counted, 85 paused; the clock would restart at as_of
    assert sla[2]["elapsed_minutes"] == 35.0
    assert sla[2]["paused_minutes"] == 85.0
    assert sla[2]["sla_status"] == "pending"
    assert sla[2]["due_at"] == ts("2024-01-01 12:25")

    assert sla[3]["response_minutes"] == 70.0
    assert sla[3]["paused_minutes"] == 0.0
    assert sla[3]["sla_status"] == "breached"


def test_pause_when_pending_with_business_hours(db: RawDatabase) -> None:
    # open 10:00-11:00 and 11:30-18:00 UTC; ticket 1 is paused 10:10-10:50
    hours = BusinessHours.from_config({"monday": "10:00-11:00, 11:30-18:00"})
    settings = ModelSettings(pause_sla_when_pending=True, business_hours=hours)
    run_models(db.con, as_of=AS_OF, settings=settings)
    row = db.sla()[1]
    assert row["response_minutes"] == 10.0 + 10.0  # 10:00-10:10 and 10:50-11:00
    assert row["paused_minutes"] == 40.0
    assert row["due_at"] == ts("2024-01-01 12:10")  # 20 more minutes from 11:30 + 20


def test_transitions_and_the_invalid_ones(built: RawDatabase | PostgresRawDatabase) -> None:
    transitions = built.rows(
        "select ticket_id, from_status, to_status, transitioned_at, is_allowed "
        "from analytics.fct_ticket_status_transitions order by ticket_id, transition_number"
    )
    assert [
        (t["ticket_id"], t["from_status"], t["to_status"], t["is_allowed"]) for t in transitions
    ] == [
        (1, "Open", "Pending", True),
        (1, "Pending", "Open", True),
        (3, "Open", "Pending", True),
        (4, "Open", "Closed", False),
        (4, "Closed", "Open", False),
        (5, "Open", "Pending", True),
        (5, "Pending", "Resolved", True),
        (5, "Resolved", "Closed", True),
    ]
    changed = {(t["ticket_id"], t["to_status"]): t["transitioned_at"] for t in transitions}
    assert changed[(1, "Pending")] == ts("2024-01-01 10:10")  # LastActivityDate
    assert changed[(4, "Closed")] == ts("2024-01-01 09:05")  # no LastActivityDate: observed
    assert changed[(4, "Open")] == ts("2024-01-01 09:05")  # stale date: previous observation
    assert changed[(5, "Closed")] == ts("2024-01-01 09:35")  # later date: this observation

    invalid = built.rows(
        "select ticket_id, from_status, to_status, violation "
        "from analytics.dq_invalid_status_transitions order by observed_at"
    )
    assert invalid == [
        {
            "ticket_id": 4,
            "from_status": "Open",
            "to_status": "Closed",
            "violation": "Open -> Closed skips Resolved",
        },
        {
            "ticket_id": 4,
            "from_status": "Closed",
            "to_status": "Open",
            "violation": "Closed is final",
        },
    ]
