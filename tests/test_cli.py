"""The `atera-sync` command as a user runs it, against a live sandbox."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from pipelines import cli
from pipelines.sandbox import AteraSandbox
from tests.conftest import TEST_API_KEY


@pytest.fixture
def runner(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> CliRunner:
    # an empty working directory: every default must come from code
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("SOURCES__ATERA__API_KEY", raising=False)
    # the sandbox has no limit to share: keep the tests fast
    monkeypatch.setenv("SOURCES__ATERA__RATE_LIMIT_PER_MINUTE", "100000")
    return CliRunner()


def every_file_under(*roots: Path) -> list[Path]:
    return [p for root in roots if root.exists() for p in root.rglob("*") if p.is_file()]


def test_run_syncs_prints_the_summary_and_never_leaks_the_key(
    runner: CliRunner, sandbox: AteraSandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setenv("SOURCES__ATERA__API_KEY", TEST_API_KEY)
    duckdb_path = tmp_path / "wh" / "atera.duckdb"
    args = ["-v", "run", "--base-url", sandbox.base_url, "--duckdb", str(duckdb_path)]
    result = runner.invoke(cli.main, args, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "tickets" in result.output and "120" in result.output
    assert "API calls" in result.output
    assert "watermark" in result.output
    assert duckdb_path.exists()
    assert TEST_API_KEY not in result.output
    # neither the warehouse nor dlt's working folder (state, traces, load packages)
    # holds the key
    for path in every_file_under(duckdb_path.parent, tmp_path / ".dlt"):
        assert TEST_API_KEY.encode() not in path.read_bytes(), path


def test_base_url_without_a_key_says_which_setting_to_fix(runner: CliRunner, tmp_path: Path):
    result = runner.invoke(
        cli.main, ["run", "--base-url", "https://app.atera.com", "--duckdb", "x.duckdb"]
    )
    assert result.exit_code == 2
    assert "SOURCES__ATERA__API_KEY" in result.output


def test_a_rejected_key_exits_non_zero_with_advice(
    runner: CliRunner, sandbox: AteraSandbox, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setenv("SOURCES__ATERA__API_KEY", "wrong-key-123456")
    result = runner.invoke(cli.main, ["run", "--base-url", sandbox.api_url, "--skip-models"])
    assert result.exit_code == 1
    assert "401" in result.output
    assert "api_key" in result.output
    assert "wrong-key-123456" not in result.output


def test_without_a_key_run_uses_the_sandbox_and_says_so(
    runner: CliRunner, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
):
    import pipelines.sandbox

    small = lambda **kw: AteraSandbox(tickets=60, **kw)  # noqa: E731
    monkeypatch.setattr(pipelines.sandbox, "AteraSandbox", small)
    result = runner.invoke(cli.main, ["run", "--skip-models"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "No Atera API key is configured" in result.output
    assert "sandbox" in result.output
    assert (tmp_path / "data" / "atera.duckdb").exists()


def test_dot_dlt_in_the_working_directory_overrides_defaults(sandbox: AteraSandbox, tmp_path: Path):
    # a separate process, as a user runs it: dlt reads .dlt/ from the working directory
    (tmp_path / ".dlt").mkdir()
    (tmp_path / ".dlt" / "secrets.toml").write_text(
        f'[sources.atera]\napi_key = "{TEST_API_KEY}"\n'
    )
    (tmp_path / ".dlt" / "config.toml").write_text(
        f'[sources.atera]\nbase_url = "{sandbox.base_url}"\nrate_limit_per_minute = 100000\n'
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("SOURCES__ATERA__")}
    completed = subprocess.run(
        [sys.executable, "-m", "pipelines.cli", "-v", "run", "--skip-models"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    output = completed.stdout + completed.stderr
    assert completed.returncode == 0, output
    assert "No Atera API key" not in output
    assert sandbox.request_count() > 0
    assert (tmp_path / "data" / "atera.duckdb").exists()
    assert TEST_API_KEY not in output


def test_published_api_with_lastmodified_from_the_command_line(
    runner: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    jwt_key = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJtc3AifQ.c2lnbmF0dXJlLTEyMw"
    monkeypatch.setenv("SOURCES__ATERA__API_KEY", jwt_key)
    duckdb_path = tmp_path / "v3.duckdb"
    with AteraSandbox(
        api_key=jwt_key, tickets=80, seed=2, rate_limit=None, api_shape="published"
    ) as sb:
        args = [
            "run",
            "--base-url",
            sb.base_url,
            "--duckdb",
            str(duckdb_path),
            "--incremental-endpoint",
            "lastmodified",
        ]
        for _ in range(2):
            result = runner.invoke(cli.main, args, catch_exceptions=False)
            assert result.exit_code == 0, result.output
        queries = [q for _, path, q, _ in sb.request_log if path.endswith("/lastmodified")]
        assert len(queries) == 1
        assert "date=" in queries[0] and "includeComments=true" in queries[0]
        assert sb.request_count("statusmodified") == 0
        assert "First-response SLA compliance" in result.output
        assert jwt_key not in result.output


def test_an_unknown_api_shape_is_a_setting_error(
    runner: CliRunner, sandbox: AteraSandbox, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setenv("SOURCES__ATERA__API_KEY", TEST_API_KEY)
    monkeypatch.setenv("SOURCES__ATERA__API_SHAPE", "v2")
    result = runner.invoke(cli.main, ["run", "--base-url", sandbox.api_url, "--skip-models"])
    assert result.exit_code == 2
    assert "api_shape 'v2' is unknown" in result.output
    assert not Path("data").exists()  # nothing was created


def test_the_old_api_flavor_setting_is_accepted_with_a_deprecation_warning(
    runner: CliRunner,
    sandbox: AteraSandbox,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
):
    monkeypatch.setenv("SOURCES__ATERA__API_KEY", TEST_API_KEY)
    monkeypatch.setenv("SOURCES__ATERA__API_FLAVOR", "seed")
    args = ["run", "--base-url", sandbox.api_url, "--skip-models", "--duckdb", "wh.duckdb"]
    result = runner.invoke(cli.main, args)
    assert result.exit_code == 0, result.output
    assert "api_flavor 'seed' is deprecated: use 'contract'" in caplog.text


def test_version_is_the_installed_package_version(runner: CliRunner):
    from importlib.metadata import version

    result = runner.invoke(cli.main, ["--version"])
    assert result.exit_code == 0
    assert result.output.strip() == f"atera-sync, version {version('atera-sync')}"
