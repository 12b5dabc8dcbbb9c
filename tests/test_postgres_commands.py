"""`status`, `export`, `report` and `docs` with `--destination postgres`, on a real server.

One warehouse is synced and modelled once for the module (a small sandbox); every
test only reads it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import duckdb
import psycopg2
import pytest
from click.testing import CliRunner
from filelock import FileLock

from pipelines import cli
from pipelines.models.server_runner import run_models_on_server
from pipelines.report.after_run import write_report_after_run
from pipelines.report.data import load_report_data
from pipelines.report.server import copy_marts
from pipelines.sandbox import AteraSandbox
from pipelines.server_export import EXPORT_LOCK
from pipelines.server_reader import SnapshotCursor, _dlt_snapshot, read_snapshot
from pipelines.server_warehouse import ServerWarehouse
from pipelines.status import parse_max_age, read_status
from pipelines.sync import run_sync
from tests.conftest import TEST_API_KEY, config_for
from tests.postgres_server import PostgresServer

ENV = "DESTINATION__POSTGRES__CREDENTIALS"


@dataclass
class Synced:
    dsn: str
    duckdb_path: Path
    run_id: str

    def rows(self, sql: str) -> list[tuple]:
        with psycopg2.connect(self.dsn) as con, con.cursor() as cursor:
            cursor.execute(sql)
            return cursor.fetchall()


@pytest.fixture(scope="module")
def synced(
    postgres_server: PostgresServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Synced]:
    """A PostgreSQL warehouse after one full sync and one build of the models."""
    dsn = postgres_server.dsn(postgres_server.create_database())
    folder = tmp_path_factory.mktemp("pg-commands")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(ENV, dsn)
        patch.setenv("EXPORT__TO", str(folder / "exports"))  # [export] after the run
        with AteraSandbox(api_key=TEST_API_KEY, tickets=40, seed=11, rate_limit=None) as api:
            result = run_sync(
                config_for(api),
                folder / "atera.duckdb",
                destination="postgres",
                after_load=lambda server, as_of: run_models_on_server(server, data_as_of=as_of),
            )
        assert result.report.mode == "full"
        synced = Synced(dsn, folder / "atera.duckdb", "")
        [(synced.run_id,)] = synced.rows("select run_id from atera_meta.sync_runs")
        yield synced


def _invoke(synced: Synced, *args: str) -> tuple[int, str]:
    runner = CliRunner()
    outcome = runner.invoke(
        cli.main,
        [*args, "--destination", "postgres", "--duckdb", str(synced.duckdb_path)],
        env={ENV: synced.dsn},
    )
    return outcome.exit_code, outcome.output


def test_status_reads_the_run_history_and_watermark_on_the_server(synced: Synced) -> None:
    code, output = _invoke(synced, "status", "--json")
    assert code == 0, output
    status = json.loads(output)
    assert status["status"] == "fresh"
    assert status["last_success"]["run_id"] == synced.run_id
    [(rows_loaded, watermark)] = synced.rows(
        "select rows_loaded, watermark_after from atera_meta.sync_runs"
    )
    assert status["rows_loaded"] == rows_loaded
    assert datetime.fromisoformat(status["watermark"]) == watermark.replace(microsecond=0)
    code, output = _invoke(synced, "status", "--max-age", "0.001s")
    assert code == 5 and "status: stale" in output


def test_status_without_a_server_or_credentials_says_what_to_do(synced: Synced) -> None:
    runner = CliRunner()
    unreachable = "postgresql://atera:secret-pw-9@127.0.0.1:1/atera"
    outcome = runner.invoke(
        cli.main, ["status", "--destination", "postgres", "--json"], env={ENV: unreachable}
    )
    assert outcome.exit_code == 6
    error = json.loads(outcome.output)["error"]
    assert "postgres://127.0.0.1:1/atera" in error and "secret-pw-9" not in error
    outcome = runner.invoke(cli.main, ["status", "--destination", "postgres"], env={ENV: None})
    assert outcome.exit_code == 2
    assert "DESTINATION__POSTGRES__CREDENTIALS" in outcome.output


def test_status_in_its_own_process_does_not_load_dbt(synced: Synced) -> None:
    probe = (
        "import atexit, sys\n"
        "atexit.register(lambda: print('dbt loaded' if any(m == 'dbt' or m.startswith('dbt.') "
        "for m in sys.modules) else 'no dbt', file=sys.stderr))\n"
        "from pipelines.cli import main\n"
        "main()\n"
    )
    completed = subprocess.run(
        [
            sys.executable,
            "-c",
            probe,
            "status",
            "--destination",
            "postgres",
            "--json",
            "--duckdb",
            str(synced.duckdb_path),
        ],  # fmt: skip
        capture_output=True,
        text=True,
        timeout=60,
        env={**_environment(), ENV: synced.dsn},
    )
    assert completed.returncode == 0, completed.stderr
    assert json.loads(completed.stdout)["status"] == "fresh"
    assert completed.stderr.strip().endswith("no dbt")


def test_dlt_sql_client_reads_the_same_status(
    synced: Synced, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The reader the other servers use (dlt's SQL client), checked on PostgreSQL."""
    monkeypatch.setenv(ENV, synced.dsn)
    warehouse = ServerWarehouse("postgres", state_root=synced.duckdb_path.parent)
    age = parse_max_age("26h")
    with read_snapshot(warehouse) as snapshot:
        through_adbc = read_status(SnapshotCursor(snapshot), age)
    with _dlt_snapshot(warehouse) as snapshot:
        through_dlt = read_status(SnapshotCursor(snapshot), age)
        fact = snapshot.arrow("select ticket_id from analytics.fct_ticket_first_response_sla")
    assert through_dlt.last_success == through_adbc.last_success
    assert through_dlt.watermark == through_adbc.watermark
    assert fact.num_rows == 40


