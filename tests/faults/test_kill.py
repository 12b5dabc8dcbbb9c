"""Killed mid-run (SIGKILL in extract, normalize or load): the next run completes,
and the warehouse then equals what one clean run gives."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

import pytest

from pipelines.sandbox import AteraSandbox
from pipelines.sync import run_sync
from tests.conftest import TEST_API_KEY, config_for
from tests.test_sync_e2e import assert_warehouse_equals_sandbox
from tests.warehouse import state_of

REPO = Path(__file__).resolve().parents[2]


def sync_in_child(
    sandbox: AteraSandbox,
    duckdb_path: Path,
    kill_at: str,
    chunk_pages: int = 20,
    destination: str = "duckdb",
):
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "tests.faults.child_sync",
            sandbox.api_url,
            TEST_API_KEY,
            str(duckdb_path),
            kill_at,
            str(chunk_pages),
            destination,
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize("kill_at", ["extract:40", "normalize:1", "load:1"])
def test_a_killed_first_sync_is_completed_by_the_next_run(
    sandbox: AteraSandbox, tmp_path: Path, kill_at: str
):
    duckdb_path = tmp_path / "atera.duckdb"
    killed = sync_in_child(sandbox, duckdb_path, kill_at)
    assert killed.returncode == -signal.SIGKILL, killed.stderr[-2000:]
    assert not duckdb_path.exists(), "nothing is published by a run that did not finish"

    run_sync(config_for(sandbox), duckdb_path)
    assert_warehouse_equals_sandbox(duckdb_path, sandbox)


@pytest.mark.parametrize("kill_at", ["extract:3", "normalize:1", "load:1"])
def test_a_killed_incremental_sync_leaves_the_published_copy_and_recovers(
    sandbox: AteraSandbox, tmp_path: Path, kill_at: str
):
    from tests.test_sync_e2e import change_data_through_the_api
    from tests.warehouse import table_fingerprint

    duckdb_path = tmp_path / "atera.duckdb"
    run_sync(config_for(sandbox), duckdb_path)
    published = table_fingerprint(duckdb_path)
    change_data_through_the_api(sandbox)
    sandbox.advance(3600)

    killed = sync_in_child(sandbox, duckdb_path, kill_at)
    assert killed.returncode == -signal.SIGKILL, killed.stderr[-2000:]
    assert table_fingerprint(duckdb_path) == published

    run_sync(config_for(sandbox), duckdb_path)
    assert_warehouse_equals_sandbox(duckdb_path, sandbox)


def test_a_long_full_sync_resumes_from_its_last_chunk(tmp_path: Path):
    duckdb_path = tmp_path / "atera.duckdb"
    with AteraSandbox(api_key=TEST_API_KEY, tickets=250, seed=4, rate_limit=None) as sandbox:
        # one page (50 tickets) per chunk; die while normalizing the third chunk
        killed = sync_in_child(sandbox, duckdb_path, "normalize:3", chunk_pages=1)
        assert killed.returncode == -signal.SIGKILL, killed.stderr[-2000:]

        sandbox.reset_request_log()
        resumed = run_sync(config_for(sandbox, full_sync_chunk_pages=1), duckdb_path)
        assert_warehouse_equals_sandbox(duckdb_path, sandbox)
        # pages 1 and 2 landed before the kill; page 3 was extracted, and its pending
        # package is loaded first: none of them is listed again
        listed = sorted(
            int(dict(kv.split("=") for kv in q.split("&"))["page"])
            for _, path, q, _ in sandbox.request_log
            if path == "/api/v3/tickets"
        )
        assert listed == [4, 5], listed
        assert resumed.report.mode == "full"
        assert resumed.chunks == 2
        state = state_of(duckdb_path)
        assert "full_sync" not in state
        assert state["watermark"]
