"""One small warehouse for the report tests: the sandbox synced, the models built."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import duckdb
import pytest

from pipelines.models import run_models
from pipelines.report import write_report
from pipelines.sandbox import AteraSandbox
from pipelines.sync import run_sync
from tests.conftest import TEST_API_KEY, config_for

REPORT_ZONE = "America/New_York"
"""Weeks and months in a zone other than UTC, so that local week starts matter."""


@pytest.fixture(scope="session")
def report_warehouse(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A warehouse with live marts (as of the sync) of 300 sandbox tickets."""
    path = tmp_path_factory.mktemp("report") / "atera.duckdb"
    with AteraSandbox(api_key=TEST_API_KEY, tickets=300, seed=11, rate_limit=None) as sandbox:
        run_sync(config_for(sandbox), path, after_load=build_models)
    yield path


def build_models(work: Path, data_as_of: datetime | None) -> None:
    """The models on the working copy before it is published, as `atera-sync run` does."""
    with duckdb.connect(str(work)) as con:
        run_models(con, data_as_of=data_as_of)


def fetch(path: Path, sql: str, params: list | None = None) -> list[tuple]:
    with duckdb.connect(str(path), read_only=True) as con:
        return con.execute(sql, params or []).fetchall()


SCRIPT_PAYLOAD = "<script>alert(1)</script>"
ATTRIBUTE_PAYLOAD = '"><img src=x onerror=alert(2)>'


@pytest.fixture(scope="session")
def hostile_page(report_warehouse: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The report of a copy of the warehouse whose names are markup: a customer named
    SCRIPT_PAYLOAD and a technician named ATTRIBUTE_PAYLOAD on a ticket breached an
    hour before as_of, and on work hours of the current month."""
    folder = tmp_path_factory.mktemp("hostile")
    copy = folder / "atera.duckdb"
    shutil.copyfile(report_warehouse, copy)
    fact = "analytics.fct_ticket_first_response_sla"
    hours = "analytics.work_hours_by_customer_technician_month"
    with duckdb.connect(str(copy)) as con:
        # the published marts are views over the run's Parquet files: make tables of them
        for relation in (fact, hours):
            con.execute(f"create table {relation}__copy as select * from {relation}")
            con.execute(f"drop view {relation}")
            con.execute(f"alter table {relation}__copy rename to {relation.split('.')[1]}")
        con.execute(
            f"update {fact} set customer_name = ?, technician_full_name = ?, "
            "sla_status = 'breached', due_at = as_of - interval 1 hour "
            f"where ticket_id = (select min(ticket_id) from {fact})",
            [SCRIPT_PAYLOAD, ATTRIBUTE_PAYLOAD],
        )
        con.execute(
            f"update {hours} set technician_full_name = ? "
            f"where month = (select max(month) from {hours})",
            [ATTRIBUTE_PAYLOAD],
        )
    out = folder / "report.html"
    write_report(copy, out, time_zone=REPORT_ZONE)
    return out
