"""Shared fixtures: a live Atera sandbox on loopback and settings that point at it."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from pipelines.atera.config import AteraConfiguration
from pipelines.sandbox import AteraSandbox

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
