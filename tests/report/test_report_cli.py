"""`atera-sync report` as a user runs it: the page, clear refusals, the as-of marts."""

from __future__ import annotations

import shutil
from datetime import UTC, timedelta
from pathlib import Path

import duckdb
import pytest
from click.testing import CliRunner

from pipelines import cli
from tests.report.conftest import ATTRIBUTE_PAYLOAD, SCRIPT_PAYLOAD, fetch


def invoke(*args: str):
    return CliRunner().invoke(cli.main, list(args), catch_exceptions=False)


def test_the_report_is_one_self_contained_page(report_warehouse: Path, tmp_path: Path) -> None:
    out = tmp_path / "out" / "atera-report.html"
    result = invoke("report", "--duckdb", str(report_warehouse), "--out", str(out))
    assert result.exit_code == 0, result.output
    assert "report:" in result.output and "marts of analytics" in result.output
    html = out.read_text(encoding="utf-8")
    for title in (
        "Compliance by priority",
        "Weekly compliance trend",
        "Response-time distribution",
        "Backlog by age",
        "Breached in the last 7 days",
        "Billable hours by technician",
    ):
        assert f"<h2>{title}</h2>" in html
    assert html.count("<svg") >= 7
    # nothing to fetch: no script, no external stylesheet, image or font
    for needle in ("<script", "<link", "src=", "@import", "url(http"):
        assert needle not in html
    (as_of,) = fetch(
        report_warehouse, "select max(as_of) from analytics.fct_ticket_first_response_sla"
    )[0]
    assert as_of.astimezone(UTC).strftime("%Y-%m-%d") in html


def test_a_missing_warehouse_says_to_run_the_sync_first(tmp_path: Path) -> None:
    result = invoke("report", "--duckdb", str(tmp_path / "none.duckdb"))
    assert result.exit_code == 2
    assert "atera-sync run" in result.output
    assert not (tmp_path / "none.duckdb").exists()


@pytest.mark.parametrize("empty", ["no tables", "zero bytes"])
def test_an_empty_warehouse_says_to_run_the_sync_first(tmp_path: Path, empty: str) -> None:
    path = tmp_path / "atera.duckdb"
    if empty == "zero bytes":
        path.touch()
    else:
        duckdb.connect(str(path)).close()
    out = tmp_path / "r.html"
    result = invoke("report", "--duckdb", str(path), "--out", str(out))
    assert result.exit_code == 2
    assert "atera-sync run" in result.output
    assert not out.exists()


def test_as_of_reads_the_point_in_time_marts_of_that_instant_only(
    report_warehouse: Path, tmp_path: Path
) -> None:
    copy = tmp_path / "atera.duckdb"
    shutil.copyfile(report_warehouse, copy)
    (live,) = fetch(copy, "select max(as_of) from analytics.fct_ticket_first_response_sla")[0]
    as_of = (live - timedelta(days=3)).astimezone(UTC).replace(microsecond=0)
    out = tmp_path / "past.html"

    refused = invoke(
        "report", "--duckdb", str(copy), "--as-of", as_of.isoformat(), "--out", str(out)
    )
    assert refused.exit_code == 2
    assert f"atera-sync models --duckdb {copy} --as-of" in " ".join(refused.output.split())
    assert not out.exists()

    assert invoke("models", "--duckdb", str(copy), "--as-of", as_of.isoformat()).exit_code == 0
    result = invoke(
        "report", "--duckdb", str(copy), "--as-of", as_of.isoformat(), "--out", str(out)
    )
    assert result.exit_code == 0, result.output
    html = out.read_text(encoding="utf-8")
    assert "analytics_as_of" in html and "point-in-time" in html
    # the times are shown in [models] time_zone, UTC here
    assert as_of.strftime("%Y-%m-%d %H:%M") in html

    later = (as_of + timedelta(hours=1)).isoformat()
    other = invoke(
        "report", "--duckdb", str(copy), "--as-of", later, "--out", str(tmp_path / "x.html")
    )
    assert other.exit_code == 2
    assert "not" in other.output and "--as-of" in other.output
    assert not (tmp_path / "x.html").exists()


def test_marts_without_tickets_give_a_page_that_says_so(
    report_warehouse: Path, tmp_path: Path
) -> None:
    copy = tmp_path / "atera.duckdb"
    shutil.copyfile(report_warehouse, copy)
    with duckdb.connect(str(copy)) as con:
        # the published marts are views over the run's Parquet files: put empty tables
        # of the same shape in their place
        for mart in ("fct_ticket_first_response_sla", "work_hours_by_customer_technician_month"):
            con.execute(f"create table analytics.empty as select * from analytics.{mart} limit 0")
            con.execute(f"drop view analytics.{mart}")
            con.execute(f"alter table analytics.empty rename to {mart}")
    out = tmp_path / "r.html"
    result = invoke("report", "--duckdb", str(copy), "--out", str(out))
    assert result.exit_code == 0, result.output
    html = out.read_text(encoding="utf-8")
    assert "As of: unknown, the marts hold no tickets" in html
    assert "0 tickets" in html and "no judged tickets in these weeks" in html
    assert "No first-response SLA breached" in html


def test_every_value_from_the_warehouse_is_escaped(hostile_page: Path) -> None:
    html = hostile_page.read_text(encoding="utf-8")
    assert SCRIPT_PAYLOAD not in html
    assert "<script" not in html and "<img" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "&#34;&gt;&lt;img src=x onerror=alert(2)&gt;" in html
    assert ATTRIBUTE_PAYLOAD not in html
