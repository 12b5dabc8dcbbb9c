"""`atera-sync run --destination postgres` as a user runs it, on a real PostgreSQL server.

The command in a subprocess, from an empty working directory, with the settings in
environment variables only (DESTINATION__POSTGRES__CREDENTIALS, SOURCES__ATERA__API_KEY):
a full, an incremental and a no-op run, and after each the raw tables equal what the
sandbox serves and `analytics.sla_first_response_by_priority` the counts that the SLA
definition gives on the sandbox's data (computed in Python, `expected_statuses`).

On the same warehouse (a dbt build on PostgreSQL costs 10-15 s, so the marts are built as
few times as possible): users' views on the marts survive the runs and see the new data,
a failing data test and a mart whose columns changed under a user's view fail the run and
leave `analytics` as it was, and no secret reaches the history, the files or the output.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg2
import pytest

from pipelines.sandbox import AteraSandbox
from pipelines.sync import run_sync
from tests.conftest import TEST_API_KEY, config_for
from tests.postgres_server import PASSWORD, PostgresServer
from tests.test_models_on_sandbox import expected_statuses
from tests.test_sync_e2e import assert_warehouse_equals_sandbox, change_data_through_the_api
from tests.warehouse import query_rows

ATERA_SYNC = Path(sys.executable).with_name("atera-sync")
MART = "analytics.sla_first_response_by_priority"


def cli_environment(dsn: str | None) -> dict[str, str]:
    """This process's environment without atera-sync's or dlt's settings, plus the two that
    the check sets (and a high rate limit, since the sandbox has none)."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("SOURCES__", "DESTINATION__", "PIPELINE__", "ATERA_DBT_"))
    }
    env["SOURCES__ATERA__API_KEY"] = TEST_API_KEY
    env["SOURCES__ATERA__RATE_LIMIT_PER_MINUTE"] = "100000"
    if dsn is not None:
        env["DESTINATION__POSTGRES__CREDENTIALS"] = dsn
    return env


def atera_sync(cwd: Path, dsn: str | None, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(ATERA_SYNC), *args],
        cwd=cwd,
        env=cli_environment(dsn),
        capture_output=True,
        text=True,
        timeout=300,
    )


def output(completed: subprocess.CompletedProcess[str]) -> str:
    return completed.stdout + completed.stderr


def execute(dsn: str, *statements: str) -> None:
    with psycopg2.connect(dsn) as con, con.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement)


def rows(dsn: str, sql: str) -> list[tuple]:
    return query_rows(dsn, sql)[1]


def runs(dsn: str) -> list[dict]:
    names, found = query_rows(dsn, "select * from atera_meta.sync_runs order by started_at")
    return [dict(zip(names, row, strict=True)) for row in found]


def analytics_fingerprint(dsn: str) -> dict[str, list[tuple]]:
    """Every row of every table of `analytics`, sorted."""
    tables = rows(
        dsn,
        "select table_name from information_schema.tables "
        "where table_schema = 'analytics' and table_type = 'BASE TABLE'",
    )
    return {
        name: sorted(rows(dsn, f'select * from analytics."{name}"'), key=repr) for (name,) in tables
    }


def assert_sla_counts_match(dsn: str, sandbox: AteraSandbox) -> None:
    """The mart's counts per priority equal the definition applied to the sandbox's data,
    as of the server time of the last successful sync (the clock the marts are true as of)."""
    ((as_of,),) = rows(
        dsn, "select max(server_time) from atera_meta.sync_runs where status = 'success'"
    )
    expected = expected_statuses(sandbox.snapshot(), as_of)
    mart = rows(
        dsn, f"select ticket_priority, tickets, met, breached, pending from {MART} order by 1"
    )
    assert {r[0] for r in mart} >= set(expected)
    for priority, *counts in mart:
        want = expected.get(priority, Counter())
        assert counts == [want["tickets"], want["met"], want["breached"], want["pending"]], priority
    assert sum(r[1] for r in mart) == len(sandbox.snapshot()["tickets"])


