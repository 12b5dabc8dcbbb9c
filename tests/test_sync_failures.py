"""A failed run leaves the previous warehouse and watermark intact; the next run recovers."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from filelock import FileLock

from pipelines.sandbox import AteraSandbox
from pipelines.sync import SyncAlreadyRunning, SyncError, run_sync
from tests.conftest import config_for
from tests.test_sync_e2e import assert_warehouse_equals_sandbox, change_data_through_the_api
from tests.warehouse import state_of, table_fingerprint


def test_api_failing_part_way_leaves_warehouse_and_watermark_intact(
    sandbox: AteraSandbox, tmp_path: Path
):
    duckdb_path = tmp_path / "atera.duckdb"
    config = config_for(sandbox)
    run_sync(config, duckdb_path)
    before_tables = table_fingerprint(duckdb_path)
    before_state = state_of(duckdb_path)

    change_data_through_the_api(sandbox)
    sandbox.advance(3600)
    # the listing works, then every work-hours call fails with 500
    sandbox.inject_fault(r"/workhours", status=500, times=None)
    with pytest.raises(SyncError) as failure:
        run_sync(config, duckdb_path)
    assert "HTTP 500" in str(failure.value)
    assert "watermark did not move" in str(failure.value)
    assert sandbox.request_count("/workhours") >= config.max_attempts

    assert table_fingerprint(duckdb_path) == before_tables
    assert state_of(duckdb_path) == before_state

    sandbox.clear_faults()
    recovered = run_sync(config, duckdb_path)
    assert recovered.report.mode == "incremental"
    assert_warehouse_equals_sandbox(duckdb_path, sandbox)


def test_wrong_key_fails_fast_without_retries(sandbox: AteraSandbox, tmp_path: Path):
    config = config_for(sandbox, api_key="not-the-key-0000")
    with pytest.raises(SyncError) as failure:
        run_sync(config, tmp_path / "atera.duckdb")
    message = str(failure.value)
    assert "401" in message
    assert "SOURCES__ATERA__API_KEY" in message
    assert "not-the-key-0000" not in message
    assert sandbox.request_count() == 1


def test_a_second_run_on_the_same_file_exits_at_once(sandbox: AteraSandbox, tmp_path: Path):
    duckdb_path = tmp_path / "atera.duckdb"
    holder = FileLock(str(duckdb_path) + ".lock")
    held = threading.Event()
    release = threading.Event()

    def hold() -> None:
        with holder:
            held.set()
            release.wait(10)

    thread = threading.Thread(target=hold)
    thread.start()
    held.wait(5)
    try:
        with pytest.raises(SyncAlreadyRunning, match="already writing"):
            run_sync(config_for(sandbox), duckdb_path)
        assert sandbox.request_count() == 0
    finally:
        release.set()
        thread.join()
    run_sync(config_for(sandbox), duckdb_path)
    assert_warehouse_equals_sandbox(duckdb_path, sandbox)
