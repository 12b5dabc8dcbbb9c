"""`atera-sync migrate`: a DuckDB warehouse built by several syncs, moved onto a real
PostgreSQL server; the copy equals the file row by row and the next run there is incremental.

The tests share one migration (module fixture) and run in file order: the comparison first,
then the runs that change the server.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import psycopg2
import pytest
from click.testing import CliRunner, Result

from pipelines import migrate_copy
from pipelines.cli import main
from pipelines.migrate import MigrationError, migrate_duckdb
from pipelines.point_in_time_builds import record_point_in_time_build
from pipelines.sandbox import AteraSandbox
from pipelines.server_lock import ServerRunLock
from pipelines.server_warehouse import ServerWarehouse
from pipelines.sync import run_sync
from tests.conftest import TEST_API_KEY, config_for
from tests.postgres_server import PostgresServer
from tests.test_sync_e2e import api, created_id, expected_comments, modified_after
from tests.warehouse import expected_rows, snake

TICKETS = 60


@dataclass
class Migrated:
    sandbox: AteraSandbox
    source: Path
    source_digest: str
    dsn: str
    state_path: Path
    result: Result
    full_sync_calls: int
    calls_during_migration: int


def change_data(sandbox: AteraSandbox, round_: int) -> set[int]:
    """A new ticket, a status change, a comment and work hours; the ids touched."""
    tickets = sandbox.snapshot()["tickets"]
    # the seeded data follows the clock: take any ticket still in progress (each round
    # creates an open one, so a later round always finds one)
    active = [t for t in tickets if t["TicketStatus"] != "Closed"]
    assert active, "the sandbox has no ticket in progress to change"
    ticket = active[0]
    status = "Closed" if ticket["TicketStatus"] == "Resolved" else "Resolved"
    with api(sandbox) as http:
        response = http.post(
            "/tickets",
            json={
                "TicketTitle": f"Printer offline, round {round_}",
                "EndUserID": ticket["EndUserID"],
                "TicketPriority": "High",
                "TicketType": "Incident",
            },
        )
        assert response.status_code in (200, 201), response.text
        created = created_id(response)
        response = http.post(f"/tickets/{ticket['TicketID']}", json={"TicketStatus": status})
        assert response.status_code == 200, response.text
        response = http.post(
            f"/tickets/{created}/comments",
            json={"CommentText": "Restarted the spooler", "IsInternal": False},
        )
        assert response.status_code in (200, 201), response.text
    technician = next(iter(sandbox.store.technicians))
    now = sandbox.now()
    sandbox.store.add_work_hours(
        created, technician, now - timedelta(minutes=30), now, True, "Restarted the spooler"
    )
    return {created, ticket["TicketID"]}


def _digest(path: Path) -> str:
    """The file's bytes and the names beside it (a read-only open writes no WAL, no copy)."""
    names = sorted(p.name for p in path.parent.iterdir())
    return hashlib.sha256(path.read_bytes()).hexdigest() + repr(names)


def _pg(dsn: str, sql: str) -> list[tuple]:
    with psycopg2.connect(dsn) as con, con.cursor() as cursor:
        cursor.execute(sql)
        return cursor.fetchall()


def _migrate(*args: str) -> Result:
    return CliRunner().invoke(main, ["migrate", *args], catch_exceptions=False)


@pytest.fixture(scope="module")
def migrated(
    postgres_server: PostgresServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Migrated]:
    folder = tmp_path_factory.mktemp("migrate")
    source = folder / "duckdb" / "atera.duckdb"
    with (
        AteraSandbox(api_key=TEST_API_KEY, tickets=TICKETS, seed=11, rate_limit=None) as sandbox,
        pytest.MonkeyPatch.context() as patch,
    ):
        config = config_for(sandbox)
        full = run_sync(config, source)
        for round_ in range(2):  # changes, then an incremental run; twice
            sandbox.advance(3600)
            change_data(sandbox, round_)
            sandbox.advance(3600)
            assert run_sync(config, source).report.mode == "incremental"
        with duckdb.connect(str(source)) as con:  # as `atera-sync models --as-of` leaves it
            record_point_in_time_build(con, "analytics_q3", datetime(2026, 9, 30, tzinfo=UTC))
        dsn = postgres_server.dsn(postgres_server.create_database())
        patch.setenv("DESTINATION__POSTGRES__CREDENTIALS", dsn)
        patch.delenv("SOURCES__ATERA__API_KEY", raising=False)  # migrate needs no API key
        digest = _digest(source)
        before = sandbox.request_count()
        state_path = folder / "server" / "atera.duckdb"
        result = _migrate(
            "--from-duckdb", str(source), "--destination", "postgres", "--duckdb", str(state_path)
        )
        yield Migrated(
            sandbox,
            source,
            digest,
            dsn,
            state_path,
            result,
            full.api_calls,
            sandbox.request_count() - before,
        )


def _normal(value: Any, kind: str) -> Any:
    if kind == "JSON" and isinstance(value, str):
        return json.loads(value)
    if isinstance(value, datetime):
        return value.astimezone(UTC)
    return value


