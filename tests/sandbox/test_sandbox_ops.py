"""Operational behaviour: rate limit, clock, faults, request log, envelopes, CLI."""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime

import httpx
import pytest
from click.testing import CliRunner

from pipelines.sandbox import AteraSandbox
from pipelines.sandbox import cli as sandbox_cli
from tests.sandbox import API_KEY, client, make_sandbox


@pytest.fixture()
def sb() -> Iterator[AteraSandbox]:
    sandbox = make_sandbox(tickets=80)
    yield sandbox
    sandbox.stop()


@pytest.fixture()
def api(sb: AteraSandbox) -> Iterator[httpx.Client]:
    with client(sb) as c:
        yield c


# --------------------------------------------------------------------------- rate limit


def test_rate_limit_sliding_window() -> None:
    with make_sandbox(tickets=20, rate_limit=5, rate_window_seconds=2) as sb, client(sb) as api:
        with client(sb, api_key="wrong") as anon:
            assert [anon.get("/tickets").status_code for _ in range(3)] == [401] * 3
        assert [api.get("/tickets/10001").status_code for _ in range(5)] == [200] * 5
        limited = api.get("/tickets/10001")
        assert limited.status_code == 429
        assert limited.json() == {"message": "Rate limited: 5 requests per 2 seconds"}
        retry_after = int(limited.headers["Retry-After"])
        assert 1 <= retry_after <= 2
        assert api.get("/tickets").status_code == 429  # rejected requests do not count
        time.sleep(retry_after + 0.05)
        assert api.get("/tickets/10001").status_code == 200


def test_rate_limit_message_per_minute() -> None:
    with make_sandbox(tickets=5, rate_limit=1) as sb, client(sb) as api:
        assert api.get("/tickets").status_code == 200
        limited = api.get("/tickets")
        assert limited.status_code == 429
        assert limited.json() == {"message": "Rate limited: 1 requests per minute"}
        assert 55 <= int(limited.headers["Retry-After"]) <= 60


def test_default_rate_limit_is_700_per_minute() -> None:
    sb = AteraSandbox(tickets=5)
    assert sb.rate_limiter.limit == 700
    assert sb.rate_limiter.window == 60.0


# --------------------------------------------------------------------------- clock


def _date(response: httpx.Response) -> datetime:
    return parsedate_to_datetime(response.headers["Date"])


def test_date_header_follows_sandbox_clock(sb: AteraSandbox, api: httpx.Client) -> None:
    real = datetime.now(UTC)
    assert abs((_date(api.get("/tickets/10001")) - real).total_seconds()) < 5
    sb.clock_offset = timedelta(hours=-7)
    assert abs((_date(api.get("/tickets/10001")) - (real - timedelta(hours=7))).total_seconds()) < 5
    sb.advance(9 * 3600)
    assert abs((_date(api.get("/nope")) - (real + timedelta(hours=2))).total_seconds()) < 5
    assert abs((sb.now() - (real + timedelta(hours=2))).total_seconds()) < 5
    with client(sb, api_key=None) as anon:
        assert abs((_date(anon.get("/tickets")) - sb.now()).total_seconds()) < 5


# --------------------------------------------------------------------------- faults


def test_fault_applies_given_times_then_clears(sb: AteraSandbox, api: httpx.Client) -> None:
    sb.inject_fault(r"/tickets/10001$", status=503, times=2)
    assert api.get("/tickets/10002").status_code == 200
    assert api.get("/tickets/10001/comments").status_code == 200
    assert [api.get("/tickets/10001").status_code for _ in range(3)] == [503, 503, 200]


def test_fault_is_after_auth(sb: AteraSandbox, api: httpx.Client) -> None:
    sb.inject_fault(r"/tickets/10001$", status=500)
    with client(sb, api_key=None) as anon:
        assert anon.get("/tickets/10001").status_code == 401
    response = api.get("/tickets/10001")
    assert response.status_code == 500
    assert response.json() == {"message": "Internal Server Error"}


