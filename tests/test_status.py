"""`atera-sync status`: fresh, failed, stale and missing, as a monitoring check sees them."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import pytest
from click.testing import CliRunner

from pipelines import cli
from pipelines.sandbox import AteraSandbox
from pipelines.status import parse_max_age, read_status
from pipelines.sync import SyncError, run_sync
from tests.conftest import config_for
from tests.warehouse import state_of


@pytest.fixture
def synced(sandbox: AteraSandbox, tmp_path: Path) -> Path:
    duckdb_path = tmp_path / "data" / "atera.duckdb"
    run_sync(config_for(sandbox), duckdb_path)
    return duckdb_path


def status(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli.main, ["status", *args])
    return result.exit_code, result.output


def fail_a_run(sandbox: AteraSandbox, duckdb_path: Path) -> None:
    sandbox.advance(3600)
    sandbox.inject_fault(r"/tickets", status=500, times=None)
    with pytest.raises(SyncError):
        run_sync(config_for(sandbox), duckdb_path)
    sandbox.clear_faults()


def test_fresh_then_failed_then_fresh_again(sandbox: AteraSandbox, synced: Path) -> None:
    code, output = status("--duckdb", str(synced))
    assert code == 0, output
    assert "status: fresh" in output
    assert "failures since: 0" in output
    watermark = state_of(synced)["watermark"]
    stamp = datetime.fromisoformat(watermark).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert f"watermark: {stamp}" in output

    fail_a_run(sandbox, synced)
    fail_a_run(sandbox, synced)
    code, output = status("--duckdb", str(synced), "--json")
    assert code == 4, output
    report = json.loads(output)
    assert report["status"] == "failed"
    assert report["failures_since_success"] == 2
    assert report["last_run"]["status"] == "failed"
    assert "HTTP 500" in report["last_run"]["error"]
    assert report["last_success"]["rows_loaded"] == report["rows_loaded"] > 0
    assert report["watermark"] == stamp  # the failures did not move it

    run_sync(config_for(sandbox), synced)
    code, output = status("--duckdb", str(synced), "--json")
    assert code == 0, output
    assert json.loads(output)["failures_since_success"] == 0


def test_stale_when_the_last_success_is_older_than_max_age(synced: Path) -> None:
    code, output = status("--duckdb", str(synced), "--max-age", "0.01s")
    assert code == 5, output
    assert "status: stale" in output
    with duckdb.connect(str(synced), read_only=True) as con:
        later = datetime.now(UTC) + timedelta(hours=27)
        assert read_status(con.cursor(), timedelta(hours=26), now=later).state == "stale"
        assert read_status(con.cursor(), timedelta(hours=28), now=later).state == "fresh"


def test_no_warehouse_or_no_run_yet(tmp_path: Path) -> None:
    code, output = status("--duckdb", str(tmp_path / "none.duckdb"), "--json")
    assert code == 6
    assert json.loads(output)["status"] == "missing"
    empty = tmp_path / "empty.duckdb"
    duckdb.connect(str(empty)).close()
    code, output = status("--duckdb", str(empty))
    assert code == 6
    assert "no run is recorded" in output


def test_a_bad_max_age_says_what_is_accepted(synced: Path) -> None:
    code, output = status("--duckdb", str(synced), "--max-age", "yesterday")
    assert code == 2
    assert "such as 26h" in output


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("26h", 93600), ("90m", 5400), ("2d", 172800), ("1h30m", 5400), ("3", 10800)],
)
def test_parse_max_age(text: str, seconds: int) -> None:
    assert parse_max_age(text).total_seconds() == seconds


def test_status_reads_beside_an_open_reader_in_another_process(synced: Path) -> None:
    with duckdb.connect(str(synced), read_only=True) as reader:
        assert reader.execute("select count(*) from atera_meta.sync_runs").fetchone() == (1,)
        completed = subprocess.run(
            [sys.executable, "-m", "pipelines.cli", "status", "--duckdb", str(synced), "--json"],
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert completed.returncode == 0, completed.stderr
    assert json.loads(completed.stdout)["status"] == "fresh"


def test_status_reads_the_names_the_sync_writes(synced: Path) -> None:
    from pipelines import status, status_cli, sync, warehouse

    assert status.HISTORY_TABLE == warehouse.HISTORY_TABLE
    assert status.PIPELINE_NAME == sync.PIPELINE_NAME
    defaults = {option.name: option.default for option in status_cli.status_command.params}
    assert defaults["duckdb_path"] == sync.DEFAULT_DUCKDB_PATH
    # the state as dlt itself restores it
    assert status.read_watermark is not None
    with duckdb.connect(str(synced), read_only=True) as con:
        watermark = status.read_watermark(con.cursor())
    assert watermark == datetime.fromisoformat(state_of(synced)["watermark"])