def _file_tables(path: Path) -> dict[str, list[tuple[str, str]]]:
    with duckdb.connect(str(path), read_only=True) as con:
        rows = con.execute(
            "select c.table_schema || '.' || c.table_name, c.column_name, c.data_type "
            "from information_schema.columns c join information_schema.tables t using "
            "(table_catalog, table_schema, table_name) where t.table_type = 'BASE TABLE' "
            "and c.table_schema in ('atera_raw', 'atera_meta') order by c.ordinal_position"
        ).fetchall()
    tables: dict[str, list[tuple[str, str]]] = {}
    for table, column, kind in rows:
        tables.setdefault(table, []).append((column, kind))
    return tables


def _sorted_rows(rows: list[tuple], kinds: list[str]) -> list[tuple]:
    normal = [tuple(_normal(v, k) for v, k in zip(row, kinds, strict=True)) for row in rows]
    return sorted(normal, key=repr)


def test_every_table_lands_row_by_row_and_the_file_is_untouched(migrated: Migrated) -> None:
    assert migrated.result.exit_code == 0, migrated.result.output
    assert migrated.calls_during_migration == 0  # the API is not involved
    assert _digest(migrated.source) == migrated.source_digest
    tables = _file_tables(migrated.source)
    del tables["atera_meta.point_in_time_builds"]
    for name in (
        "atera_raw.tickets",
        "atera_raw.ticket_status_snapshots",
        "atera_raw.ticket_versions",
        "atera_raw.deleted_tickets",
        "atera_raw._dlt_pipeline_state",
        "atera_raw._dlt_loads",
        "atera_raw._dlt_version",
        "atera_meta.sync_runs",
    ):
        assert name in tables
    with duckdb.connect(str(migrated.source), read_only=True) as con:
        con.execute("set TimeZone = 'UTC'")
        for table, columns in tables.items():
            names = ", ".join(f'"{c}"' for c, _ in columns)
            kinds = [k for _, k in columns]
            expected = _sorted_rows(con.execute(f"select {names} from {table}").fetchall(), kinds)
            actual = _sorted_rows(_pg(migrated.dsn, f"select {names} from {table}"), kinds)
            assert actual == expected, f"{table} differs after the migration"
        snapshots = con.execute(
            "select count(distinct observed_at) from atera_raw.ticket_status_snapshots"
        ).fetchone()[0]
    assert snapshots == 3  # one observation per sync of the file
    assert "rows in" in migrated.result.output
    # point-in-time marts are not copied (no marts are): the output says how to rebuild them
    assert ("atera_meta.point_in_time_builds",) not in _pg(
        migrated.dsn,
        "select table_schema || '.' || table_name from information_schema.tables "
        "where table_schema = 'atera_meta'",
    )
    assert (
        "atera-sync models --as-of 2026-09-30T00:00:00+00:00 --schema analytics_q3 "
        "--destination postgres" in migrated.result.output
    )
    # the models were built on the server at the end of the migration
    built = _pg(migrated.dsn, "select sum(tickets) from analytics.sla_first_response_by_priority")
    assert built[0][0] and built[0][0] > 0


