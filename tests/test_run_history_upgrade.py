"""The run history records which version of atera-sync wrote each row; a 0.1 warehouse
gets the column in place, with NULL in the rows that 0.1 wrote."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from pipelines import __version__
from pipelines.sandbox import AteraSandbox
from pipelines.status import parse_max_age, read_status
from pipelines.sync import SyncError, run_sync
from pipelines.warehouse import Warehouse
from tests.conftest import config_for
from tests.test_upgrade import FIXTURE_KEY, FIXTURE_NOW, FIXTURES, restore_fixture


def history(path: Path) -> dict[str, tuple[str, str | None]]:
    with duckdb.connect(str(path), read_only=True) as con:
        rows = con.execute("select run_id, status, code_version from atera_meta.sync_runs")
        return {run_id: (status, version) for run_id, status, version in rows.fetchall()}


def column_type(path: Path) -> str | None:
    with duckdb.connect(str(path), read_only=True) as con:
        row = con.execute(
            "select data_type from information_schema.columns where table_schema = "
            "'atera_meta' and table_name = 'sync_runs' and column_name = 'code_version'"
        ).fetchone()
    return None if row is None else str(row[0])


def test_a_0_1_warehouse_gets_code_version_in_place(tmp_path: Path) -> None:
    duckdb_path = tmp_path / "data" / "atera.duckdb"
    restore_fixture(FIXTURES / "warehouse_0_1_contract", duckdb_path)
    Warehouse.at(duckdb_path).prepare()
    assert column_type(duckdb_path) is None
    old_runs = set(history_without_version(duckdb_path))
    assert old_runs

    with AteraSandbox(
        api_key=FIXTURE_KEY, tickets=30, seed=5, now=FIXTURE_NOW, rate_limit=None
    ) as sandbox:
        sandbox.advance(3 * 3600)
        config = config_for(sandbox)
        # a failed run writes its row into the published file in place
        sandbox.inject_fault(r"/tickets", status=500, times=None)
        with pytest.raises(SyncError):
            run_sync(config, duckdb_path)
        sandbox.clear_faults()
        assert column_type(duckdb_path) == "VARCHAR"
        failed = {r for r, (status, _) in history(duckdb_path).items() if status == "failed"}
        assert failed - old_runs
        run_sync(config, duckdb_path)

    runs = history(duckdb_path)
    assert {r for r in old_runs} < set(runs)
    for run_id, (_, version) in runs.items():
        assert version == (None if run_id in old_runs else __version__), run_id
    new_statuses = sorted(status for r, (status, _) in runs.items() if r not in old_runs)
    assert new_statuses == ["failed", "success"]
    with duckdb.connect(str(duckdb_path), read_only=True) as con:
        status = read_status(con.cursor(), parse_max_age("26h"))
    assert status.last_success is not None
    assert status.last_success.code_version == __version__


def history_without_version(path: Path) -> list[str]:
    with duckdb.connect(str(path), read_only=True) as con:
        return [r for (r,) in con.execute("select run_id from atera_meta.sync_runs").fetchall()]
