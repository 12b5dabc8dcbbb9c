"""The published warehouse opens in DuckDB 1.1, the oldest version BI drivers bundle.

A warehouse is built with the sandbox by this DuckDB, then read by DuckDB 1.1.3
in an environment of its own (tests/old_duckdb.py): the marts, a column comment,
the raw tables and the run history.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from pipelines.atera.errors import ConfigurationError
from pipelines.sandbox import AteraSandbox
from pipelines.storage_version import (
    DEFAULT_STORAGE_VERSION,
    format_tag,
    format_tag_of_version,
    load_storage_version,
)
from pipelines.warehouse import Warehouse
from tests.bi_warehouse import sync_with_models
from tests.conftest import TEST_API_KEY
from tests.old_duckdb import run_old_duckdb

READ_WITH_OLD_DUCKDB = """
import duckdb, json, sys
con = duckdb.connect(sys.argv[1], read_only=True)
print(json.dumps({
    "version": duckdb.__version__,
    "by_priority": con.execute(
        "select ticket_priority, tickets from analytics.sla_first_response_by_priority "
        "order by priority_rank").fetchall(),
    "fct_rows": con.execute(
        "select count(*) from analytics.fct_ticket_first_response_sla").fetchone()[0],
    "comment": con.execute(
        "select comment from duckdb_columns() where schema_name = 'analytics' "
        "and table_name = 'fct_ticket_first_response_sla' and column_name = 'sla_status'"
    ).fetchone()[0],
    "tickets": con.execute("select count(*) from atera_raw.tickets").fetchone()[0],
    "runs": con.execute("select count(*) from atera_meta.sync_runs").fetchone()[0],
}, default=str))
"""


@pytest.fixture(scope="module")
def sandbox_module() -> Iterator[AteraSandbox]:
    with AteraSandbox(api_key=TEST_API_KEY, tickets=40, seed=11, rate_limit=None) as server:
        yield server


def by_priority(path: Path) -> list[list]:
    with duckdb.connect(str(path), read_only=True) as con:
        rows = con.execute(
            "select ticket_priority, tickets from analytics.sla_first_response_by_priority "
            "order by priority_rank"
        ).fetchall()
    return [list(row) for row in rows]


def test_duckdb_1_1_opens_the_published_warehouse(
    sandbox_module: AteraSandbox, tmp_path: Path
) -> None:
    path = tmp_path / "data" / "atera.duckdb"
    sync_with_models(sandbox_module, path)
    assert format_tag(path) == "v1.0.0+"

    seen = run_old_duckdb(READ_WITH_OLD_DUCKDB, str(path))

    assert seen["version"] == "1.1.3"
    assert seen["by_priority"] == by_priority(path)
    assert seen["fct_rows"] == 40
    assert seen["comment"] and "met" in seen["comment"]
    assert seen["tickets"] == 40
    assert seen["runs"] == 1


def test_a_warehouse_in_the_newest_format_is_moved_over_once_keeping_its_history(
    sandbox_module: AteraSandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "data" / "atera.duckdb"
    monkeypatch.setenv("WAREHOUSE__STORAGE_VERSION", "latest")
    sync_with_models(sandbox_module, path)
    assert format_tag(path) == format_tag_of_version("latest") != "v1.0.0+"
    with duckdb.connect(str(path), read_only=True) as con:
        snapshots = con.execute(
            "select * from atera_raw.ticket_status_snapshots order by all"
        ).fetchall()
        runs = con.execute("select run_id from atera_meta.sync_runs").fetchall()
        loads = con.execute("select load_id from atera_raw._dlt_loads").fetchall()

    monkeypatch.delenv("WAREHOUSE__STORAGE_VERSION")
    result = sync_with_models(sandbox_module, path)

    assert result.report.mode == "incremental"  # dlt's state (the watermark) came along
    assert format_tag(path) == format_tag(Warehouse.at(path).work) == "v1.0.0+"
    with duckdb.connect(str(path), read_only=True) as con:
        assert set(snapshots) <= set(
            con.execute("select * from atera_raw.ticket_status_snapshots").fetchall()
        )
        after = con.execute("select run_id from atera_meta.sync_runs").fetchall()
        # the history table kept its key: a run recorded again replaces its row
        keys = con.execute(
            "select constraint_type from duckdb_constraints() "
            "where table_name = 'sync_runs' and constraint_type = 'PRIMARY KEY'"
        ).fetchall()
    assert set(runs) < set(after) and len(after) == 2
    assert keys
    with duckdb.connect(str(path), read_only=True) as con:
        assert set(loads) < set(con.execute("select load_id from atera_raw._dlt_loads").fetchall())
    seen = run_old_duckdb(READ_WITH_OLD_DUCKDB, str(path))
    assert seen["runs"] == 2 and seen["by_priority"] == by_priority(path)


def test_the_storage_version_setting_is_checked(monkeypatch: pytest.MonkeyPatch) -> None:
    assert load_storage_version() == DEFAULT_STORAGE_VERSION
    monkeypatch.setenv("WAREHOUSE__STORAGE_VERSION", "1.1")
    with pytest.raises(ConfigurationError, match="storage_version '1.1'"):
        load_storage_version()
    monkeypatch.setenv("WAREHOUSE__STORAGE_VERSION", "v9.0.0")
    with pytest.raises(ConfigurationError, match="cannot be written"):
        load_storage_version()