def test_persistent_fault_until_cleared(sb: AteraSandbox, api: httpx.Client) -> None:
    sb.inject_fault(r"/workhours", status=502, times=None)
    assert [api.get(f"/tickets/{t}/workhours").status_code for t in (10001, 10002, 10003)] == [
        502
    ] * 3
    sb.clear_faults()
    assert api.get("/tickets/10001/workhours").status_code == 200


def test_fault_body_headers_method_and_query(sb: AteraSandbox, api: httpx.Client) -> None:
    sb.inject_fault(
        r"/tickets$",
        status=429,
        body="<html>slow down</html>",
        content_type="text/html",
        headers={"Retry-After": "7"},
        method="POST",
    )
    assert api.get("/tickets").status_code == 200
    response = api.post("/tickets", json={"TicketTitle": "x"})
    assert response.status_code == 429
    assert response.text == "<html>slow down</html>"
    assert response.headers["Content-Type"] == "text/html"
    assert response.headers["Retry-After"] == "7"
    sb.inject_fault(r"page=2\b", status=500)
    assert api.get("/tickets", params={"page": 1}).status_code == 200
    assert api.get("/tickets", params={"page": 2}).status_code == 500
    assert api.get("/tickets", params={"page": 2}).status_code == 200


def test_fault_delay_causes_read_timeout(sb: AteraSandbox) -> None:
    sb.inject_fault(r"/tickets/10001$", status=200, body="{}", delay_s=0.6)
    with client(sb, timeout=0.2) as impatient, pytest.raises(httpx.ReadTimeout):
        impatient.get("/tickets/10001")
    with client(sb) as api:
        assert api.get("/tickets/10001").json()["TicketID"] == 10001


# --------------------------------------------------------------------------- observation


def test_request_log_and_count(sb: AteraSandbox, api: httpx.Client) -> None:
    sb.reset_request_log()
    api.get("/tickets", params={"page": 2})
    api.get("/tickets/10001/comments")
    api.get("/tickets/99999")
    with client(sb, api_key=None) as anon:
        anon.get("/tickets/10001")
    assert sb.request_log == [
        ("GET", "/api/v3/tickets", "page=2", 200),
        ("GET", "/api/v3/tickets/10001/comments", "", 200),
        ("GET", "/api/v3/tickets/99999", "", 404),
        ("GET", "/api/v3/tickets/10001", "", 401),
    ]
    assert sb.request_count() == 4
    assert sb.request_count("/comments") == 1
    assert sb.request_count("/tickets/10001") == 2
    assert sb.request_count("page=2") == 1
    sb.reset_request_log()
    assert sb.request_count() == 0


def test_request_log_is_complete_under_concurrency(sb: AteraSandbox) -> None:
    sb.reset_request_log()

    def worker() -> None:
        with client(sb) as c:
            for _ in range(25):
                c.get("/tickets/10001")

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sb.request_count("/tickets/10001") == 200


def test_latency_is_added() -> None:
    with make_sandbox(tickets=5, latency_ms=150) as sb, client(sb) as api:
        started = time.perf_counter()
        api.get("/tickets/10001")
        assert time.perf_counter() - started >= 0.15


# --------------------------------------------------------------------------- store hooks


def test_store_work_hours_and_delete_show_in_api(sb: AteraSandbox, api: httpx.Client) -> None:
    before = api.get("/tickets/10004/billableduration").json()["TotalBillableDuration"]
    start = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)
    record = sb.store.add_work_hours(10004, 1002, start, start + timedelta(minutes=90), True, "x")
    sb.store.add_work_hours(10004, 1002, start, start + timedelta(minutes=30), False)
    assert record["Duration"] == 5400 and record["StartDate"] == "2025-03-01T09:00:00Z"
    after = api.get("/tickets/10004/billableduration").json()
    assert after["TotalBillableDuration"] == before + 5400
    assert after["TotalBillableHours"] == round((before + 5400) / 3600, 2)
    assert record in api.get("/tickets/10004/workhours").json()["items"]

    sb.store.delete_ticket(10004)
    assert api.get("/tickets/10004").status_code == 404
    assert api.get("/tickets").json()["totalItems"] == 79
    assert all(c["TicketID"] != 10004 for c in sb.snapshot()["comments"])


