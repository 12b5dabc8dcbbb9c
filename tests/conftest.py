"""Shared fixtures: a live Atera sandbox on loopback and settings that point at it."""

from __future__ import annotations

import os
import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest

from pipelines.atera.config import AteraConfiguration
from pipelines.sandbox import AteraSandbox
from tests.postgres_server import PostgresServer, PostgresUnavailable

TEST_API_KEY = "test-key-5f1e9c2b7a"

# Keep dlt offline and quiet in tests.
os.environ.setdefault("RUNTIME__DLTHUB_TELEMETRY", "false")


@pytest.fixture
def sandbox() -> Iterator[AteraSandbox]:
    """A small seeded sandbox (120 tickets) without a rate limit."""
    with AteraSandbox(api_key=TEST_API_KEY, tickets=120, seed=7, rate_limit=None) as server:
        yield server


def config_for(server: AteraSandbox, **overrides: object) -> AteraConfiguration:
    """Settings pointing at a sandbox, with fast retries."""
    config = AteraConfiguration()
    config.api_key = server.api_key
    config.base_url = server.api_url
    config.rate_limit_per_minute = 100_000
    config.max_attempts = 3
    config.backoff_initial_seconds = 0.01
    config.backoff_max_seconds = 0.2
    config.timeout_seconds = 5.0
    for name, value in overrides.items():
        setattr(config, name, value)
    return config


@pytest.fixture
def config(sandbox: AteraSandbox) -> AteraConfiguration:
    """Settings pointing at the `sandbox` fixture."""
    return config_for(sandbox)


@pytest.fixture(autouse=True)
def unpaced_requests(monkeypatch: pytest.MonkeyPatch) -> None:
    """Commands a test runs spend no budget pacing requests (the test sandboxes have no
    rate limit; at the default 350 a minute a 120-ticket sync waits a minute). Tests of
    the budget set their own, in the environment or in the configuration."""
    monkeypatch.setenv("SOURCES__ATERA__RATE_LIMIT_PER_MINUTE", "100000")


@pytest.fixture(scope="session", autouse=True)
def shared_dbt_work_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """One dbt work folder for the whole session, so dbt parses the project once.

    (A warehouse keeps its own folder beside it; the tests build many small ones.)
    """
    folder = tmp_path_factory.mktemp("dbt-work")
    saved = os.environ.get("ATERA_DBT_WORK_DIR")
    os.environ["ATERA_DBT_WORK_DIR"] = str(folder)
    yield folder
    if saved is None:
        os.environ.pop("ATERA_DBT_WORK_DIR", None)
    else:
        os.environ["ATERA_DBT_WORK_DIR"] = saved


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """A throwaway PostgreSQL server for this test session (one per xdist worker).

    Skipped, loudly, where PostgreSQL's server binaries are missing (`.ci/run` installs
    Debian's `postgresql` package).
    """
    try:
        server = PostgresServer().start()
    except PostgresUnavailable as exc:
        warnings.warn(f"PostgreSQL tests skipped: {exc}", stacklevel=1)
        pytest.skip(f"PostgreSQL is not available: {exc}")
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def postgres_dsn(postgres_server: PostgresServer, monkeypatch: pytest.MonkeyPatch) -> str:
    """A new empty database, set as dlt's postgres destination credentials."""
    dsn = postgres_server.dsn(postgres_server.create_database())
    monkeypatch.setenv("DESTINATION__POSTGRES__CREDENTIALS", dsn)
    return dsn
