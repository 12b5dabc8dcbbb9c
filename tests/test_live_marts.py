"""A connection kept open across runs reads the new marts, and never a mix of two runs.

The reader is a real one: another process holding one read-only connection to
the published file, as a BI server's pool does, querying in a loop while the
next run publishes. Each answer combines two marts and the run view; a mix of
two runs would show as a ticket count that disagrees with the per-priority sum
or with the run it claims.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from pipelines.live_marts import KEEP_PREVIOUS_RUNS, MartRuns
from pipelines.sandbox import AteraSandbox
from pipelines.sync import run_sync
from pipelines.warehouse import Warehouse
from tests.bi_warehouse import sync_with_models
from tests.conftest import TEST_API_KEY, config_for

CONSISTENCY = (
    "select (select run_id from atera_meta.marts_run), "
    "(select count(*) from analytics.fct_ticket_first_response_sla), "
    "(select sum(tickets) from analytics.sla_first_response_by_priority)"
)

# One connection for its whole life; queries until the stop file appears, then prints
# every distinct answer with how often it came, and the number of queries.
LOOPING_READER = """
import duckdb, json, os, sys, collections
con = duckdb.connect(sys.argv[1], read_only=True)
seen = collections.Counter()
errors = collections.Counter()
print("ready", flush=True)
while not os.path.exists(sys.argv[3]):
    try:
        seen[json.dumps(con.execute(sys.argv[2]).fetchone())] += 1
    except Exception as exc:
        errors[str(exc).splitlines()[0]] += 1
print(json.dumps({"seen": seen, "errors": errors}))
"""


def add_tickets(sandbox: AteraSandbox, count: int) -> None:
    user = sandbox.snapshot()["tickets"][0]["EndUserID"]
    for number in range(count):
        sandbox.store.create_ticket(
            {"TicketTitle": f"printer {number}", "TicketPriority": "High", "EndUserID": user}
        )
    sandbox.advance(600)


@pytest.fixture
def small_sandbox() -> Iterator[AteraSandbox]:
    with AteraSandbox(api_key=TEST_API_KEY, tickets=30, seed=3, rate_limit=None) as server:
        yield server


def current_run(path: Path) -> str:
    """The id of the run whose marts the pointer leads to."""
    current = MartRuns(Warehouse.at(path).marts_dir).active_run()
    assert current is not None
    return current.name


def test_a_connection_kept_open_reads_the_next_run_and_never_a_mix(
    small_sandbox: AteraSandbox, tmp_path: Path
) -> None:
    path = tmp_path / "data" / "atera.duckdb"
    sync_with_models(small_sandbox, path)
    first = current_run(path)
    stop = tmp_path / "stop"
    reader = subprocess.Popen(
        [sys.executable, "-c", LOOPING_READER, str(path), CONSISTENCY, str(stop)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert reader.stdout is not None
        assert reader.stdout.readline().strip() == "ready"
        # and one in this process, where DuckDB shares its instance with later connections
        held = duckdb.connect(str(path), read_only=True)
        assert held.execute(CONSISTENCY).fetchone() == (first, 30, 30)

        add_tickets(small_sandbox, 3)
        sync_with_models(small_sandbox, path)
        second = current_run(path)
        time.sleep(0.5)  # the reader keeps querying after the publish
        assert held.execute(CONSISTENCY).fetchone() == (second, 33, 33)
        held.close()
    finally:
        stop.touch()
        out, err = reader.communicate(timeout=60)
    assert reader.returncode == 0, err
    report = json.loads(out.strip().splitlines()[-1])
    assert not report["errors"]
    assert sum(report["seen"].values()) > 10
    # before the publish the first run, after it the second: never anything else
    answers = {tuple(json.loads(answer)) for answer in report["seen"]}
    assert first != second
    assert answers == {(first, 30, 30), (second, 33, 33)}


def test_old_run_folders_are_pruned_and_the_pointer_is_one_link(
    small_sandbox: AteraSandbox, tmp_path: Path
) -> None:
    path = tmp_path / "data" / "atera.duckdb"
    warehouse = Warehouse.at(path)
    runs = MartRuns(warehouse.marts_dir)
    sync_with_models(small_sandbox, path)
    for _ in range(KEEP_PREVIOUS_RUNS + 1):
        warehouse.publish()  # what a run does after loading and building the models
    folders = sorted(p.name for p in runs.runs.iterdir())
    assert len(folders) == KEEP_PREVIOUS_RUNS + 1
    assert current_run(path) in folders
    marts = {p.stem for p in (runs.runs / current_run(path) / "analytics").glob("*.parquet")}
    assert "fct_ticket_first_response_sla" in marts


def test_a_lost_working_copy_gets_the_marts_back_as_tables_from_the_published_file(
    small_sandbox: AteraSandbox, tmp_path: Path
) -> None:
    path = tmp_path / "data" / "atera.duckdb"
    sync_with_models(small_sandbox, path)
    warehouse = Warehouse.at(path)
    warehouse.work.unlink()  # "losing the working copy loses nothing"

    run_sync(config_for(small_sandbox), path)  # a sync without the models

    with duckdb.connect(str(warehouse.work), read_only=True) as con:
        kinds = set(
            con.execute(
                "select table_type from information_schema.tables where table_schema = 'analytics'"
            ).fetchall()
        )
    assert kinds == {("BASE TABLE",)}
    with duckdb.connect(str(path), read_only=True) as con:
        assert con.execute(CONSISTENCY).fetchone() == (current_run(path), 30, 30)
