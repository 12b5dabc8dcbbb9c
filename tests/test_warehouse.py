"""The warehouse's files: working copy, atomic publish, and run history, on real DuckDB files.

Readers are real too: a reader "in another process" is a Python subprocess
holding a read-only DuckDB connection, which is what an analyst's notebook or a
BI tool does, and which takes DuckDB's file lock.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pytest

from pipelines import warehouse as warehouse_module
from pipelines.storage_version import format_tag
from pipelines.warehouse import Warehouse, history_row, new_run_id

STARTED = datetime(2024, 3, 1, 2, 15, tzinfo=UTC)

# Answers each SQL line from stdin with one JSON line, from the connection it
# opened at start: the snapshot a long-lived reader sees.
READER_SCRIPT = """
import duckdb, json, sys
con = duckdb.connect(sys.argv[1], read_only=True)
print("ready", flush=True)
for sql in sys.stdin:
    try:
        answer = con.execute(sql).fetchall()
    except Exception as exc:
        answer = f"error: {exc}"
    print(json.dumps(answer, default=str), flush=True)
"""

# Commits one statement and dies before DuckDB can checkpoint: the committed
# change is left in the write-ahead log beside the file, as after a power cut.
CRASH_SCRIPT = """
import duckdb, os, sys
con = duckdb.connect(sys.argv[1])
con.execute(sys.argv[2])
os.kill(os.getpid(), 9)
"""


class Reader:
    """A read-only DuckDB connection held open by another process."""

    def __init__(self, path: Path) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-c", READER_SCRIPT, str(path)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self._line() == "ready"

    def _line(self) -> str:
        assert self.process.stdout is not None
        return self.process.stdout.readline().strip()

    def query(self, sql: str) -> Any:
        """The reader's answer to `sql` (a list of rows, or an "error: ..." string)."""
        assert self.process.stdin is not None
        self.process.stdin.write(sql.replace("\n", " ") + "\n")
        self.process.stdin.flush()
        return json.loads(self._line())

    def close(self) -> None:
        """Stop the reader, which releases its file lock."""
        if self.process.stdin is not None:
            self.process.stdin.close()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


@contextmanager
def reader_in_another_process(path: Path) -> Iterator[Reader]:
    """A reader holding `path` open in a separate process for the duration."""
    reader = Reader(path)
    try:
        yield reader
    finally:
        reader.close()


def make_database(path: Path, tickets: int) -> None:
    """A DuckDB file with `tickets` rows in atera_raw.tickets."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with duckdb.connect(str(path)) as con:
        con.execute("create schema if not exists atera_raw")
        con.execute(
            f"create or replace table atera_raw.tickets as "
            f"select range as ticket_id from range({tickets:d})"
        )


def ticket_count(path: Path) -> int:
    with duckdb.connect(str(path), read_only=True) as con:
        result = con.execute("select count(*) from atera_raw.tickets").fetchone()
        assert result is not None
        return int(result[0])


def history(path: Path) -> dict[str, dict[str, Any]]:
    """The sync_runs rows of a file by run_id ({} when the table does not exist)."""
    with duckdb.connect(str(path), read_only=True) as con:
        con.execute("set TimeZone = 'UTC'")
        exists = con.execute(
            "select count(*) from information_schema.tables "
            "where table_schema = 'atera_meta' and table_name = 'sync_runs'"
        ).fetchone()
        if not exists or not exists[0]:
            return {}
        cursor = con.execute("select * from atera_meta.sync_runs")
        names = [d[0] for d in cursor.description]
        return {row[0]: dict(zip(names, row, strict=True)) for row in cursor.fetchall()}


def run_row(run_id: str | None = None, status: str = "failed", **changes: Any) -> dict[str, Any]:
    """A sync_runs row as sync.py builds it."""
    fields: dict[str, Any] = {
        "run_id": run_id or new_run_id(),
        "started_at": STARTED,
        "finished_at": STARTED + timedelta(seconds=42),
        "status": status,
        "mode": "incremental",
        "api_calls": 17,
        "retries": 2,
        "rows": {"tickets": 3, "comments": 5},
        "watermark_before": STARTED - timedelta(days=1),
        "watermark_after": None,
        "server_time": STARTED,
        "missing_ticket_ids": [9, 4],
        "problems": ["ticket 4: 404"],
        "error": "the API timed out" if status == "failed" else None,
    }
    fields.update(changes)
    return history_row(**fields)


def leftovers(folder: Path) -> list[str]:
    """Staged copies and write-ahead logs that a finished step must not leave behind."""
    return sorted(p.name for p in folder.iterdir() if p.name.endswith((".tmp", ".wal")))


def leave_in_write_ahead_log(path: Path, sql: str) -> None:
    """Commit `sql` to `path` in a process that is killed before it checkpoints."""
    subprocess.run([sys.executable, "-c", CRASH_SCRIPT, str(path), sql], check=False)
    assert Path(f"{path}.wal").exists(), "the crash left no write-ahead log to test with"


@pytest.fixture
def warehouse(tmp_path: Path) -> Warehouse:
    """A warehouse whose published file has 3 tickets and whose working copy has 5:
    the working copy holds a run's data that has not been published."""
    wh = Warehouse.at(tmp_path / "data" / "atera.duckdb")
    make_database(wh.published, tickets=3)
    make_database(wh.work, tickets=5)
    return wh


