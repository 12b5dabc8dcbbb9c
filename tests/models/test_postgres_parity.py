"""The models give the same figures on PostgreSQL as on DuckDB, mart for mart, row for row.

One sandbox world (its SLA-audit tickets, three syncs a day apart with the desk's
activity between them, so there are status changes, pauses and ticket versions) is
synced into a DuckDB file; its `atera_raw` is copied into a PostgreSQL database.
Each test builds the models on both engines with the same settings and `as_of` and
compares every mart: the same columns, the same rows (floats to a small tolerance,
instants in UTC). Three builds per engine cover the options: default settings;
business hours with pauses, scoped and resolution targets; Atera's own targets in a
point-in-time build.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pytest

from pipelines.models import BusinessHours, ModelSettings, run_models
from pipelines.models.settings import ScopedTargets
from pipelines.sandbox import AteraSandbox
from pipelines.sandbox.world_activity import simulate_activity
from pipelines.sync import run_sync
from tests.conftest import TEST_API_KEY, config_for
from tests.models.engines import (
    build_on_postgres,
    comparable,
    copy_schema,
    duckdb_rows,
    postgres_rows,
)
from tests.postgres_server import PostgresServer

DAY = 86_400
START = datetime(2026, 3, 3, 15, 0, tzinfo=UTC)
"""The sandbox's clock at the first sync: a Tuesday, 10:00 in New York (EST); the data spans
the change to daylight-saving time there (2026-03-08)."""


@dataclass
class World:
    con: duckdb.DuckDBPyConnection
    dsn: str
    state_root: Path
    as_of: datetime
    past: datetime
    customer_id: int
    contract_id: int


@pytest.fixture(scope="module")
def world(
    tmp_path_factory: pytest.TempPathFactory, postgres_server: PostgresServer
) -> Iterator[World]:
    folder = tmp_path_factory.mktemp("parity")
    path = folder / "atera.duckdb"
    with AteraSandbox(
        api_key=TEST_API_KEY,
        tickets=60,
        seed=11,
        now=START,
        rate_limit=None,
        api_shape="published",
        sla_audit_tickets=True,
    ) as sandbox:
        sandbox.clock_offset = START - datetime.now(UTC)  # the same hours of the day every run
        config = config_for(sandbox)
        run_sync(config, path)
        past = sandbox.now()
        waited = pending_then_answered(sandbox)
        run_sync(config, path)  # sees it Pending
        sandbox.advance(3600)
        sandbox.store.add_comment(waited, {"CommentText": "Back to you", "IsInternal": False})
        for day in range(2):
            before = sandbox.now()
            sandbox.advance(DAY)
            simulate_activity(sandbox.store, before, sandbox.now(), random.Random(day))
            run_sync(config, path)
        as_of = sandbox.now().replace(microsecond=0) + timedelta(hours=1)
    con = duckdb.connect(str(path))
    dsn = postgres_server.dsn(postgres_server.create_database("parity"))
    copy_schema(con, dsn)
    # the customer with the most tickets, and the busiest contract of another customer
    (customer_id,) = con.execute(
        "select customer_id from atera_raw.tickets group by 1 order by count(*) desc, 1 limit 1"
    ).fetchone()
    (contract_id,) = con.execute(
        "select contract_id from atera_raw.tickets where contract_id is not null "
        "and customer_id <> ? group by 1 order by count(*) desc, 1 limit 1",
        [customer_id],
    ).fetchone()
    yield World(con, dsn, folder, as_of, past, int(customer_id), int(contract_id))
    con.close()


def pending_then_answered(sandbox: AteraSandbox) -> int:
    """A High ticket that waits in Pending from +10 minutes on (answered later)."""
    customer = next(iter(sandbox.store.customers.values()))
    created = sandbox.store.create_ticket(
        {
            "TicketTitle": "waiting for the customer",
            "TicketPriority": "High",
            "EndUserID": customer.end_users[0].contact_id,
            "TechnicianContactID": min(sandbox.store.technicians),
        }
    )
    sandbox.advance(600)
    sandbox.store.update_ticket(created["TicketID"], {"TicketStatus": "Pending"})
    sandbox.advance(1200)
    return int(created["TicketID"])


def build_both(world: World, settings: ModelSettings, **arguments: Any) -> None:
    run_models(world.con, settings=settings, **arguments)
    build_on_postgres(world.dsn, world.state_root, settings=settings, **arguments)


def relations(world: World, schema: str) -> tuple[list[str], list[str]]:
    sql = (
        "select table_name from information_schema.tables "
        f"where table_schema = '{schema}' order by 1"
    )
    return (
        [row["table_name"] for row in duckdb_rows(world.con, sql)],
        [row["table_name"] for row in postgres_rows(world.dsn, sql)],
    )


_TYPE_NAMES = {
    "character varying": "VARCHAR",
    "text": "VARCHAR",
    "bigint": "BIGINT",
    "integer": "INTEGER",
    "double precision": "DOUBLE",
    "boolean": "BOOLEAN",
    "date": "DATE",
    "timestamp with time zone": "TIMESTAMP WITH TIME ZONE",
    "timestamp without time zone": "TIMESTAMP",
}
"""PostgreSQL's names of the column types, as DuckDB spells them."""


