"""`atera-sync export`: the marts (and raw tables) read back from Parquet and CSV files."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest
from click.testing import CliRunner
from filelock import FileLock

from pipelines import cli
from pipelines import export as export_module
from pipelines.export import ExportError, export_warehouse
from pipelines.live_marts import MartRuns
from pipelines.sandbox import AteraSandbox
from pipelines.warehouse import Warehouse
from tests.bi_warehouse import AS_OF, sync_with_models
from tests.conftest import TEST_API_KEY

TICKETS = 25


@pytest.fixture(scope="module")
def sandbox_module() -> Iterator[AteraSandbox]:
    with AteraSandbox(api_key=TEST_API_KEY, tickets=TICKETS, seed=4, rate_limit=None) as server:
        yield server


@pytest.fixture(scope="module")
def published(sandbox_module: AteraSandbox, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("export") / "data" / "atera.duckdb"
    sync_with_models(sandbox_module, path)
    return path


def marts_of(path: Path) -> dict[str, int]:
    """Every relation of `analytics` in the published file, with its row count."""
    with duckdb.connect(str(path), read_only=True) as con:
        names = [
            name
            for (name,) in con.execute(
                "select table_name from information_schema.tables where table_schema = 'analytics'"
            ).fetchall()
        ]
        return {
            f"analytics.{name}": con.execute(f"select count(*) from analytics.{name}").fetchone()[0]
            for name in names
        }


def export(*args: str) -> object:
    return CliRunner().invoke(cli.main, ["export", *args], catch_exceptions=False)


def test_export_parquet_with_raw_reads_back_with_a_manifest(
    published: Path, tmp_path: Path
) -> None:
    out = tmp_path / "exports"
    result = export("--duckdb", str(published), "--format", "parquet", "--to", str(out), "--raw")
    assert result.exit_code == 0, result.output  # type: ignore[attr-defined]

    current = out / "current"
    manifest = json.loads((current / "manifest.json").read_text())
    assert manifest == json.loads((out / "manifest.json").read_text())
    assert manifest["run_id"] == MartRuns(Warehouse.at(published).marts_dir).active_run().name
    assert manifest["as_of"] == AS_OF.isoformat()
    assert manifest["format"] == "parquet"
    marts = marts_of(published)
    assert len(marts) >= 10 and "analytics.fct_ticket_first_response_sla" in marts
    rows = {name: entry["rows"] for name, entry in manifest["tables"].items()}
    assert {k: v for k, v in rows.items() if k.startswith("analytics.")} == marts
    assert rows["atera_raw.tickets"] == TICKETS
    assert "atera_raw.deleted_tickets" in rows
    assert not any(name.startswith("atera_raw._dlt") for name in rows)
    with duckdb.connect() as con:
        for name, entry in manifest["tables"].items():
            file = current / entry["file"]
            assert con.execute(f"select count(*) from '{file}'").fetchone()[0] == rows[name]
        columns = {
            d[0]
            for d in con.execute(
                f"select * from '{current}/analytics/fct_ticket_first_response_sla.parquet' limit 0"
            ).description
        }
    assert "sla_status" in columns and "atera_run" not in columns


def test_export_csv_of_the_marts_only(published: Path, tmp_path: Path) -> None:
    out = tmp_path / "csv"
    result = export("--duckdb", str(published), "--format", "csv", "--to", str(out))
    assert result.exit_code == 0, result.output  # type: ignore[attr-defined]
    manifest = json.loads((out / "current" / "manifest.json").read_text())
    assert set(manifest["tables"]) == set(marts_of(published))
    with (out / "current" / "analytics" / "sla_first_response_by_priority.csv").open() as f:
        rows = list(csv.DictReader(f))
    assert sum(int(r["tickets"]) for r in rows) == TICKETS
    assert "rows/s" in result.output  # type: ignore[attr-defined]


def test_a_new_export_replaces_current_whole_and_a_failed_one_leaves_it(
    published: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "exports"
    first = export_warehouse(published, out, "parquet", raw=False)
    second = export_warehouse(published, out, "parquet", raw=False)
    assert (out / "current").resolve() == second.folder != first.folder
    assert first.folder.exists()  # kept for a reader that resolved `current` before

    calls = []

    def fail_on_the_third_table(*args: object) -> int:
        calls.append(args)
        if len(calls) == 3:
            raise duckdb.IOException("disk full")
        return 0

    monkeypatch.setattr(export_module, "_copy", fail_on_the_third_table)
    with pytest.raises(ExportError, match="disk full"):
        export_warehouse(published, out, "parquet", raw=False)
    assert (out / "current").resolve() == second.folder
    assert not [p for p in out.iterdir() if p.name.endswith(".partial")]
    assert len(list((out / "runs").iterdir())) == 2


def test_export_runs_after_each_sync_when_configured(
    sandbox_module: AteraSandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "nightly"
    monkeypatch.setenv("EXPORT__TO", str(out))
    monkeypatch.setenv("EXPORT__FORMAT", "csv")
    path = tmp_path / "data" / "atera.duckdb"
    sync_with_models(sandbox_module, path)
    manifest = json.loads((out / "current" / "manifest.json").read_text())
    assert manifest["format"] == "csv"
    assert manifest["run_id"] == MartRuns(Warehouse.at(path).marts_dir).active_run().name
    assert (out / "current" / "analytics" / "fct_ticket_first_response_sla.csv").exists()


def test_export_waits_for_no_run_and_names_a_missing_warehouse(
    published: Path, tmp_path: Path
) -> None:
    lock = FileLock(str(Warehouse.at(published).lock_file))
    with lock:
        busy = export("--duckdb", str(published), "--to", str(tmp_path / "x"))
    assert busy.exit_code == 3  # type: ignore[attr-defined]
    assert "a run is writing" in busy.output  # type: ignore[attr-defined]
    missing = export("--duckdb", str(tmp_path / "none.duckdb"), "--to", str(tmp_path / "x"))
    assert missing.exit_code == 2  # type: ignore[attr-defined]
    assert "atera-sync run" in missing.output  # type: ignore[attr-defined]
    wrong = export("--duckdb", str(published), "--to", str(tmp_path / "x"), "--format", "xlsx")
    assert wrong.exit_code == 2  # type: ignore[attr-defined]
