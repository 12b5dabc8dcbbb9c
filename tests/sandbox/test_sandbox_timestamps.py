"""Timestamp formats: every format, in both API shapes, over real HTTP, means the same instants."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import httpx
import pytest

from pipelines.sandbox import AteraSandbox
from pipelines.sandbox.timestamps import format_instant, restamp
from tests.sandbox import API_KEY, make_sandbox

TICKETS = 60
FORMATS = ["iso7", "dotnet", "dotnet-offset"]
#: What each format's timestamps look like on the wire.
PATTERNS = {
    "iso7": re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{7}$"),
    "dotnet": re.compile(r"^/Date\(\d+\)/$"),
    "dotnet-offset": re.compile(r"^/Date\(\d+\+0100\)/$"),
}
#: Anything that looks like a timestamp, in any format.
LOOKS_LIKE_TIMESTAMP = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d|/Date\(")
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
SINCE = "2025-02-01T00:00:00Z"
PATHS = {
    "contract": [
        "/tickets?itemsInPage=50",
        f"/tickets/statusmodified?modifiedAfter={SINCE}&itemsInPage=50",
        "/tickets/{tid}",
        "/tickets/{tid}/comments",
        "/tickets/{tid}/workhours",
        "/tickets/{tid}/billableduration",
        "/customers?itemsInPage=50",
        "/contracts?itemsInPage=50",
    ],
    "published": [
        "/tickets?itemsInPage=50",
        "/tickets/statusmodified?itemsInPage=50",
        f"/tickets/lastmodified?date={SINCE}&includeComments=true&itemsInPage=50",
        "/tickets/{tid}",
        "/tickets/{tid}/comments",
        "/tickets/{tid}/workhours",
        "/tickets/{tid}/workhoursrecords?includeRates=true",
        "/workhours?itemsInPage=50",
        "/customers?itemsInPage=50",
        "/contracts?itemsInPage=50",
    ],
}
_DOTNET = re.compile(r"/Date\((-?\d+)([+-]\d{4})?\)/")
_ISO = re.compile(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d{1,7}))?(Z|[+-]\d\d:?\d\d)?")


def decode(value: str) -> datetime:
    """The instant a timestamp means, in any of the formats Atera sends (no offset = UTC).

    Written independently of the sandbox, so the test does not check it against itself.
    """
    dotnet = _DOTNET.fullmatch(value)
    if dotnet:  # milliseconds since the epoch in UTC; the offset is only the sender's
        return EPOCH + timedelta(milliseconds=int(dotnet[1]))
    iso = _ISO.fullmatch(value)
    assert iso, f"not a timestamp: {value!r}"
    instant = datetime.fromisoformat(iso[1]).replace(tzinfo=UTC)
    micros = int((iso[2] or "0").ljust(7, "0")[:6])
    if iso[3] not in (None, "Z"):
        sign = 1 if iso[3][0] == "+" else -1
        hours, minutes = int(iso[3][1:3]), int(iso[3][-2:])
        instant -= sign * timedelta(hours=hours, minutes=minutes)
    return instant + timedelta(microseconds=micros)


def compare(iso: Any, other: Any, timestamp_format: str) -> int:
    """Assert two payloads are equal but for timestamps, which mean the same instants.

    Returns:
        How many timestamps were compared.
    """
    if isinstance(iso, dict):
        assert isinstance(other, dict) and list(iso) == list(other)
        links = ("prevLink", "nextLink")  # absolute URLs: the two sandboxes' ports differ
        return sum(
            compare(iso[key], other[key], timestamp_format) if key not in links else 0
            for key in iso
        )
    if isinstance(iso, list):
        assert isinstance(other, list) and len(iso) == len(other)
        return sum(compare(a, b, timestamp_format) for a, b in zip(iso, other, strict=True))
    if isinstance(iso, str) and LOOKS_LIKE_TIMESTAMP.match(iso):
        assert isinstance(other, str) and PATTERNS[timestamp_format].match(other), other
        assert decode(other) == decode(iso), (iso, other)
        return 1
    assert other == iso
    return 0


def strings(payload: Any) -> Iterator[str]:
    """Every string value of a payload, at any depth."""
    if isinstance(payload, dict):
        for value in payload.values():
            yield from strings(value)
    elif isinstance(payload, list):
        for value in payload:
            yield from strings(value)
    elif isinstance(payload, str):
        yield payload


def http_client(sb: AteraSandbox) -> httpx.Client:
    return httpx.Client(base_url=sb.api_url, headers={"X-API-KEY": API_KEY}, timeout=5.0)


@pytest.fixture(scope="module", params=["contract", "published"])
def api_shape(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture(scope="module")
def iso_sb(api_shape: str) -> Iterator[AteraSandbox]:
    with make_sandbox(tickets=TICKETS, api_shape=api_shape) as sb:
        yield sb


@pytest.fixture(scope="module")
def busy_ticket(iso_sb: AteraSandbox) -> int:
    """A resolved ticket with comments and work hours: every timestamp field is set."""
    store = iso_sb.store
    for ticket_id in store.ticket_ids():
        ticket = store.get_ticket(ticket_id)
        if ticket["TicketResolvedDate"] and ticket["FirstResponseDate"]:
            comments = store.comments(ticket_id)
            users = {c["CreatorContactID"] for c in comments} - set(store.technicians)
            if users and len(comments) >= 3 and store.work_hours(ticket_id):
                return ticket_id
    raise AssertionError("no seeded ticket is busy enough")


@pytest.mark.parametrize("timestamp_format", FORMATS)
def test_each_format_is_served_and_means_the_same_instants(
    api_shape: str, iso_sb: AteraSandbox, busy_ticket: int, timestamp_format: str
) -> None:
    formatted = make_sandbox(
        tickets=TICKETS, api_shape=api_shape, timestamp_format=timestamp_format
    )
    compared = 0
    with formatted, http_client(iso_sb) as iso_api, http_client(formatted) as api:
        for template in PATHS[api_shape]:
            path = template.format(tid=busy_ticket)
            expected, served = iso_api.get(path), api.get(path)
            assert served.status_code == expected.status_code == 200, (path, served.text)
            compared += compare(expected.json(), served.json(), timestamp_format)
            # nothing slips through in the shape's own format
            for value in strings(served.json()):
                if LOOKS_LIKE_TIMESTAMP.match(value):
                    assert PATTERNS[timestamp_format].match(value), (path, value)
    assert compared > 100


@pytest.mark.parametrize("timestamp_format", FORMATS)
def test_snapshot_uses_the_format_too(
    api_shape: str, iso_sb: AteraSandbox, timestamp_format: str
) -> None:
    formatted = AteraSandbox(
        tickets=TICKETS,
        seed=42,
        now=iso_sb.store.generated_at,
        api_shape=api_shape,
        timestamp_format=timestamp_format,
    )
    assert compare(iso_sb.snapshot(), formatted.snapshot(), timestamp_format) > 100


@pytest.mark.parametrize("timestamp_format", FORMATS)
def test_write_replies_use_the_format(timestamp_format: str) -> None:
    with (
        make_sandbox(tickets=5, timestamp_format=timestamp_format) as sb,
        http_client(sb) as api,
    ):
        comment = api.post("/tickets/10001/comments", json={"CommentText": "On it."}).json()
        ticket = api.post("/tickets/10002", json={"TicketTitle": "Renamed"}).json()
        now = sb.now()
    assert PATTERNS[timestamp_format].match(comment["CommentDate"])
    assert abs(decode(comment["CommentDate"]) - now) < timedelta(seconds=5)
    assert PATTERNS[timestamp_format].match(ticket["LastActivityDate"])
    assert abs(decode(ticket["LastActivityDate"]) - now) < timedelta(seconds=5)


def test_unknown_format_is_rejected() -> None:
    with pytest.raises(ValueError, match="iso, iso7, dotnet, dotnet-offset"):
        AteraSandbox(tickets=1, timestamp_format="unix")
    assert AteraSandbox(tickets=1).timestamp_format == "iso"


def test_formats_of_one_instant() -> None:
    instant = datetime(2026, 5, 30, 10, 0, 0, 123456, tzinfo=timezone(timedelta(hours=1)))
    assert format_instant(instant, "iso7") == "2026-05-30T09:00:00.1234560"
    assert format_instant(instant, "dotnet") == "/Date(1780131600123)/"
    assert format_instant(instant, "dotnet-offset") == "/Date(1780131600123+0100)/"
    assert decode("/Date(1780130400000+0100)/") == decode("/Date(1780130400000)/")
    assert decode("2026-05-30T09:00:00.1234567") == instant


def test_restamp_leaves_iso_and_nulls_alone() -> None:
    payload = {"items": [{"DueDate": "2026-05-30T09:00:00Z", "ResolvedDate": None}]}
    assert restamp(payload, {"DueDate"}, "iso") is payload
    fields = {"DueDate", "ResolvedDate"}
    assert restamp(payload, fields, "dotnet") == {
        "items": [{"DueDate": "/Date(1780131600000)/", "ResolvedDate": None}]
    }
