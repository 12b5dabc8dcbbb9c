"""The request budget: a sync keeps to its share of the account's limit, beside other clients.

Atera's limit is per account. A sandbox with a shared one-second window (60
requests) stands in for the account; a second client, another integration of
the MSP, sends its own requests during the sync and counts the 429s it gets.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from pipelines import sync
from pipelines.atera.client import AteraClient
from pipelines.atera.config import AteraConfiguration
from pipelines.sandbox import AteraSandbox
from pipelines.sync import SyncResult, run_sync
from tests.conftest import TEST_API_KEY, config_for
from tests.test_sync_e2e import assert_warehouse_equals_sandbox

ACCOUNT_LIMIT = 60  # requests per window, every client of the account together
WINDOW = 1.0
OTHERS_PATH = "/api/v3/tickets/10001"  # a request the sync itself never sends


@pytest.fixture(autouse=True)
def one_second_windows(monkeypatch: pytest.MonkeyPatch) -> None:
    """The sync's client counts its budget per second, like the sandbox (a minute in use)."""

    def client(config: AteraConfiguration, base_url: str | None = None) -> AteraClient:
        return AteraClient(
            base_url or config.base_url,
            config.api_key or "",
            rate_limit_per_minute=config.rate_limit_per_minute,
            concurrency=config.concurrency,
            max_attempts=config.max_attempts,
            backoff_initial_seconds=config.backoff_initial_seconds,
            backoff_max_seconds=config.backoff_max_seconds,
            rate_window_seconds=WINDOW,
            rate_limit_patience_seconds=30,
        )

    monkeypatch.setattr(sync, "build_client", client)


@contextmanager
def another_integration(
    sandbox: AteraSandbox, per_second: int, burst: bool = False
) -> Iterator[list[int]]:
    """Another client of the same account sending `per_second` requests; yields its statuses.

    Spread evenly over each second, or (`burst`) all at the start of each second.
    """
    statuses: list[int] = []
    stop = threading.Event()

    def send() -> None:
        headers = {"X-API-KEY": sandbox.api_key}
        with httpx.Client(base_url=sandbox.base_url, headers=headers, timeout=5) as http:
            while not stop.is_set():
                second = time.monotonic() + WINDOW
                for _ in range(per_second):
                    statuses.append(http.get(OTHERS_PATH).status_code)
                    if not burst:
                        time.sleep(WINDOW / per_second)
                time.sleep(max(0.0, second - time.monotonic()))

    thread = threading.Thread(target=send, daemon=True)
    thread.start()
    try:
        yield statuses
    finally:
        stop.set()
        thread.join(timeout=5)


def sync_beside_another(
    tmp_path: Path, share: int, others_per_second: int, burst: bool = False
) -> tuple[SyncResult, list[int], int, AteraSandbox]:
    """A full sync with `share` requests a window beside another client; the sync's 429s."""
    with AteraSandbox(
        api_key=TEST_API_KEY,
        tickets=30,
        seed=4,
        rate_limit=ACCOUNT_LIMIT,
        rate_window_seconds=WINDOW,
    ) as sandbox:
        config = config_for(sandbox, rate_limit_per_minute=share, concurrency=4)
        with another_integration(sandbox, others_per_second, burst) as others:
            time.sleep(0.3)  # the other integration is already busy when the sync starts
            result = run_sync(config, tmp_path / "atera.duckdb")
        own_429 = sum(
            1 for _, path, _, status in sandbox.request_log if status == 429 and path != OTHERS_PATH
        )
        assert_warehouse_equals_sandbox(tmp_path / "atera.duckdb", sandbox)
    return result, others, own_429, sandbox


def test_a_sync_within_its_share_leaves_room_for_the_other_integrations(tmp_path: Path) -> None:
    result, others, own_429, sandbox = sync_beside_another(tmp_path, share=30, others_per_second=20)
    assert len(others) > 20
    print(f"share 30/60: the other client got {others.count(429)} 429s of {len(others)}")
    assert others.count(429) == 0  # the other integration never noticed the sync
    assert own_429 == 0
    served = sandbox.snapshot()
    account_pages = sum(-(-len(served[table]) // 50) for table in ("customers", "contracts"))
    assert result.api_calls == 1 + 3 * 30 + account_pages  # tickets, children, accounts


def test_a_sync_that_takes_the_whole_limit_gets_in_the_others_way(tmp_path: Path) -> None:
    """The same with the budget set to the account's whole limit: the test above can fail."""
    _, others, _, _ = sync_beside_another(tmp_path, share=ACCOUNT_LIMIT, others_per_second=20)
    print(f"share 60/60: the other client got {others.count(429)} 429s of {len(others)}")
    assert others.count(429) > 0


def test_when_others_use_more_the_sync_backs_off_and_finishes_anyway(tmp_path: Path) -> None:
    # the other integration takes 50 of the 60 at the start of every second: the sync's
    # share of 30 does not fit
    result, others, own_429, _ = sync_beside_another(
        tmp_path, share=30, others_per_second=50, burst=True
    )
    print(f"others take 50/60: the sync got {own_429} 429s and finished")
    assert own_429 > 0
    assert result.report.mode == "full"  # it landed, with max_attempts = 3
    assert result.retries >= own_429
