"""Client behaviour replayed from cassettes recorded against the sandbox (`make cassettes`)."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipelines.atera.client import AteraClient
from tests.atera.scenarios import (
    CASSETTES,
    REPLAY_BASE_URL,
    SCENARIOS,
    cassette_vcr,
    list_all_tickets,
    modified_tickets,
    rate_limited_burst,
    ticket_children,
)

REPLAY_KEY = "replay-key-3c9e"


@pytest.fixture
def replay():
    player = cassette_vcr("none")

    def play(name: str):
        return player.use_cassette(f"{name}.yaml")

    return play


@pytest.fixture
def client():
    with AteraClient(
        REPLAY_BASE_URL, REPLAY_KEY, max_attempts=4, backoff_initial_seconds=0.01
    ) as c:
        yield c


def test_paging_walks_every_page_of_the_seed_envelope(replay, client):
    with replay("list_all_tickets") as cassette:
        pages = list_all_tickets(client)
    assert [len(p) for p in pages] == [50, 25]
    ids = [t["TicketID"] for page in pages for t in page]
    assert len(ids) == len(set(ids)) == 75
    assert client.stats.calls == 2
    queries = [r.query for r in cassette.requests]
    assert queries == [
        [("itemsInPage", "50"), ("page", "1")],
        [("itemsInPage", "50"), ("page", "2")],
    ]


def test_every_request_carries_the_key_header_and_the_cassette_does_not(replay, client):
    sent: list[str | None] = []
    client._http.event_hooks["request"].append(lambda r: sent.append(r.headers.get("X-API-KEY")))
    with replay("list_all_tickets"):
        list_all_tickets(client)
    assert sent == [REPLAY_KEY, REPLAY_KEY]
    for path in Path(CASSETTES).glob("*.yaml"):
        text = path.read_text()
        assert "recording-key" not in text
        assert "REDACTED" in text


def test_statusmodified_sends_modified_after_in_utc(replay, client):
    with replay("modified_tickets") as cassette:
        pages = modified_tickets(client)
    request = cassette.requests[0]
    assert request.path == "/api/v3/tickets/statusmodified"
    assert ("modifiedAfter", "2026-11-20T08:30:00Z") in request.query
    assert [t["TicketID"] for t in pages[0].items] == [10003, 10075]
    # each page carries the server's clock (the plan takes the watermark from it)
    # and its envelope (the plan tells the API's shape from it)
    assert pages[0].server_time is not None
    assert pages[0].server_time.isoformat() == "2026-11-20T12:00:00+00:00"
    assert "totalItems" in pages[0].envelope


def test_child_endpoints_answer_items_alone(replay, client):
    with replay("ticket_children"):
        children = ticket_children(client)
    assert children["comments"], "the first sandbox ticket has comments"
    assert {c["TicketID"] for c in children["comments"]} == {children["ticket_id"]}
    billable = sum(w["Duration"] for w in children["work_hours"] if w["IsBillable"])
    assert children["billable"]["TotalBillableDuration"] == billable


def test_a_429_waits_for_retry_after_and_retries(replay, client):
    with replay("rate_limited_burst") as cassette:
        tickets = rate_limited_burst(client)
    assert len(tickets) == 6
    statuses = [r["status"]["code"] for r in cassette.responses]
    assert 429 in statuses
    assert client.stats.retries == statuses.count(429)
    assert client.stats.statuses[429] == statuses.count(429)


def test_every_scenario_has_a_cassette():
    for name in SCENARIOS:
        assert (Path(CASSETTES) / f"{name}.yaml").exists(), f"run `make cassettes` for {name}"
