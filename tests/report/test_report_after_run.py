"""`[report] enabled = true`: `atera-sync run` writes the report after publishing; a report
that cannot be written is a warning, never a failed sync."""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from pipelines import cli
from pipelines.report.after_run import write_report_after_run
from pipelines.report.settings import load_report_settings
from pipelines.sandbox import AteraSandbox
from tests.conftest import TEST_API_KEY


def test_the_settings_default_to_off_beside_the_warehouse(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("REPORT__ENABLED", raising=False)
    monkeypatch.delenv("REPORT__PATH", raising=False)
    settings = load_report_settings()
    assert not settings.enabled
    assert settings.path_for(Path("data/atera.duckdb")) == Path("data/atera-report.html")
    monkeypatch.setenv("REPORT__ENABLED", "true")
    monkeypatch.setenv("REPORT__PATH", "site/sla.html")
    assert load_report_settings().enabled
    assert load_report_settings().path_for(Path("data/atera.duckdb")) == Path("site/sla.html")


def test_a_report_that_cannot_be_written_does_not_fail_the_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("SOURCES__ATERA__API_KEY", TEST_API_KEY)
    monkeypatch.setenv("REPORT__ENABLED", "true")
    blocked = tmp_path / "a-file"
    blocked.write_text("not a folder")
    monkeypatch.setenv("REPORT__PATH", str(blocked / "report.html"))
    duckdb_path = tmp_path / "wh" / "atera.duckdb"
    with (
        AteraSandbox(api_key=TEST_API_KEY, tickets=30, seed=4, rate_limit=None) as sandbox,
        caplog.at_level(logging.WARNING, logger="atera_sync.report"),
    ):
        args = ["run", "--base-url", sandbox.base_url, "--duckdb", str(duckdb_path)]
        result = CliRunner().invoke(cli.main, args, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "SLA report was not written" in caplog.text
    assert "models: built" in result.output
    assert duckdb_path.exists()


def test_enabled_writes_the_report_beside_the_warehouse(
    report_warehouse: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("REPORT__ENABLED", "true")
    monkeypatch.delenv("REPORT__PATH", raising=False)
    copy = tmp_path / "atera.duckdb"
    shutil.copyfile(report_warehouse, copy)
    lines: list[str] = []
    written = write_report_after_run(copy, lines.append)
    assert written == tmp_path / "atera-report.html"
    assert len(lines) == 1 and str(written) in lines[0]
    assert "Compliance by priority" in written.read_text(encoding="utf-8")


def test_not_enabled_writes_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("REPORT__ENABLED", raising=False)
    monkeypatch.setenv("REPORT__PATH", str(tmp_path / "r.html"))
    lines: list[str] = []
    assert write_report_after_run(tmp_path / "atera.duckdb", lines.append) is None
    assert lines == []
    assert not (tmp_path / "r.html").exists()
