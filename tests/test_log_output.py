"""Logs made for machines: whole lines in a log file, JSON for shippers, never the key.

The command runs as a scheduler runs it: a separate process whose stdout and
stderr go to a file, which is then read line by line.
"""

from __future__ import annotations

import json
import logging
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from pipelines.log_output import (
    JsonFormatter,
    PlainFormatter,
    SecretMaskingFilter,
    register_secret,
)
from pipelines.sandbox import AteraSandbox
from tests.conftest import TEST_API_KEY

ANSI = re.compile(r"\x1b\[")
BOX_DRAWING = re.compile(r"[\u2500-\u257f]")
JSON_KEYS = {"time", "level", "run_id", "stage", "message", "counts"}


def run_cli(tmp_path: Path, *args: str, key: str = TEST_API_KEY) -> tuple[int, list[str]]:
    """Run `atera-sync ARGS` with stdout and stderr to one file; return its lines."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SOURCES__ATERA__")}
    env |= {
        "SOURCES__ATERA__API_KEY": key,
        "SOURCES__ATERA__MAX_ATTEMPTS": "2",
        "SOURCES__ATERA__BACKOFF_INITIAL_SECONDS": "0.01",
        "SOURCES__ATERA__TIMEOUT_SECONDS": "5",
        "SOURCES__ATERA__RATE_LIMIT_PER_MINUTE": "100000",  # the sandbox has no limit
        "COLUMNS": "80",
    }
    log = tmp_path / "sync.log"
    with log.open("w") as out:
        completed = subprocess.run(
            [sys.executable, "-m", "pipelines.cli", *args],
            cwd=tmp_path,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            timeout=180,
        )
    return completed.returncode, log.read_text().splitlines()


def unreachable_url_with_the_key() -> str:
    """A long base URL that nothing answers, with the key in it (a pasted mistake)."""
    return (
        f"http://127.0.0.1:9/tenants/{TEST_API_KEY}/a-path-long-enough-to-pass-eighty-columns"
        "/and-then-some-more/api/v3"
    )


def test_a_long_error_stays_on_one_line_without_colour_or_the_key(tmp_path: Path) -> None:
    code, lines = run_cli(
        tmp_path,
        "run",
        "--base-url",
        unreachable_url_with_the_key(),
        "--duckdb",
        "wh/atera.duckdb",
        "--skip-models",
    )
    assert code == 1
    text = "\n".join(lines)
    assert TEST_API_KEY not in text
    errors = [line for line in lines if line.startswith("error: ")]
    assert len(errors) == 1, text
    # the whole request, URL and query, and the advice are on the error's one line
    assert "/a-path-long-enough-to-pass-eighty-columns/and-then-some-more/api/v3/" in (errors[0])
    assert "page=1&itemsInPage=50" in errors[0]
    assert errors[0].endswith("the next run starts from the last one that landed)")
    assert len(errors[0]) > 200
    retries = [line for line in lines if " WARNING client: retry " in line]
    assert retries and all("itemsInPage=50 failed" in line for line in retries), text
    assert not ANSI.search(text) and not BOX_DRAWING.search(text)


def test_json_logs_every_line_an_object_success_and_failure(
    tmp_path: Path, sandbox: AteraSandbox
) -> None:
    code, lines = run_cli(
        tmp_path,
        "-v",
        "--log-format",
        "json",
        "run",
        "--base-url",
        sandbox.base_url,
        "--duckdb",
        "wh/atera.duckdb",
    )
    assert code == 0, "\n".join(lines)
    records = [json.loads(line) for line in lines]
    assert all(set(r) >= JSON_KEYS for r in records)
    run_ids = {r["run_id"] for r in records}
    assert len(run_ids) == 1 and None not in run_ids
    summary = next(r for r in records if r["stage"] == "summary")
    assert summary["counts"]["tickets"] == 120
    assert summary["counts"]["api_calls"] > 0
    assert summary["watermark_after"]
    models = next(r for r in records if r["stage"] == "models" and r["counts"])
    assert models["counts"]["tests_passed"] > 0
    assert [p["ticket_priority"] for p in models["compliance_by_priority"]][:4] == [
        "Critical",
        "High",
        "Medium",
        "Low",
    ]
    assert any(r["logger"] == "httpx" for r in records)  # -v: the HTTP requests, as JSON
    assert TEST_API_KEY not in "\n".join(lines)

    # the option on `run` works as well, and a failure is JSON too
    code, lines = run_cli(
        tmp_path,
        "run",
        "--log-format",
        "json",
        "--base-url",
        unreachable_url_with_the_key(),
        "--duckdb",
        "wh2/atera.duckdb",
        "--skip-models",
    )
    assert code == 1
    records = [json.loads(line) for line in lines]
    assert all(set(r) >= JSON_KEYS for r in records)
    error = records[-1]
    assert error["level"] == "ERROR" and error["stage"] == "error"
    assert "itemsInPage=50 failed on all 2 attempts" in error["message"]
    assert TEST_API_KEY not in "\n".join(lines)


def test_the_key_is_masked_in_arguments_and_tracebacks() -> None:
    secret = "mask-me-7d3c1e0f"
    register_secret(secret)
    try:
        raise RuntimeError(f"GET /x?key={secret} failed")
    except RuntimeError:
        record = logging.getLogger("atera_sync.test").makeRecord(
            "atera_sync.test",
            logging.ERROR,
            __file__,
            1,
            "request %s failed",
            (f"https://h/{secret}",),
            sys.exc_info(),
        )
    SecretMaskingFilter().filter(record)
    for formatter in (PlainFormatter(), JsonFormatter()):
        line = formatter.format(record)
        assert secret not in line
        assert "***" in line
        assert "\n" not in line
    assert json.loads(JsonFormatter().format(record))["stage"] == "test"


@pytest.mark.parametrize("form", ["text", "json"])
def test_status_output_is_one_line_per_fact(tmp_path: Path, form: str) -> None:
    args = ["status", "--duckdb", "none.duckdb"] + (["--json"] if form == "json" else [])
    code, lines = run_cli(tmp_path, *args)
    assert code == 6
    assert len(lines) == 1
    if form == "json":
        assert json.loads(lines[0])["status"] == "missing"
