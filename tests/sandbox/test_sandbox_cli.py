"""The sandbox's one command line, as ``atera-sync sandbox`` and ``python -m pipelines.sandbox``."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest
from click.testing import CliRunner

from pipelines.sandbox import cli as sandbox_cli
from tests.sandbox import API_KEY

OPTIONS = [
    "--host",
    "--port",
    "--tickets",
    "--seed",
    "--api-key",
    "--rate-limit",
    "--latency-ms",
    "--child-envelope",
    "--sla-audit-tickets",
    "--api-shape",
    "--timestamp-format",
]


@pytest.fixture()
def calls(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """The keyword arguments of every ``serve`` call the command makes (nothing is served)."""
    recorded: list[dict[str, Any]] = []
    monkeypatch.setattr(sandbox_cli, "serve", lambda **kw: recorded.append(kw))
    return recorded


def invoke(*args: str) -> Any:
    return CliRunner().invoke(sandbox_cli.sandbox_command, list(args), catch_exceptions=False)


def test_defaults(calls: list[dict[str, Any]]) -> None:
    assert invoke().exit_code == 0
    assert calls == [
        {
            "host": "127.0.0.1",
            "port": 8765,
            "tickets": 2847,
            "seed": 42,
            "api_key": "sandbox-key",
            "rate_limit": 700,
            "latency_ms": 0.0,
            "child_envelope": "items",
            "api_shape": "contract",
            "timestamp_format": "iso",
        }
    ]


def test_api_shape_and_timestamp_format_options(calls: list[dict[str, Any]]) -> None:
    args = ["--api-shape", "published", "--timestamp-format", "dotnet-offset"]
    assert invoke(*args, "--child-envelope", "paged").exit_code == 0
    assert calls[0]["api_shape"] == "published"
    assert calls[0]["timestamp_format"] == "dotnet-offset"
    assert calls[0]["child_envelope"] == "paged"
    assert invoke("--api-shape", "v3").exit_code == 2  # old names only via --dialect
    assert invoke("--timestamp-format", "unix").exit_code == 2
    assert invoke("--sla-audit-tickets").exit_code == 0
    assert calls[-1]["sla_audit_tickets"] is True


def test_deprecated_dialect_flag_still_works(calls: list[dict[str, Any]]) -> None:
    for dialect, shape in (("v3", "published"), ("seed", "contract")):
        result = invoke("--port", "1", "--dialect", dialect)
        assert result.exit_code == 0
        assert "--dialect is deprecated" in result.output
        assert f"--api-shape {shape}" in result.output
    assert [c["api_shape"] for c in calls] == ["published", "contract"]
    assert "dialect" not in calls[0]


def test_dialect_flag_is_hidden_and_must_agree_with_api_shape(calls: list[dict[str, Any]]) -> None:
    help_text = invoke("--help").output
    assert all(option in help_text for option in OPTIONS)
    assert "--dialect" not in help_text
    assert invoke("--dialect", "v3", "--api-shape", "published").exit_code == 0
    disagree = invoke("--dialect", "v3", "--api-shape", "contract")
    assert disagree.exit_code == 2 and "disagree" in disagree.output
    assert len(calls) == 1


def test_atera_sync_registers_the_same_command() -> None:
    from pipelines import cli

    assert cli.main.commands["sandbox"] is sandbox_cli.sandbox_command


def test_python_dash_m_runs_the_same_command() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "pipelines.sandbox", "--help"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert "python -m pipelines.sandbox" in result.stdout
    assert all(option in result.stdout for option in OPTIONS)


@contextmanager
def serving(**kwargs: Any) -> Iterator[tuple[list[str], str]]:
    """Run ``serve`` in a thread until the block ends: (printed lines, API URL)."""
    lines: list[str] = []
    stop = threading.Event()
    options = {"port": 0, "tickets": 10, "api_key": API_KEY, "echo": lines.append}
    thread = threading.Thread(
        target=sandbox_cli.serve, kwargs={**options, **kwargs, "stop_event": stop}
    )
    thread.start()
    try:
        deadline = time.monotonic() + 5
        while not any("API URL" in line for line in lines) and time.monotonic() < deadline:
            time.sleep(0.01)
        yield lines, next(line for line in lines if "API URL" in line).split()[-1]
    finally:
        stop.set()
        thread.join(timeout=5)
    assert not thread.is_alive()


def test_serve_published() -> None:
    with serving(api_shape="published", timestamp_format="dotnet") as (lines, api_url):
        assert "published API shape, dotnet timestamps" in lines[0]
        assert any("Authorization: Bearer" in line for line in lines)
        headers = {"Authorization": f"Bearer {API_KEY}"}
        body = httpx.get(f"{api_url}/tickets", headers=headers).json()
    assert body["totalItemCount"] == 10
    assert body["items"][0]["TicketCreatedDate"].startswith("/Date(")


def test_serve_with_the_sla_audit_tickets() -> None:
    with serving(sla_audit_tickets=True) as (lines, api_url):
        assert "serving 13 tickets" in lines[0]
        body = httpx.get(f"{api_url}/tickets", headers={"X-API-KEY": API_KEY}).json()
    assert body["totalItems"] == 13


def test_serve_accepts_the_deprecated_dialect_keyword() -> None:
    # The warning is raised before the API URL is printed, so it is caught here.
    with (
        pytest.warns(DeprecationWarning, match="api_shape"),
        serving(dialect="v3") as (
            lines,
            api_url,
        ),
    ):
        assert "published API shape" in lines[0]
        headers = {"Authorization": f"Bearer {API_KEY}"}
        assert httpx.get(f"{api_url}/tickets", headers=headers).json()["totalItemCount"] == 10