# --- paths -------------------------------------------------------------------------------


def test_paths_are_derived_from_the_published_path(tmp_path: Path) -> None:
    wh = Warehouse.at(tmp_path / "data" / "atera.duckdb")
    assert wh.published == tmp_path / "data" / "atera.duckdb"
    assert wh.work == tmp_path / "data" / ".atera.work.duckdb"
    assert wh.pipelines_dir == tmp_path / "data" / ".atera.dlt"
    assert wh.lock_file == tmp_path / "data" / "atera.duckdb.lock"


def test_a_relative_or_home_path_is_made_absolute(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert Warehouse.at("data/atera.duckdb").published == tmp_path / "data" / "atera.duckdb"
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert Warehouse.at("~/w.duckdb").work == tmp_path / "home" / ".w.work.duckdb"


# --- prepare -----------------------------------------------------------------------------


def test_prepare_creates_a_new_warehouse_s_folder_and_working_copy_in_the_readable_format(
    tmp_path: Path,
) -> None:
    wh = Warehouse.at(tmp_path / "new" / "atera.duckdb")
    wh.prepare()
    assert wh.published.parent.is_dir()
    assert not wh.published.exists()
    # every publish copies the working copy, so its storage format is the published one's
    assert format_tag(wh.work) == "v1.0.0+"


def test_prepare_restores_a_missing_working_copy_from_the_published_file(tmp_path: Path) -> None:
    wh = Warehouse.at(tmp_path / "atera.duckdb")
    make_database(wh.published, tickets=3)
    wh.prepare()
    assert ticket_count(wh.work) == 3


def test_prepare_keeps_an_existing_working_copy(warehouse: Warehouse) -> None:
    warehouse.prepare()
    assert ticket_count(warehouse.work) == 5


def test_prepare_copies_a_write_ahead_log_with_the_published_file(tmp_path: Path) -> None:
    wh = Warehouse.at(tmp_path / "atera.duckdb")
    make_database(wh.published, tickets=3)
    leave_in_write_ahead_log(wh.published, "insert into atera_raw.tickets values (100)")
    wh.prepare()
    assert ticket_count(wh.work) == 4


def test_prepare_drops_a_stray_log_of_a_lost_working_copy(tmp_path: Path) -> None:
    wh = Warehouse.at(tmp_path / "atera.duckdb")
    make_database(wh.published, tickets=3)
    make_database(wh.work, tickets=5)
    leave_in_write_ahead_log(wh.work, "insert into atera_raw.tickets values (100)")
    wh.work.unlink()  # "losing the working copy loses nothing"
    wh.prepare()
    # beside the restored copy the old log would fail: "WAL does not match database file"
    assert ticket_count(wh.work) == 3


# --- publish -----------------------------------------------------------------------------


def test_publish_replaces_the_published_file_by_a_rename(warehouse: Warehouse) -> None:
    before = os.stat(warehouse.published).st_ino
    warehouse.publish()
    assert os.stat(warehouse.published).st_ino != before  # a new file, not rewritten in place
    assert ticket_count(warehouse.published) == 5
    assert ticket_count(warehouse.work) == 5  # the working copy stays for the next run
    assert leftovers(warehouse.published.parent) == []


def test_publish_leaves_a_reader_in_another_process_on_its_snapshot(warehouse: Warehouse) -> None:
    with reader_in_another_process(warehouse.published) as reader:
        assert reader.query("select count(*) from atera_raw.tickets") == [[3]]
        warehouse.publish()  # does not fail although the reader holds the file
        assert reader.query("select count(*) from atera_raw.tickets") == [[3]]
    with reader_in_another_process(warehouse.published) as reconnected:
        assert reconnected.query("select count(*) from atera_raw.tickets") == [[5]]


def test_publish_leaves_a_reader_in_this_process_on_its_snapshot(warehouse: Warehouse) -> None:
    con = duckdb.connect(str(warehouse.published), read_only=True)
    try:
        warehouse.publish()
        assert con.execute("select count(*) from atera_raw.tickets").fetchall() == [(3,)]
    finally:
        con.close()
    # (while `con` is open, DuckDB would hand a new connection in this process the
    # same, old database instance: this process sees the new data once it is closed)
    assert ticket_count(warehouse.published) == 5


def test_publish_drops_a_log_that_belongs_to_the_replaced_file(warehouse: Warehouse) -> None:
    leave_in_write_ahead_log(warehouse.published, "insert into atera_raw.tickets values (100)")
    warehouse.publish()
    assert ticket_count(warehouse.published) == 5
    assert leftovers(warehouse.published.parent) == []


# --- record_run: a run whose data landed -------------------------------------------------


def test_a_successful_run_is_recorded_in_the_working_copy_and_published_with_it(
    warehouse: Warehouse,
) -> None:
    row = run_row(status="success")
    inode = os.stat(warehouse.published).st_ino
    warehouse.record_run(row, publish_row_only=False)
    assert set(history(warehouse.work)) == {row["run_id"]}
    assert history(warehouse.published) == {}  # the publish that follows brings it
    assert os.stat(warehouse.published).st_ino == inode
    warehouse.publish()
    assert set(history(warehouse.published)) == {row["run_id"]}
    assert ticket_count(warehouse.published) == 5


def test_the_first_run_of_a_new_warehouse_is_recorded_in_the_working_copy(tmp_path: Path) -> None:
    wh = Warehouse.at(tmp_path / "atera.duckdb")
    wh.prepare()
    row = run_row()
    wh.record_run(row, publish_row_only=True)
    assert set(history(wh.work)) == {row["run_id"]}
    assert not wh.published.exists()  # a failed first run publishes nothing


# --- record_run: a run whose data did not land -------------------------------------------


def test_a_failed_run_is_written_into_the_published_file_in_place(
    warehouse: Warehouse, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="atera_sync.warehouse")
    inode = os.stat(warehouse.published).st_ino

    def no_copies(*args: object, **kwargs: object) -> None:
        raise AssertionError("the published file was copied")

    monkeypatch.setattr(warehouse_module.shutil, "copyfile", no_copies)
    row = run_row()
    warehouse.record_run(row, publish_row_only=True)

    assert os.stat(warehouse.published).st_ino == inode
    assert set(history(warehouse.published)) == {row["run_id"]}
    assert set(history(warehouse.work)) == {row["run_id"]}
    assert ticket_count(warehouse.published) == 3  # the working copy's data is not published
    assert ticket_count(warehouse.work) == 5
    assert leftovers(warehouse.published.parent) == []  # checkpointed: no log beside it
    assert caplog.records == []


def test_a_failed_run_with_a_reader_in_another_process_goes_through_a_staged_copy(
    warehouse: Warehouse, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="atera_sync.warehouse")
    inode = os.stat(warehouse.published).st_ino
    row = run_row()
    with reader_in_another_process(warehouse.published) as reader:
        warehouse.record_run(row, publish_row_only=True)  # does not fail
        # the reader keeps its snapshot and can go on querying it
        assert reader.query("select count(*) from atera_raw.tickets") == [[3]]
        assert reader.query(
            "select count(*) from information_schema.schemata where schema_name = 'atera_meta'"
        ) == [[0]]

    assert os.stat(warehouse.published).st_ino != inode  # renamed over, not written in place
    assert set(history(warehouse.published)) == {row["run_id"]}
    assert ticket_count(warehouse.published) == 3
    assert leftovers(warehouse.published.parent) == []
    [record] = caplog.records
    assert "staged copy" in record.getMessage()
    assert "lock" in record.getMessage()  # DuckDB's reason: "Could not set lock on file"


def test_a_failed_run_with_a_reader_in_this_process_goes_through_a_staged_copy(
    warehouse: Warehouse, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="atera_sync.warehouse")
    row = run_row()
    con = duckdb.connect(str(warehouse.published), read_only=True)
    try:
        warehouse.record_run(row, publish_row_only=True)
        assert con.execute("select count(*) from atera_raw.tickets").fetchall() == [(3,)]
    finally:
        con.close()
    assert set(history(warehouse.published)) == {row["run_id"]}
    assert len(caplog.records) == 1


def test_a_failed_run_after_a_publish_reaches_the_new_file_not_an_old_instance(
    warehouse: Warehouse,
) -> None:
    """A connection in this process opened before a publish holds the replaced file;
    DuckDB would share that instance with a plain connect, and the row would be lost."""
    stale = duckdb.connect(str(warehouse.published))
    try:
        warehouse.publish()
        row = run_row()
        warehouse.record_run(row, publish_row_only=True)
    finally:
        stale.close()
    assert set(history(warehouse.published)) == {row["run_id"]}
    assert ticket_count(warehouse.published) == 5


def test_a_failed_run_without_a_working_copy_is_recorded_in_the_published_file_only(
    warehouse: Warehouse,
) -> None:
    warehouse.work.unlink()
    row = run_row()
    warehouse.record_run(row, publish_row_only=True)
    assert set(history(warehouse.published)) == {row["run_id"]}
    assert not warehouse.work.exists()


def test_a_row_that_cannot_be_written_leaves_the_published_file_untouched(
    warehouse: Warehouse,
) -> None:
    warehouse.work.unlink()  # so that the published file is the first one written
    inode = os.stat(warehouse.published).st_ino
    with pytest.raises(duckdb.ConstraintException):
        warehouse.record_run(run_row(started_at=None), publish_row_only=True)
    # one transaction: not even the schema that the same write created is there
    with duckdb.connect(str(warehouse.published), read_only=True) as con:
        schemas = con.execute("select schema_name from information_schema.schemata").fetchall()
    assert ("atera_meta",) not in schemas
    assert os.stat(warehouse.published).st_ino == inode
    assert leftovers(warehouse.published.parent) == []


def test_a_failed_staged_write_leaves_no_copy_behind(warehouse: Warehouse) -> None:
    warehouse.work.unlink()
    inode = os.stat(warehouse.published).st_ino
    with reader_in_another_process(warehouse.published), pytest.raises(duckdb.ConstraintException):
        warehouse.record_run(run_row(started_at=None), publish_row_only=True)
    assert os.stat(warehouse.published).st_ino == inode
    assert leftovers(warehouse.published.parent) == []


def test_a_row_left_in_the_log_by_an_interrupted_write_is_kept(warehouse: Warehouse) -> None:
    first = run_row()
    warehouse.record_run(first, publish_row_only=True)
    leave_in_write_ahead_log(
        warehouse.published, "update atera_meta.sync_runs set error = 'interrupted'"
    )
    second = run_row()
    warehouse.record_run(second, publish_row_only=True)
    runs = history(warehouse.published)
    assert set(runs) == {first["run_id"], second["run_id"]}
    assert runs[first["run_id"]]["error"] == "interrupted"
    assert leftovers(warehouse.published.parent) == []


def test_a_row_left_in_the_log_is_kept_by_the_staged_copy_too(warehouse: Warehouse) -> None:
    leave_in_write_ahead_log(warehouse.published, "insert into atera_raw.tickets values (100)")
    row = run_row()
    with reader_in_another_process(warehouse.published) as reader:
        assert reader.query("select count(*) from atera_raw.tickets") == [[4]]
        warehouse.record_run(row, publish_row_only=True)
    assert set(history(warehouse.published)) == {row["run_id"]}
    assert ticket_count(warehouse.published) == 4
    assert leftovers(warehouse.published.parent) == []


@pytest.mark.parametrize("publish_row_only", [True, False])
def test_recording_a_run_again_replaces_its_row(
    warehouse: Warehouse, publish_row_only: bool
) -> None:
    run_id = new_run_id()
    warehouse.record_run(run_row(run_id, error="first"), publish_row_only=publish_row_only)
    warehouse.record_run(run_row(run_id, error="second"), publish_row_only=publish_row_only)
    for path in (warehouse.work, warehouse.published) if publish_row_only else (warehouse.work,):
        runs = history(path)
        assert list(runs) == [run_id]
        assert runs[run_id]["error"] == "second"


# --- history_row -------------------------------------------------------------------------


def test_history_row_sums_rows_and_encodes_the_json_columns() -> None:
    row = run_row(
        "r1",
        rows={"tickets": 3, "comments": 5, "billable_durations": 2},
        missing_ticket_ids=[9, 4, 7],
        problems=[f"problem {i}" for i in range(1500)],
    )
    assert row["rows_loaded"] == 10
    assert row["rows_per_table"] == '{"billable_durations": 2, "comments": 5, "tickets": 3}'
    assert json.loads(row["missing_ticket_ids"]) == [4, 7, 9]
    problems = json.loads(row["problems"])
    assert len(problems) == 1000
    assert problems[0] == "problem 0"
    assert run_row(rows={})["rows_loaded"] == 0


def test_history_row_round_trips_through_the_table(tmp_path: Path) -> None:
    wh = Warehouse.at(tmp_path / "atera.duckdb")
    row = run_row("r1", status="success", watermark_after=STARTED - timedelta(minutes=10))
    wh.record_run(row, publish_row_only=False)
    stored = history(wh.work)["r1"]
    assert stored["started_at"] == STARTED
    assert stored["finished_at"] == STARTED + timedelta(seconds=42)
    assert stored["watermark_after"] == STARTED - timedelta(minutes=10)
    assert (stored["status"], stored["mode"], stored["api_calls"], stored["retries"]) == (
        "success",
        "incremental",
        17,
        2,
    )
    assert stored["rows_loaded"] == 8
    assert stored["error"] is None
    with duckdb.connect(str(wh.work), read_only=True) as con:
        figures = con.execute(
            "select rows_per_table->>'comments', missing_ticket_ids->>0, problems->>0 "
            "from atera_meta.sync_runs"
        ).fetchall()
    assert figures == [("5", "4", "ticket 4: 404")]


def test_run_ids_are_unique() -> None:
    ids = {new_run_id() for _ in range(1000)}
    assert len(ids) == 1000
    assert all(len(i) == 32 for i in ids)