def test_export_writes_the_server_marts_and_raw_tables(synced: Synced, tmp_path: Path) -> None:
    code, output = _invoke(synced, "export", "--to", str(tmp_path / "out"), "--raw")
    assert code == 0, output
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
    assert manifest["run_id"] == synced.run_id
    assert manifest["warehouse"].startswith("postgres://127.0.0.1:")
    tables = manifest["tables"]
    expected = {
        f"{schema}.{name}"
        for schema, name in synced.rows(
            "select table_schema, table_name from information_schema.tables "
            "where table_schema in ('analytics', 'atera_raw') and table_name not like '\\_dlt%'"
        )
    }
    assert set(tables) == expected
    assert tables["atera_raw.tickets"]["rows"] == 40
    current = tmp_path / "out" / "current"
    with duckdb.connect() as con:
        exported = con.execute(
            "select ticket_priority, tickets, met, breached from read_parquet(?) order by all",
            [str(current / "analytics" / "sla_first_response_by_priority.parquet")],
        ).fetchall()
        types = dict(
            con.execute(
                "select column_name, column_type from (describe select * from read_parquet(?))",
                [str(current / "analytics" / "fct_ticket_first_response_sla.parquet")],
            ).fetchall()
        )
    on_server = synced.rows(
        "select ticket_priority, tickets, met, breached "
        "from analytics.sla_first_response_by_priority order by 1, 2, 3, 4"
    )
    assert exported == [tuple(row) for row in on_server]
    assert types["created_at"] == "TIMESTAMP WITH TIME ZONE"
    assert types["ticket_id"] == "BIGINT"


def test_a_second_export_into_the_same_folder_waits_its_turn(
    synced: Synced, tmp_path: Path
) -> None:
    tmp_path.chmod(0o700)
    with FileLock(str(tmp_path / EXPORT_LOCK)):
        code, output = _invoke(synced, "export", "--to", str(tmp_path))
    assert code == 3
    assert "another export is writing" in output
    assert not (tmp_path / "current").exists()


def test_the_run_exported_the_server_marts_after_it_succeeded(synced: Synced) -> None:
    manifest = json.loads((synced.duckdb_path.parent / "exports" / "manifest.json").read_text())
    assert manifest["run_id"] == synced.run_id
    assert manifest["tables"]["analytics.fct_ticket_first_response_sla"]["rows"] == 40


def test_export_as_csv_with_the_same_rows(synced: Synced, tmp_path: Path) -> None:
    code, output = _invoke(synced, "export", "--to", str(tmp_path), "--format", "csv")
    assert code == 0, output
    csv = tmp_path / "current" / "analytics" / "fct_ticket_first_response_sla.csv"
    assert len(csv.read_text().splitlines()) == 1 + 40


def test_report_of_the_server_marts(synced: Synced, tmp_path: Path) -> None:
    out = tmp_path / "report.html"
    code, output = _invoke(synced, "report", "--out", str(out))
    assert code == 0, output
    page = out.read_text()
    assert "postgres://127.0.0.1:" in page
    # the figures are those of the server's marts, read by the report's own queries
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(ENV, synced.dsn)
        warehouse = ServerWarehouse("postgres", state_root=synced.duckdb_path.parent)
        with read_snapshot(warehouse) as snapshot, duckdb.connect() as con:
            copied = copy_marts(snapshot, con, "analytics")
            [(as_of,)] = synced.rows(
                "select max(as_of) from analytics.fct_ticket_first_response_sla"
            )
            data = load_report_data(con, "analytics", "UTC", as_of)
    assert len(copied) == 5
    assert data.tickets == 40
    server = synced.rows(
        "select ticket_priority, tickets, met from analytics.sla_first_response_by_priority "
        "order by priority_rank"
    )
    assert [(c.priority, c.tickets, c.met) for c in data.compliance] == server
    for row in data.compliance:
        assert f">{row.priority}<" in page


def test_report_after_a_run_into_the_server(
    synced: Synced, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(ENV, synced.dsn)
    monkeypatch.setenv("REPORT__ENABLED", "true")
    server = ServerWarehouse("postgres", state_root=synced.duckdb_path.parent)
    notices: list[str] = []
    written = write_report_after_run(tmp_path / "atera.duckdb", notices.append, server)
    assert written == tmp_path / "atera-report.html"
    assert "postgres://127.0.0.1:" in written.read_text()
    assert notices and str(written) in notices[0]


def test_report_of_a_server_without_marts_says_to_run_first(
    synced: Synced, postgres_server: PostgresServer, tmp_path: Path
) -> None:
    empty = Synced(postgres_server.dsn(postgres_server.create_database()), synced.duckdb_path, "")
    code, output = _invoke(empty, "report", "--out", str(tmp_path / "r.html"))
    assert code == 2
    assert "atera-sync run --destination postgres" in output
    assert not (tmp_path / "r.html").exists()


def test_docs_from_the_server_catalog(synced: Synced, tmp_path: Path) -> None:
    code, output = _invoke(synced, "docs", "--out", str(tmp_path / "docs"))
    assert code == 0, output
    page = (tmp_path / "docs" / "index.html").read_text()
    assert "sla_first_response_by_priority" in page
    assert "timestamp with time zone" in page  # column types from PostgreSQL's catalog


def _environment() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k != ENV}