@dataclass
class Story:
    """A sandbox, an empty database and an empty working directory, shared by this file."""

    sandbox: AteraSandbox
    dsn: str
    cwd: Path

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        return atera_sync(
            self.cwd,
            self.dsn,
            "run",
            "--destination",
            "postgres",
            "--base-url",
            self.sandbox.base_url,
            *args,
        )

    def ensure_built(self) -> None:
        """The marts exist (when a test runs alone, without the story before it)."""
        if not rows(self.dsn, "select to_regclass('analytics.fct_tickets')")[0][0]:
            completed = self.run()
            assert completed.returncode == 0, output(completed)


@pytest.fixture(scope="module", params=["published"])
def story(
    request: pytest.FixtureRequest,
    postgres_server: PostgresServer,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Story]:
    with AteraSandbox(
        api_key=TEST_API_KEY, tickets=60, seed=7, rate_limit=None, api_shape=request.param
    ) as sandbox:
        dsn = postgres_server.dsn(postgres_server.create_database())
        yield Story(sandbox, dsn, tmp_path_factory.mktemp("empty-cwd"))


@pytest.mark.timeout(900)  # three dbt builds on PostgreSQL: about a minute on an idle machine
def test_full_incremental_and_no_op_runs_equal_the_sandbox_and_its_sla_counts(story: Story):
    sandbox, dsn = story.sandbox, story.dsn
    full = story.run()
    assert full.returncode == 0, output(full)
    assert "Full sync into postgres://" in full.stdout
    assert_warehouse_equals_sandbox(dsn, sandbox)
    assert_sla_counts_match(dsn, sandbox)
    assert not list(story.cwd.glob("data/*.duckdb")), "nothing is written to a DuckDB file"

    # users' own views on the marts, as a BI tool or an analyst would create them
    execute(
        dsn,
        "create schema reports",
        f"create view reports.sla as select ticket_priority, tickets from {MART}",
        "create view reports.tickets as select ticket_id from analytics.fct_tickets",
    )
    touched = change_data_through_the_api(sandbox)
    sandbox.advance(3600)  # out of the next run's overlap: the third run sees nothing

    incremental = story.run()
    assert incremental.returncode == 0, output(incremental)
    assert "Incremental sync" in incremental.stdout
    assert_warehouse_equals_sandbox(dsn, sandbox)
    assert_sla_counts_match(dsn, sandbox)
    # the views survived the swap of the marts and read the new build
    in_view = {ticket_id for (ticket_id,) in rows(dsn, "select ticket_id from reports.tickets")}
    assert in_view == {t["TicketID"] for t in sandbox.snapshot()["tickets"]}
    assert touched <= in_view
    assert rows(dsn, "select sum(tickets) from reports.sla") == [(len(in_view),)]

    no_op = story.run()
    assert no_op.returncode == 0, output(no_op)
    assert_warehouse_equals_sandbox(dsn, sandbox)
    assert_sla_counts_match(dsn, sandbox)
    history = runs(dsn)
    assert [(r["status"], r["mode"]) for r in history] == [
        ("success", "full"),
        ("success", "incremental"),
        ("success", "incremental"),
    ]
    assert history[-1]["rows_per_table"].get("tickets", 0) == 0
    assert history[-1]["watermark_after"] >= history[-2]["watermark_after"]

    assert_no_secret_anywhere(story, [full, incremental, no_op])


def assert_no_secret_anywhere(story: Story, completed: list[subprocess.CompletedProcess[str]]):
    """Neither the API key nor the database password in the history, the output, or any
    file the runs wrote (dlt's and dbt's folders, the dbt profile, dbt's log)."""
    history = repr(rows(story.dsn, "select * from atera_meta.sync_runs"))
    assert TEST_API_KEY not in history
    for run in completed:
        assert TEST_API_KEY not in output(run)
        assert PASSWORD not in output(run)
    profiles = list(story.cwd.glob("data/.atera.postgres-*.dbt/profiles.yml"))
    assert len(profiles) == 1
    assert "env_var(" in profiles[0].read_text()  # the password comes from the environment
    written = [path for path in story.cwd.rglob("*") if path.is_file()]
    assert any(path.name == "dbt.log" for path in written)
    for path in written:
        data = path.read_bytes()
        assert TEST_API_KEY.encode() not in data, path
        assert PASSWORD.encode() not in data, path


