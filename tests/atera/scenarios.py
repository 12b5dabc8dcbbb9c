"""Client scenarios shared by the cassette recorder and the replay tests.

Each scenario takes a client and returns what it observed. `make cassettes`
runs them against the live sandbox and records the traffic; the tests replay
the recordings offline and assert on the results.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import vcr

from pipelines.atera.client import AteraClient, Page

CASSETTES = Path(__file__).resolve().parent.parent / "cassettes"
RECORDING_KEY = "recording-key-8d2f61"
REPLAY_BASE_URL = "http://127.0.0.1:9/api/v3"  # never contacted: replay only
MODIFIED_AFTER = datetime(2026, 11, 20, 8, 30, tzinfo=UTC)


def cassette_vcr(record_mode: str) -> vcr.VCR:
    """vcrpy set up so that recordings never hold the API key and replay ignores the host."""
    return vcr.VCR(
        cassette_library_dir=str(CASSETTES),
        record_mode=record_mode,
        match_on=["method", "path", "query"],
        filter_headers=[("X-API-KEY", "REDACTED"), ("Authorization", "REDACTED")],
        decode_compressed_response=True,
    )


def list_all_tickets(client: AteraClient) -> list[list[dict]]:
    """Every page of GET /tickets."""
    return list(client.iter_tickets())


def modified_tickets(client: AteraClient) -> list[Page]:
    """Pages of statusmodified after a fixed instant."""
    return list(client.iter_modified_ticket_pages(MODIFIED_AFTER))


def ticket_children(client: AteraClient) -> dict[str, Any]:
    """Comments, work hours and billable duration of the first ticket."""
    first = next(iter(client.iter_tickets()))[0]["TicketID"]
    return {
        "ticket_id": first,
        "comments": client.get_comments(first),
        "work_hours": client.get_work_hours(first),
        "billable": client.get_billable_duration(first),
    }


def rate_limited_burst(client: AteraClient) -> list[dict]:
    """Six quick ticket reads against a server allowing three per window: one 429 at least."""
    first_page = next(iter(client.iter_tickets()))
    return [client.get_json(f"/tickets/{t['TicketID']}") for t in first_page[:6]]


SCENARIOS: dict[str, Callable[[AteraClient], Any]] = {
    "list_all_tickets": list_all_tickets,
    "modified_tickets": modified_tickets,
    "ticket_children": ticket_children,
    "rate_limited_burst": rate_limited_burst,
}