def column_types(world: World, schema: str, mart: str) -> tuple[list[tuple], list[tuple]]:
    sql = (
        "select column_name, data_type from information_schema.columns "
        f"where table_schema = '{schema}' and table_name = '{mart}' order by ordinal_position"
    )
    ours = [(row["column_name"], row["data_type"]) for row in duckdb_rows(world.con, sql)]
    theirs = [
        (row["column_name"], _TYPE_NAMES.get(row["data_type"], row["data_type"]))
        for row in postgres_rows(world.dsn, sql)
    ]
    return ours, theirs


def _sort_key(row: tuple[Any, ...]) -> tuple[Any, ...]:
    return tuple(
        (value is None, f"{value:.6f}" if isinstance(value, float) else str(value)) for value in row
    )


def _same(left: Any, right: Any) -> bool:
    if isinstance(left, float) and isinstance(right, float):
        return math.isclose(left, right, rel_tol=1e-9, abs_tol=1e-6)
    return bool(left == right)


def differences(world: World, schema: str, mart: str) -> list[str]:
    """What differs between the engines' `schema.mart` (empty when nothing)."""
    sql = f"select * from {schema}.{mart}"
    left, right = duckdb_rows(world.con, sql), postgres_rows(world.dsn, sql)
    if not left or not right:
        return [f"{mart}: rows {len(left)} on DuckDB, {len(right)} on PostgreSQL"] * (
            len(left) != len(right)
        )
    types = column_types(world, schema, mart)
    if types[0] != types[1]:
        return [f"{mart}: column types {types[0]} on DuckDB, {types[1]} on PostgreSQL"]
    if list(left[0]) != list(right[0]):
        return [f"{mart}: columns {list(left[0])} on DuckDB, {list(right[0])} on PostgreSQL"]
    ours = sorted((tuple(comparable(v) for v in row.values()) for row in left), key=_sort_key)
    theirs = sorted((tuple(comparable(v) for v in row.values()) for row in right), key=_sort_key)
    if len(ours) != len(theirs):
        return [f"{mart}: {len(ours)} rows on DuckDB, {len(theirs)} on PostgreSQL"]
    names = list(left[0])
    found = []
    for a, b in zip(ours, theirs, strict=True):
        columns = [n for n, x, y in zip(names, a, b, strict=True) if not _same(x, y)]
        if columns:
            found.append(f"{mart}: {columns}: {a} on DuckDB, {b} on PostgreSQL")
    return found[:5]


def assert_same_marts(world: World, schema: str = "analytics") -> list[str]:
    ours, theirs = relations(world, schema)
    assert ours == theirs
    assert len(ours) >= 20
    found = [line for mart in ours for line in differences(world, schema, mart)]
    assert not found, "\n".join(found)
    return ours


def test_default_settings_give_the_same_marts(world: World) -> None:
    build_both(world, ModelSettings(), as_of=world.as_of)
    marts = assert_same_marts(world)
    # the comparison has something to compare
    counts = duckdb_rows(
        world.con,
        "select sla_status, count(*) as n from analytics.fct_ticket_first_response_sla group by 1",
    )
    statuses = {row["sla_status"] for row in counts}
    assert {"met", "breached"} <= statuses
    assert "fct_ticket_status_transitions" in marts


def test_business_hours_pauses_and_scoped_targets_give_the_same_marts(world: World) -> None:
    hours = BusinessHours.from_config(
        {"monday": "08:00-12:00, 13:00-17:30", "saturday": "10:00-14:00"},
        holidays=[(world.past + timedelta(days=1)).date().isoformat()],
    )
    settings = ModelSettings(
        time_zone="America/New_York",
        business_hours=hours,
        pause_sla_when_pending=True,
        sla_targets={"High": 180, "Urgent": 20},
        resolution_targets={"Critical": 480, "High": 1440, "Medium": 2880},
        scoped_targets=(
            ScopedTargets(
                "customer", world.customer_id, first_response={"High": 30}, resolution={"Low": 90}
            ),
            ScopedTargets(
                "contract",
                world.contract_id,
                first_response={"Critical": 15, "High": 45, "Medium": 120, "Low": 600},
            ),
        ),
    )
    build_both(world, settings, as_of=world.as_of)
    assert_same_marts(world)
    paused = duckdb_rows(
        world.con,
        "select count(*) as n from analytics.fct_ticket_first_response_sla "
        "where paused_minutes > 0",
    )
    scoped = duckdb_rows(
        world.con,
        "select distinct target_source from analytics.fct_ticket_first_response_sla",
    )
    assert paused[0]["n"] > 0
    assert {"customer", "contract", "priority"} <= {row["target_source"] for row in scoped}


def test_atera_targets_in_a_point_in_time_build_give_the_same_marts(world: World) -> None:
    settings = ModelSettings(targets_source="atera")
    build_both(world, settings, as_of=world.past, point_in_time=True)
    assert_same_marts(world, "analytics_as_of")
    sources = duckdb_rows(
        world.con,
        "select distinct target_source from analytics_as_of.fct_ticket_first_response_sla",
    )
    assert "atera" in {row["target_source"] for row in sources}