def test_a_failing_data_test_fails_the_run_and_leaves_analytics_as_it_was(story: Story):
    story.ensure_built()
    dsn = story.dsn
    before = analytics_fingerprint(dsn)
    # a closed ticket that no run fetches again, twice: stg_tickets' unique test fails
    ((ticket_id,),) = rows(
        dsn, "select min(ticket_id) from atera_raw.tickets where ticket_status = 'Closed'"
    )
    execute(
        dsn,
        "create temporary table twin as select * from atera_raw.tickets "
        f"where ticket_id = {ticket_id}",
        "update twin set _dlt_id = 'twin-of-a-closed-ticket'",
        "insert into atera_raw.tickets select * from twin",
    )
    try:
        failed = story.run()
    finally:
        execute(
            dsn,
            "delete from atera_raw.tickets where _dlt_id = 'twin-of-a-closed-ticket'",
        )
    assert failed.returncode == 1, output(failed)
    assert "SQL models failed" in output(failed) and "unique" in output(failed)
    assert analytics_fingerprint(dsn) == before
    assert not rows(dsn, "select 1 from pg_namespace where nspname = 'analytics__build'")
    last = runs(dsn)[-1]
    assert last["status"] == "failed"
    assert "unique" in last["error"]


def test_a_changed_mart_under_a_users_view_fails_naming_the_view(story: Story):
    story.ensure_built()
    dsn = story.dsn
    # as if an older version had built the mart with one more column, which a view reads
    execute(
        dsn,
        f"alter table {MART} add column legacy_flag integer",
        "create schema if not exists legacy",
        f"create view legacy.flagged as select ticket_priority, legacy_flag from {MART}",
    )
    before = analytics_fingerprint(dsn)
    try:
        failed = story.run()
        assert failed.returncode == 1, output(failed)
        message = output(failed)
        assert "legacy.flagged" in message and "sla_first_response_by_priority" in message
        assert analytics_fingerprint(dsn) == before
        assert not rows(dsn, "select 1 from pg_namespace where nspname = 'analytics__build'")
        assert runs(dsn)[-1]["status"] == "failed"
        assert "legacy.flagged" in runs(dsn)[-1]["error"]
    finally:
        execute(dsn, "drop view legacy.flagged", f"alter table {MART} drop column legacy_flag")


def test_raw_tables_equal_the_sandbox_on_the_contract_shape(
    postgres_dsn: str, tmp_path: Path
) -> None:
    """The other API shape than the command's above: the load alone (no models, whose SQL
    reads both shapes' raw tables alike), in process: full, incremental, no-op."""
    with AteraSandbox(
        api_key=TEST_API_KEY, tickets=60, seed=5, rate_limit=None, api_shape="contract"
    ) as sandbox:
        config = config_for(sandbox)
        path = tmp_path / "atera.duckdb"
        assert run_sync(config, path, destination="postgres").report.mode == "full"
        assert_warehouse_equals_sandbox(postgres_dsn, sandbox)
        change_data_through_the_api(sandbox)
        sandbox.advance(3600)
        assert run_sync(config, path, destination="postgres").report.mode == "incremental"
        assert_warehouse_equals_sandbox(postgres_dsn, sandbox)
        assert run_sync(config, path, destination="postgres").report.tickets_listed == 0
        assert_warehouse_equals_sandbox(postgres_dsn, sandbox)


def test_the_destination_from_dot_dlt_config_toml(
    postgres_server: PostgresServer, sandbox: AteraSandbox, tmp_path: Path
) -> None:
    dsn = postgres_server.dsn(postgres_server.create_database())
    (tmp_path / ".dlt").mkdir()
    (tmp_path / ".dlt" / "config.toml").write_text('[pipeline]\ndestination = "postgres"\n')
    completed = atera_sync(tmp_path, dsn, "run", "--skip-models", "--base-url", sandbox.base_url)
    assert completed.returncode == 0, output(completed)
    assert_warehouse_equals_sandbox(dsn, sandbox)
    assert not (tmp_path / "data" / "atera.duckdb").exists()


def test_a_missing_credential_exits_2_naming_the_variable(
    sandbox: AteraSandbox, tmp_path: Path
) -> None:
    completed = atera_sync(
        tmp_path, None, "run", "--destination", "postgres", "--base-url", sandbox.base_url
    )
    assert completed.returncode == 2, output(completed)
    assert "DESTINATION__POSTGRES__CREDENTIALS" in output(completed)
    assert sandbox.request_count() == 0