# --------------------------------------------------------------------------- envelopes


def test_paged_child_envelope() -> None:
    with make_sandbox(tickets=80, child_envelope="paged") as sb, client(sb) as api:
        snap = sb.snapshot()
        tid = next(
            t["TicketID"]
            for t in snap["tickets"]
            if sum(c["TicketID"] == t["TicketID"] for c in snap["comments"]) >= 3
        )
        everything = api.get(f"/tickets/{tid}/comments", params={"itemsInPage": 50}).json()
        total = everything["totalItems"]
        assert set(everything) == {"items", "totalItems", "page", "itemsInPage", "totalPages"}
        assert len(everything["items"]) == total >= 3
        page_2 = api.get(f"/tickets/{tid}/comments", params={"page": 2, "itemsInPage": 2}).json()
        assert page_2["page"] == 2 and page_2["itemsInPage"] == 2
        assert page_2["totalPages"] == math.ceil(total / 2)
        assert page_2["items"] == everything["items"][2:4]
        work = api.get(f"/tickets/{tid}/workhours").json()
        assert work["itemsInPage"] == 20 and work["page"] == 1
        assert api.get(f"/tickets/{tid}/comments", params={"page": "x"}).status_code == 400


def test_invalid_child_envelope_is_rejected() -> None:
    with pytest.raises(ValueError):
        AteraSandbox(tickets=1, child_envelope="nested")


# --------------------------------------------------------------------------- lifecycle & CLI


def test_stop_closes_keep_alive_connections() -> None:
    sb = make_sandbox(tickets=5)
    with client(sb) as api:
        assert api.get("/tickets/10001").status_code == 200
        sb.stop()
        with pytest.raises(httpx.TransportError):
            api.get("/tickets/10001")
    sb.stop()  # idempotent


def test_serve_prints_url_and_key_and_stops() -> None:
    lines: list[str] = []
    stop = threading.Event()
    thread = threading.Thread(
        target=sandbox_cli.serve,
        kwargs={
            "port": 0,
            "tickets": 10,
            "api_key": API_KEY,
            "echo": lines.append,
            "stop_event": stop,
        },
    )
    thread.start()
    try:
        deadline = time.monotonic() + 5
        while not any("API URL" in line for line in lines) and time.monotonic() < deadline:
            time.sleep(0.01)
        api_url = next(line for line in lines if "API URL" in line).split()[-1]
        assert any(API_KEY in line for line in lines)
        response = httpx.get(f"{api_url}/tickets", headers={"X-API-KEY": API_KEY})
        assert response.json()["totalItems"] == 10
    finally:
        stop.set()
        thread.join(timeout=5)
    assert not thread.is_alive()


def test_command_parses_arguments(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[dict[str, object]] = []
    monkeypatch.setattr(sandbox_cli, "serve", lambda **kw: calls.append(kw))
    runner = CliRunner()
    args = ["--port", "9999", "--tickets", "12", "--api-key", "k"]
    assert runner.invoke(sandbox_cli.sandbox_command, args).exit_code == 0
    assert calls[0]["port"] == 9999 and calls[0]["tickets"] == 12 and calls[0]["api_key"] == "k"
    assert calls[0]["host"] == "127.0.0.1" and calls[0]["seed"] == 42
    assert calls[0]["rate_limit"] == 700 and calls[0]["latency_ms"] == 0
    args = ["--port", "1", "--rate-limit", "0", "--latency-ms", "25", "--seed", "7"]
    assert runner.invoke(sandbox_cli.sandbox_command, args).exit_code == 0
    assert calls[1]["rate_limit"] == 0 and calls[1]["latency_ms"] == 25 and calls[1]["seed"] == 7
