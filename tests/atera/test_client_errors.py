"""Client error handling and paging edge cases, with httpx.MockTransport."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest

from pipelines.atera.client import AteraClient, api_url_from, parse_retry_after
from pipelines.atera.errors import (
    ApiResponseError,
    AuthenticationError,
    ConfigurationError,
    NotFoundError,
    PagingError,
    PayloadError,
    RateLimitError,
    ServerError,
    TransportError,
)

KEY = "unit-key-77aa"


def client_for(handler: Callable[[httpx.Request], httpx.Response], **kwargs) -> AteraClient:
    options = {"max_attempts": 3, "backoff_initial_seconds": 0.001, "backoff_max_seconds": 0.01}
    options.update(kwargs)
    return AteraClient("https://atera.test", KEY, transport=httpx.MockTransport(handler), **options)


def page(items, page_no, total_pages, **extra):
    return {"items": items, "page": page_no, "totalPages": total_pages, **extra}


def test_base_url_gets_the_api_prefix_once():
    assert api_url_from("https://app.atera.com") == "https://app.atera.com/api/v3"
    assert api_url_from("http://127.0.0.1:8/api/v3/") == "http://127.0.0.1:8/api/v3"
    with pytest.raises(ConfigurationError, match="base_url"):
        api_url_from("app.atera.com")


def test_missing_key_is_a_configuration_error():
    with pytest.raises(ConfigurationError, match="SOURCES__ATERA__API_KEY"):
        AteraClient("https://atera.test", "")


@pytest.mark.parametrize("status", [401, 403])
def test_auth_errors_fail_at_once_and_never_show_the_key(status):
    calls = []

    def handler(request):
        calls.append(request)
        return httpx.Response(status, content=b"")

    with client_for(handler) as client, pytest.raises(AuthenticationError) as failure:
        client.get_json("/tickets")
    assert len(calls) == 1
    assert KEY not in str(failure.value)
    assert "api_key" in str(failure.value)


def test_5xx_is_retried_then_fails_with_a_clear_message():
    calls = []

    def handler(request):
        calls.append(request)
        return httpx.Response(503, json={"message": "maintenance"})

    with client_for(handler) as client, pytest.raises(ServerError, match="HTTP 503") as failure:
        client.get_json("/tickets")
    assert len(calls) == 3
    assert client.stats.retries == 2
    assert "maintenance" in str(failure.value)


def test_5xx_then_success_recovers():
    responses = iter([httpx.Response(500), httpx.Response(502), httpx.Response(200, json=[])])
    with client_for(lambda r: next(responses)) as client:
        assert client.get_json("/tickets") == []
        assert client.stats.retries == 2


def test_timeouts_are_retried_then_raise_transport_error():
    def handler(request):
        raise httpx.ReadTimeout("slow", request=request)

    with client_for(handler) as client, pytest.raises(TransportError, match="timed out"):
        client.get_json("/tickets")


def test_429_without_retry_after_backs_off_and_gives_up_eventually():
    calls = []

    def busy(request):
        calls.append(request)
        return httpx.Response(429)

    with (
        client_for(busy, rate_limit_patience_seconds=0.3) as client,
        pytest.raises(RateLimitError, match="rate_limit_per_minute"),
    ):
        client.get_json("/tickets")
    # 429s are the account's other traffic: retried beyond max_attempts, for the patience
    assert len(calls) > 3


def test_rate_limit_headers_pause_every_worker_until_the_reset():
    answers = iter(
        [
            httpx.Response(
                200, json=[], headers={"X-RateLimit-Remaining": "1", "X-RateLimit-Reset": "0.4"}
            ),
            httpx.Response(200, json=[], headers={"X-RateLimit-Remaining": "699"}),
        ]
    )
    import time

    with client_for(lambda r: next(answers), concurrency=2) as client:
        client.get_json("/tickets")
        started = time.monotonic()
        client.get_json("/tickets")
        assert time.monotonic() - started >= 0.35
        assert client.gate.pauses == 1


def test_retry_after_in_seconds_or_http_date():
    assert parse_retry_after("7") == 7.0
    assert parse_retry_after(None) is None
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0
    assert parse_retry_after("soon") is None


def test_404_and_400_are_not_retried():
    calls = []

    def handler(request):
        calls.append(request)
        if request.url.path.endswith("/comments"):
            return httpx.Response(404, json={"title": "Ticket not found", "status": 404})
        return httpx.Response(400, json={"message": "Invalid ticket ID"})

    with client_for(handler) as client:
        with pytest.raises(NotFoundError, match="Ticket not found"):
            client.get_comments(5)
        with pytest.raises(ApiResponseError, match="Invalid ticket ID"):
            client.get_json("/tickets/x")
    assert len(calls) == 2


def test_html_error_page_with_status_200_is_a_payload_error():
    html = b"<html><body>Service Unavailable</body></html>"
    handler = lambda r: httpx.Response(200, content=html, headers={"Content-Type": "text/html"})  # noqa: E731
    with client_for(handler) as client, pytest.raises(PayloadError, match="not JSON"):
        client.get_json("/tickets")


def test_missing_items_is_a_payload_error():
    with (
        client_for(lambda r: httpx.Response(200, json={"data": []})) as client,
        pytest.raises(PayloadError, match="'items'"),
    ):
        list(client.iter_tickets())


def test_paging_stops_on_total_pages_empty_page_or_missing_next_link():
    def total_pages(request):
        n = int(request.url.params["page"])
        return httpx.Response(200, json=page([{"TicketID": n}], n, 3))

    with client_for(total_pages) as client:
        assert [p[0]["TicketID"] for p in client.iter_tickets()] == [1, 2, 3]
        assert client.stats.calls == 3

    def empty_after_two(request):
        n = int(request.url.params["page"])
        return httpx.Response(200, json=page([{"TicketID": n}] if n <= 2 else [], n, 99))

    with client_for(empty_after_two) as client:
        assert len(list(client.iter_tickets())) == 2
        assert client.stats.calls == 3

    def next_link(request):
        n = int(request.url.params["page"])
        link = "https://atera.test/next" if n < 2 else None
        return httpx.Response(200, json=page([{"TicketID": n}], n, 99, nextLink=link))

    with client_for(next_link) as client:
        assert len(list(client.iter_tickets())) == 2


def test_a_server_that_repeats_a_page_cannot_loop_forever():
    def ignores_paging(request):
        return httpx.Response(200, json=page([{"TicketID": 1}, {"TicketID": 2}], 1, 5000))

    with client_for(ignores_paging) as client, pytest.raises(PagingError, match="repeats"):
        list(client.iter_tickets())
    assert client.stats.calls == 2


def test_items_alone_and_bare_lists_are_single_pages():
    with client_for(lambda r: httpx.Response(200, json={"items": [{"CommentID": 1}]})) as client:
        assert client.get_comments(9) == [{"CommentID": 1}]
        assert client.stats.calls == 1
    with client_for(lambda r: httpx.Response(200, json=[{"WorkHourID": 1}])) as client:
        assert client.get_work_hours(9) == [{"WorkHourID": 1}]


def test_map_concurrently_keeps_order_and_raises_the_first_error():
    with client_for(lambda r: httpx.Response(200, json=[])) as client:
        assert list(client.map_concurrently(lambda k: k * 2, range(1, 50))) == [
            (k, k * 2) for k in range(1, 50)
        ]

        def boom(k):
            if k == 7:
                raise ValueError("seven")
            return k

        with pytest.raises(ValueError, match="seven"):
            list(client.map_concurrently(boom, range(1, 100)))


def test_repr_never_shows_the_key():
    with client_for(lambda r: httpx.Response(200, json=[])) as client:
        assert KEY not in repr(client)


def test_auth_scheme_auto_sends_bearer_for_jwt_keys_and_x_api_key_otherwise():
    from pipelines.atera.client import choose_auth_scheme

    jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl"
    assert choose_auth_scheme("auto", jwt) == "bearer"
    assert choose_auth_scheme("auto", "0123456789abcdef") == "x-api-key"
    assert choose_auth_scheme("X-API-KEY", jwt) == "x-api-key"
    with pytest.raises(ConfigurationError, match="auth_scheme"):
        choose_auth_scheme("basic", jwt)

    seen = []

    def handler(request):
        seen.append((request.headers.get("Authorization"), request.headers.get("X-API-KEY")))
        return httpx.Response(200, json=[])

    with AteraClient("https://atera.test", jwt, transport=httpx.MockTransport(handler)) as c:
        c.get_json("/tickets")
    assert seen == [(f"Bearer {jwt}", None)]


def test_the_published_envelope_is_detected_and_followed_by_next_link():
    def handler(request):
        n = int(request.url.params["page"])
        return httpx.Response(
            200,
            json={
                "items": [{"TicketID": n}],
                "page": n,
                "itemsInPage": 1,
                "totalItemCount": 2,
                "totalPages": 2,
                "prevLink": None if n == 1 else "https://atera.test/p1",
                "nextLink": "" if n == 2 else "https://atera.test/p2",
            },
        )

    with client_for(handler) as client:
        pages = list(client.iter_ticket_pages())
        assert [p.items[0]["TicketID"] for p in pages] == [1, 2]
        assert [p.last for p in pages] == [False, True]
        assert "totalItemCount" in pages[0].envelope


def test_bulk_billable_duration_posts_the_ids():
    bodies = []

    def handler(request):
        bodies.append((request.method, request.url.path, request.content))
        return httpx.Response(200, json=[{"ticketId": 1, "TotalDurationHours": 1.5}])

    with client_for(handler) as client:
        assert client.get_billable_durations([1, 2]) == [{"ticketId": 1, "TotalDurationHours": 1.5}]
        with pytest.raises(ValueError):
            client.get_billable_durations(list(range(51)))
    assert bodies == [("POST", "/api/v3/tickets/billableduration", b"[1,2]")]


def test_the_client_never_exceeds_its_rate_limit():
    """Against a sandbox that answers 429 past 10 requests a second, a client limited to
    10 a second sends 35 requests with no 429 at all."""
    import time

    from pipelines.sandbox import AteraSandbox

    with AteraSandbox(api_key=KEY, tickets=5, rate_limit=10, rate_window_seconds=1.0) as sandbox:
        client = AteraClient(
            sandbox.api_url, KEY, rate_limit_per_minute=10, rate_window_seconds=1.0, concurrency=4
        )
        with client:
            started = time.monotonic()
            list(client.map_concurrently(lambda i: client.get_json("/tickets/10001"), range(35)))
            elapsed = time.monotonic() - started
        assert client.stats.statuses[429] == 0
        assert client.stats.calls == 35
        assert elapsed >= 3.0  # 35 requests at 10 per second need three full windows