def test_a_warehouse_with_data_is_refused_and_duckdb_is_no_destination(
    migrated: Migrated, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DESTINATION__POSTGRES__CREDENTIALS", migrated.dsn)
    runs = _pg(migrated.dsn, "select count(*) from atera_meta.sync_runs")
    again = _migrate("--from-duckdb", str(migrated.source), "--destination", "postgres")
    assert again.exit_code == 2
    assert "already holds a warehouse" in again.output
    assert "--replace" in again.output
    assert _pg(migrated.dsn, "select count(*) from atera_meta.sync_runs") == runs
    warehouse = ServerWarehouse("postgres", state_root=migrated.state_path.parent)
    with ServerRunLock(warehouse.credentials, warehouse.label):
        locked = _migrate("--from-duckdb", str(migrated.source), "--destination", "postgres")
    assert locked.exit_code == 3
    assert "already writing" in locked.output
    to_file = _migrate("--from-duckdb", str(migrated.source), "--destination", "duckdb")
    assert to_file.exit_code == 2
    assert "--destination postgres" in to_file.output
    missing = _migrate(
        "--from-duckdb", str(migrated.source.with_name("nope.duckdb")), "--destination", "postgres"
    )
    assert missing.exit_code == 2
    assert "does not exist" in missing.output
    other = migrated.state_path.with_name("other.duckdb")
    duckdb.connect(str(other)).close()
    not_ours = _migrate("--from-duckdb", str(other), "--destination", "postgres")
    assert not_ours.exit_code == 2
    assert "is not an atera-sync warehouse" in not_ours.output


def _pg_rows(dsn: str, table: str) -> list[dict[str, Any]]:
    with psycopg2.connect(dsn) as con, con.cursor() as cursor:
        cursor.execute(f"select * from atera_raw.{table}")
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def _assert_matches(dsn: str, table: str, records: list[dict], key_field: str) -> None:
    key = snake(key_field)
    expected = {row[key]: row for row in expected_rows(records)}
    rows = _pg_rows(dsn, table)
    keys = [row[key] for row in rows]
    assert len(keys) == len(set(keys)), f"duplicate {key} in atera_raw.{table}"
    actual = {row[key]: row for row in rows}
    assert set(actual) == set(expected), f"atera_raw.{table}: other keys than the sandbox's"
    for k, row in expected.items():
        assert {c: actual[k].get(c) for c in row} == row, f"atera_raw.{table} row {k} differs"


def test_the_next_run_on_the_server_is_incremental_and_keeps_the_history(
    migrated: Migrated, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DESTINATION__POSTGRES__CREDENTIALS", migrated.dsn)
    sandbox = migrated.sandbox
    history_before = set(
        _pg(migrated.dsn, "select ticket_id, observed_at from atera_raw.ticket_status_snapshots")
    )
    sandbox.advance(3600)
    touched = change_data(sandbox, 2)
    sandbox.advance(3600)
    sandbox.reset_request_log()

    result = run_sync(config_for(sandbox), migrated.state_path, destination="postgres")

    assert result.report.mode == "incremental"
    changed = modified_after(sandbox, result.report.modified_after)
    assert touched <= changed
    assert result.report.tickets_listed == len(changed)
    assert result.api_calls == sandbox.request_count()
    assert result.api_calls < migrated.full_sync_calls / 4
    snapshot = sandbox.snapshot()
    _assert_matches(migrated.dsn, "tickets", snapshot["tickets"], "TicketID")
    _assert_matches(migrated.dsn, "comments", expected_comments(sandbox), "CommentKey")
    _assert_matches(migrated.dsn, "work_hours", snapshot["work_hours"], "WorkHourID")
    history_after = _pg(
        migrated.dsn, "select ticket_id, observed_at from atera_raw.ticket_status_snapshots"
    )
    assert len(history_after) == len(set(history_after))  # merged on the key, no duplicates
    assert history_before < set(history_after)  # the file's history is kept, this run's added
    modes = _pg(migrated.dsn, "select mode from atera_meta.sync_runs order by started_at")
    assert [m for (m,) in modes] == ["full", "incremental", "incremental", "incremental"]


def test_replace_puts_the_files_data_back_in_one_copy(
    migrated: Migrated, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DESTINATION__POSTGRES__CREDENTIALS", migrated.dsn)
    warehouse = ServerWarehouse("postgres", state_root=migrated.state_path.parent)
    result = migrate_duckdb(migrated.source, warehouse, replace=True)
    with duckdb.connect(str(migrated.source), read_only=True) as con:
        tickets = con.execute("select count(*) from atera_raw.tickets").fetchone()[0]
        runs = con.execute("select count(*) from atera_meta.sync_runs").fetchone()[0]
    assert result.rows["atera_raw.tickets"] == tickets
    assert _pg(migrated.dsn, "select count(*) from atera_raw.tickets") == [(tickets,)]
    assert _pg(migrated.dsn, "select count(*) from atera_meta.sync_runs") == [(runs,)]
    # the watermark is the file's again: dlt's state on the server is the file's only
    states = _pg(migrated.dsn, "select count(*) from atera_raw._dlt_pipeline_state")
    with duckdb.connect(str(migrated.source), read_only=True) as con:
        assert (
            states == con.execute("select count(*) from atera_raw._dlt_pipeline_state").fetchall()
        )


def test_a_copy_that_fails_halfway_leaves_no_row_and_can_be_run_again(
    migrated: Migrated, postgres_server: PostgresServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    dsn = postgres_server.dsn(postgres_server.create_database())
    monkeypatch.setenv("DESTINATION__POSTGRES__CREDENTIALS", dsn)
    warehouse = ServerWarehouse("postgres", state_root=migrated.state_path.parent / "again")
    copied: list[str] = []

    def copy_then_fail(con: Any, cursor: Any, table: Any) -> int:
        if table.name == "tickets":  # after the history, dlt's state and most raw tables
            raise OSError("connection reset by peer")
        copied.append(table.name)
        return migrate_copy.copy_table(con, cursor, table)

    monkeypatch.setattr("pipelines.migrate.copy_table", copy_then_fail)
    with pytest.raises(MigrationError, match="rolled back.*connection reset"):
        migrate_duckdb(migrated.source, warehouse)
    assert {"sync_runs", "_dlt_pipeline_state", "ticket_status_snapshots"} <= set(copied)
    # dlt's empty tables stay; not one row, and nothing the transaction created
    for table in ("atera_raw._dlt_pipeline_state", "atera_raw._dlt_loads", "atera_raw.comments"):
        assert _pg(dsn, f"select count(*) from {table}") == [(0,)]
    meta = "select count(*) from information_schema.tables where table_schema = 'atera_meta'"
    assert _pg(dsn, meta) == [(0,)]

    monkeypatch.undo()
    monkeypatch.setenv("DESTINATION__POSTGRES__CREDENTIALS", dsn)
    result = migrate_duckdb(migrated.source, warehouse)  # no --replace needed: no row landed
    landed = _pg(dsn, "select count(*) from atera_raw.tickets")
    assert landed == [(result.rows["atera_raw.tickets"],)]
    assert landed[0][0] > TICKETS
