"""The demo's world is stable: `atera-sync run` without a key, again and again, days apart.

Each run is the command `make run` runs, on a small world; between runs the
sandbox's clock moves on, so each start plays a day or more of activity.
"""

from __future__ import annotations

import random
import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import pytest
from click.testing import CliRunner

from pipelines import cli
from pipelines.sandbox import AteraSandbox
from pipelines.sandbox.data import TicketStore
from pipelines.sandbox.world_activity import allowed_as_seen, simulate_activity
from pipelines.sandbox.world_state import (
    WorldFileError,
    load_world,
    reset_demo,
    save_world,
    world_file_for,
)

DAYS_BEFORE_EACH_RUN = (0, 1, 4)


def world_checks(duckdb_path: Path) -> dict[str, object]:
    with duckdb.connect(str(duckdb_path), read_only=True) as con:

        def one(sql: str) -> object:
            row = con.execute(sql).fetchone()
            assert row is not None
            return row[0]

        return {
            "invalid transitions": one(
                "select count(*) from analytics.dq_invalid_status_transitions"
            ),
            "comments before their ticket": one(
                "select count(*) from atera_raw.comments c join atera_raw.tickets t "
                "using (ticket_id) where c.comment_date < t.ticket_created_date"
            ),
            "work before its ticket": one(
                "select count(*) from atera_raw.work_hours w join atera_raw.tickets t "
                "using (ticket_id) where w.start_date < t.ticket_created_date"
            ),
            "billable sums that disagree": one(
                "select count(*) from atera_raw.billable_durations b left join ("
                "  select ticket_id, sum(duration) as seconds from atera_raw.work_hours "
                "  where is_billable group by all) w using (ticket_id) "
                "where b.total_billable_duration <> coalesce(w.seconds, 0)"
            ),
        }


def facts(duckdb_path: Path) -> tuple[set[int], dict[int, int], int]:
    """Closed tickets, each work-hour record's ticket, and how many tickets there are."""
    with duckdb.connect(str(duckdb_path), read_only=True) as con:
        closed = {
            t
            for (t,) in con.execute(
                "select ticket_id from atera_raw.tickets where ticket_status = 'Closed'"
            ).fetchall()
        }
        work = dict(
            con.execute("select work_hour_id, ticket_id from atera_raw.work_hours").fetchall()
        )
        tickets = con.execute("select count(*) from atera_raw.tickets").fetchone()
    assert tickets is not None
    return closed, work, int(tickets[0])


def test_three_demo_runs_days_apart_keep_the_world_consistent(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import pipelines.sandbox

    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("SOURCES__ATERA__API_KEY", raising=False)
    offset = {"days": 0}

    def small_sandbox(**kwargs: object) -> AteraSandbox:
        server = AteraSandbox(tickets=250, **kwargs)  # type: ignore[arg-type]
        server.advance(offset["days"] * 86400)
        return server

    monkeypatch.setattr(pipelines.sandbox, "AteraSandbox", small_sandbox)
    duckdb_path = tmp_path / "data" / "atera.duckdb"
    world = world_file_for(duckdb_path)
    history: list[tuple[set[int], dict[int, int], int]] = []
    for days in DAYS_BEFORE_EACH_RUN:
        offset["days"] = days
        result = CliRunner().invoke(cli.main, ["run"], catch_exceptions=False)
        # exit 0: the sync landed and every dbt data test passed
        assert result.exit_code == 0, result.output
        checks = world_checks(duckdb_path)
        assert all(count == 0 for count in checks.values()), checks
        history.append(facts(duckdb_path))

    assert stat.S_IMODE(world.stat().st_mode) == 0o600
    (closed_1, work_1, tickets_1), _, (closed_3, work_3, tickets_3) = history
    assert closed_1 <= closed_3  # Closed stays closed
    assert {w: work_3[w] for w in work_1} == work_1  # work hours stay on their ticket
    assert tickets_3 > tickets_1  # four days bring new tickets
    assert len(work_3) > len(work_1) and len(closed_3) > len(closed_1)


def test_demo_reset_starts_over_and_never_takes_a_real_warehouse(tmp_path: Path) -> None:
    duckdb_path = tmp_path / "data" / "atera.duckdb"
    duckdb_path.parent.mkdir()
    duckdb.connect(str(duckdb_path)).close()
    with pytest.raises(WorldFileError, match="may hold your account's data"):
        reset_demo(duckdb_path)
    assert duckdb_path.exists()

    store = TicketStore(tickets=5)
    save_world(store, world_file_for(duckdb_path), datetime.now(UTC), {})
    (duckdb_path.parent / ".atera.dlt").mkdir()
    removed = reset_demo(duckdb_path)
    assert world_file_for(duckdb_path) in removed
    assert not duckdb_path.exists() and not (duckdb_path.parent / ".atera.dlt").exists()
    assert reset_demo(duckdb_path) == []


def test_a_saved_world_reads_back_the_same(tmp_path: Path) -> None:
    store = TicketStore(tickets=40, seed=42)
    path = tmp_path / "world.json"
    seen = {10001: {"Open", "Resolved"}}
    save_world(store, path, datetime(2026, 1, 2, tzinfo=UTC), seen)
    again = TicketStore(tickets=0, seed=42)
    until, seen_again = load_world(path, again)
    assert until == datetime(2026, 1, 2, tzinfo=UTC)
    assert seen_again == seen
    assert again.snapshot() == store.snapshot()
    assert again.modification_time(10001) == store.modification_time(10001)


def test_activity_never_shows_a_sync_a_forbidden_change() -> None:
    start = datetime(2026, 3, 1, tzinfo=UTC)
    store = TicketStore(tickets=300, seed=3, now=start)
    before = {tid: store.get_ticket(tid)["TicketStatus"] for tid in store.ticket_ids()}
    report = simulate_activity(store, start, start + timedelta(days=10), random.Random(1))
    assert report.new_tickets > 0 and report.status_changes > 0 and report.work_hours > 0
    for tid, status in before.items():
        after = store.get_ticket(tid)["TicketStatus"]
        assert allowed_as_seen({status}, after), (tid, status, after)
    assert allowed_as_seen({"Open", "Resolved"}, "Open")
    assert not allowed_as_seen({"Open", "Resolved"}, "Pending")
    assert not allowed_as_seen({"Closed"}, "Open")
