"""HTTP client for the Atera ticket API: auth, paging, rate limiting, retries, concurrency.

It knows HTTP and Atera's paths, nothing about syncs: which API shape the
server speaks and what its clock says are read by `pipelines.atera.plan` from
the pages the client returns (`Page.envelope`, `Page.server_time`).

One `AteraClient` is shared by every resource of a sync. It is thread-safe:
per-ticket calls run on a thread pool, and all of them go through one
sliding-window rate limiter (pyrate-limiter), so the whole sync never sends
more than the configured number of requests per minute.

Retries (tenacity) cover 429, 5xx and network errors with bounded
exponential backoff and jitter; a 429 waits for `Retry-After` when the
server sends one, and pauses every worker (`pipelines.atera.budget`): the
limit is the account's, shared with the MSP's other integrations, so a 429 is
retried for `rate_limit_patience_seconds` rather than `max_attempts` times.
401/403 fail at once: retrying a wrong key cannot help.
"""

from __future__ import annotations

import email.utils
import json
import logging
import threading
from collections import Counter, deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx
from pyrate_limiter import Duration, Limiter, Rate
from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception_type,
    wait_random_exponential,
)

from pipelines.atera import settings
from pipelines.atera.budget import RateGate
from pipelines.atera.errors import (
    API_KEY_HINT,
    ApiResponseError,
    AuthenticationError,
    ConfigurationError,
    NotFoundError,
    PagingError,
    PayloadError,
    RateLimitError,
    ServerError,
    TransportError,
    describe_request,
)

logger = logging.getLogger("atera_sync.client")


@dataclass
class ClientStats:
    """Counters of one sync's traffic; safe to update from several threads."""

    calls: int = 0
    retries: int = 0
    statuses: Counter[int] = field(default_factory=Counter)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def record_call(self, status: int | None) -> None:
        """Count one HTTP exchange (status None when the network failed)."""
        with self._lock:
            self.calls += 1
            if status is not None:
                self.statuses[status] += 1

    def record_retry(self) -> None:
        """Count one retry."""
        with self._lock:
            self.retries += 1


@dataclass
class Page:
    """One page of a listing.

    Attributes:
        number: the page number asked for.
        items: the page's records.
        last: True when no page follows it.
        envelope: the top-level keys of the answer (empty for a bare JSON list),
            which tell the API's shape apart.
        server_time: the server's clock when it answered (HTTP `Date`), if sent.
    """

    number: int
    items: list[dict]
    last: bool
    envelope: frozenset[str] = frozenset()
    server_time: datetime | None = None


@dataclass(frozen=True)
class Reply:
    """A decoded answer: its JSON body and the server's clock (HTTP `Date`)."""

    body: Any
    server_time: datetime | None


class _Retryable(Exception):
    """Internal: a failure worth another attempt; carries the error to raise at the end."""

    def __init__(
        self,
        error: Exception,
        reason: str,
        retry_after: float | None = None,
        rate_limited: bool = False,
    ) -> None:
        super().__init__(reason)
        self.error = error
        self.reason = reason
        self.retry_after = retry_after
        self.rate_limited = rate_limited


def api_url_from(base_url: str) -> str:
    """Return the API root for a base URL given with or without `/api/v3`.

    Args:
        base_url: for example `https://app.atera.com` or `http://127.0.0.1:8765/api/v3`.

    Raises:
        ConfigurationError: when the URL is not http(s).
    """
    url = base_url.strip().rstrip("/")
    if not url.startswith(("http://", "https://")):
        raise ConfigurationError(
            f"base_url {base_url!r} is not an http(s) URL: set [sources.atera] base_url "
            "or pass --base-url https://app.atera.com"
        )
    if not url.endswith(settings.API_PREFIX):
        url += settings.API_PREFIX
    return url


def choose_auth_scheme(scheme: str, api_key: str) -> str:
    """`x-api-key` or `bearer`; `auto` picks Bearer for JWT-shaped keys (Atera's newer keys).

    Raises:
        ConfigurationError: for an unknown scheme.
    """
    scheme = (scheme or "auto").strip().lower()
    if scheme == "auto":
        parts = api_key.split(".")
        looks_like_jwt = len(parts) == 3 and api_key.startswith("eyJ") and all(parts)
        return "bearer" if looks_like_jwt else "x-api-key"
    if scheme not in settings.AUTH_SCHEMES:
        raise ConfigurationError(
            f"[sources.atera] auth_scheme {scheme!r} is unknown: use auto, x-api-key or bearer"
        )
    return scheme


def auth_headers(scheme: str, api_key: str) -> dict[str, str]:
    """The header that carries the key for a scheme."""
    if scheme == "bearer":
        return {"Authorization": f"Bearer {api_key}"}
    return {"X-API-KEY": api_key}


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait from a `Retry-After` header (delta-seconds or HTTP date)."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


def parse_http_date(value: str | None) -> datetime | None:
    """Parse an HTTP `Date` header into an aware UTC datetime (None if absent or bad)."""
    if not value:
        return None
    try:
        parsed = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


class AteraClient:
    """Thread-safe client of the Atera v3 ticket API.

    Args:
        base_url: Atera's address, with or without `/api/v3`.
        api_key: the account's API key; sent as `X-API-KEY`, never logged.
        rate_limit_per_minute: most requests sent in any 60 seconds.
        concurrency: connections kept for parallel per-ticket calls.
        timeout_seconds: connect/read timeout of one request.
        max_attempts: tries per request on 429, 5xx and network errors.
        backoff_initial_seconds: first backoff step (doubles, with jitter).
        backoff_max_seconds: longest single wait between tries.
        page_size: itemsInPage for paged listings (Atera caps it at 50).
        auth_scheme: `x-api-key`, `bearer`, or `auto` (Bearer for JWT-shaped keys).
        transport: an httpx transport, for tests.
        rate_window_seconds: the window of the rate limit (a minute; shorter in tests).
        rate_limit_patience_seconds: how long one request keeps waiting and retrying
            while Atera answers 429 (the account is busy with other integrations'
            traffic); 429s do not count against `max_attempts`.
    """

    def __init__(
        self,
        base_url: str,
        api_key: str,
        *,
        rate_limit_per_minute: int = settings.RATE_LIMIT_PER_MINUTE,
        concurrency: int = settings.CONCURRENCY,
        timeout_seconds: float = settings.TIMEOUT_SECONDS,
        max_attempts: int = settings.MAX_ATTEMPTS,
        backoff_initial_seconds: float = settings.BACKOFF_INITIAL_SECONDS,
        backoff_max_seconds: float = settings.BACKOFF_MAX_SECONDS,
        page_size: int = settings.PAGE_SIZE,
        auth_scheme: str = "auto",
        transport: httpx.BaseTransport | None = None,
        rate_window_seconds: float = 60.0,
        rate_limit_patience_seconds: float = settings.RATE_LIMIT_PATIENCE_SECONDS,
    ) -> None:
        if not api_key:
            raise ConfigurationError(f"No Atera API key is configured: {API_KEY_HINT}.")
        if rate_limit_per_minute < 1:
            raise ConfigurationError("rate_limit_per_minute must be at least 1")
        self.api_url = api_url_from(base_url)
        self.page_size = max(1, min(page_size, settings.PAGE_SIZE))
        self.max_attempts = max(1, max_attempts)
        self.backoff_initial_seconds = backoff_initial_seconds
        self.backoff_max_seconds = backoff_max_seconds
        self.concurrency = max(1, concurrency)
        self.stats = ClientStats()
        self.auth_scheme = choose_auth_scheme(auth_scheme, api_key)
        self.rate_limit_patience_seconds = rate_limit_patience_seconds
        # a slightly longer window than the server's: requests that leave exactly a
        # window apart may arrive a little closer together
        window_ms = int(rate_window_seconds * settings.RATE_WINDOW_MARGIN * Duration.SECOND)
        self._limiter = Limiter(Rate(rate_limit_per_minute, window_ms))
        self.gate = RateGate(reserve=self.concurrency)
        self._pool = ThreadPoolExecutor(self.concurrency, thread_name_prefix="atera-http")
        self._http = httpx.Client(
            base_url=self.api_url,
            headers={
                **auth_headers(self.auth_scheme, api_key),
                "Accept": "application/json",
                "User-Agent": settings.USER_AGENT,
            },
            timeout=httpx.Timeout(timeout_seconds),
            limits=httpx.Limits(
                max_connections=self.concurrency + 2,
                max_keepalive_connections=self.concurrency + 2,
            ),
            transport=transport,
            follow_redirects=False,
        )

    def __enter__(self) -> AteraClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Stop the worker threads and close the connection pool."""
        self._pool.shutdown(wait=True, cancel_futures=True)
        self._http.close()

    def __repr__(self) -> str:  # never show the key
        return f"AteraClient(api_url={self.api_url!r})"

    # -- single requests -------------------------------------------------

    def get_json(self, path: str, params: dict[str, Any] | None = None) -> Any:
        """GET a path under the API root and return its decoded JSON body.

        Raises:
            AuthenticationError: on 401/403, at once.
            NotFoundError: on 404, at once.
            ApiResponseError: on another 4xx, at once.
            RateLimitError, ServerError, TransportError: when retries run out.
            PayloadError: when a 2xx body is not JSON.
        """
        return self.request_json("GET", path, params=params)

    def post_json(self, path: str, body: Any) -> Any:
        """POST a JSON body to a read-only query endpoint (safe to retry); see get_json."""
        return self.request_json("POST", path, body=body)

    def request_json(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        body: Any = None,
    ) -> Any:
        """Send one request with retries and return its decoded JSON body."""
        return self.request(method, path, params=params, body=body).body

    def request(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        body: Any = None,
    ) -> Reply:
        """Send one request with retries; return its decoded JSON body and server time."""
        retrying = Retrying(
            stop=self._stop,
            wait=self._wait,
            retry=retry_if_exception_type(_Retryable),
            before_sleep=self._before_sleep,
            reraise=True,
        )
        try:
            for attempt in retrying:
                with attempt:
                    return self._send_once(method, path, params, body)
        except _Retryable as exhausted:
            raise exhausted.error from None
        raise AssertionError("unreachable")  # pragma: no cover

    def _send_once(self, method: str, path: str, params: dict[str, Any] | None, body: Any) -> Reply:
        self.gate.wait()
        self._limiter.try_acquire("atera")
        request = self._http.build_request(
            method, path, params=params, json=body if method != "GET" else None
        )
        where = describe_request(request)
        try:
            response = self._http.send(request)
        except httpx.TimeoutException as exc:
            self.stats.record_call(None)
            raise _Retryable(
                TransportError(
                    f"{where} timed out ({type(exc).__name__}) on all {self.max_attempts} "
                    "attempts; check the network or raise [sources.atera] timeout_seconds",
                    request=request,
                ),
                f"{where} timed out",
            ) from None
        except httpx.TransportError as exc:
            self.stats.record_call(None)
            raise _Retryable(
                TransportError(
                    f"{where} failed on all {self.max_attempts} attempts: "
                    f"{type(exc).__name__}: {exc}; check the network and [sources.atera] base_url",
                    request=request,
                ),
                f"{where} failed: {type(exc).__name__}",
            ) from None
        self.stats.record_call(response.status_code)
        self.gate.observe(response.headers)
        decoded = self._decode(response, request, where)
        return Reply(decoded, parse_http_date(response.headers.get("Date")))

    def _decode(self, response: httpx.Response, request: httpx.Request, where: str) -> Any:
        status = response.status_code
        if status in (401, 403):
            raise AuthenticationError(
                f"Atera rejected the API key with HTTP {status} on {where}: {API_KEY_HINT} "
                "to a valid key with access to tickets",
                request=request,
                status_code=status,
            )
        if status == 404:
            raise NotFoundError(
                f"{where} answered 404 Not Found{_detail(response)}",
                request=request,
                status_code=status,
            )
        if status == 429:
            retry_after = parse_retry_after(response.headers.get("Retry-After"))
            raise _Retryable(
                RateLimitError(
                    f"{where} was still rate limited (HTTP 429) after "
                    f"{self.rate_limit_patience_seconds:g} s of retries: the account's other "
                    "integrations use its whole limit; lower [sources.atera] "
                    "rate_limit_per_minute or run later",
                    request=request,
                    status_code=status,
                ),
                f"{where} answered HTTP 429",
                retry_after=retry_after,
                rate_limited=True,
            )
        if status >= 500:
            raise _Retryable(
                ServerError(
                    f"{where} failed with HTTP {status} after {self.max_attempts} attempts"
                    f"{_detail(response)}; Atera is having trouble, run again later",
                    request=request,
                    status_code=status,
                ),
                f"{where} answered HTTP {status}",
            )
        if status >= 400:
            raise ApiResponseError(
                f"{where} was refused with HTTP {status}{_detail(response)}",
                request=request,
                status_code=status,
            )
        try:
            return response.json()
        except (json.JSONDecodeError, UnicodeDecodeError):
            # a maintenance page or a cut-off body is often gone a moment later: retry,
            # then fail with what was seen
            kind = response.headers.get("Content-Type", "unknown content type")
            raise _Retryable(
                PayloadError(
                    f"{where} answered HTTP {status} with a body that is not JSON ({kind}, "
                    f"starts {response.text[:60]!r}) on all {self.max_attempts} attempts; "
                    "check [sources.atera] base_url points at the Atera API",
                    request=request,
                    status_code=status,
                ),
                f"{where} answered HTTP {status} with a body that is not JSON",
            ) from None

    def _stop(self, state: RetryCallState) -> bool:
        """Give up after `max_attempts` failures, not counting 429s; on 429s, after the
        patience runs out."""
        exc = state.outcome.exception() if state.outcome else None
        if isinstance(exc, _Retryable) and exc.rate_limited:
            return (state.seconds_since_start or 0.0) >= self.rate_limit_patience_seconds
        failures = getattr(state, "failures", 0) + 1
        state.failures = failures  # type: ignore[attr-defined]
        return failures >= self.max_attempts

    def _wait(self, state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        if isinstance(exc, _Retryable) and exc.retry_after is not None:
            wait = min(exc.retry_after, self.backoff_max_seconds) + 0.05
        else:
            backoff = wait_random_exponential(
                multiplier=self.backoff_initial_seconds, max=self.backoff_max_seconds
            )
            wait = backoff(state)
        if isinstance(exc, _Retryable) and exc.rate_limited:
            # others are using the account's limit: every worker waits, not only this one
            self.gate.pause(wait)
        return wait

    def _before_sleep(self, state: RetryCallState) -> None:
        self.stats.record_retry()
        exc = state.outcome.exception() if state.outcome else None
        reason = exc.reason if isinstance(exc, _Retryable) else str(exc)
        wait = state.next_action.sleep if state.next_action else 0.0
        logger.warning("retry %d in %.1fs: %s", state.attempt_number, wait, reason)

    # -- concurrency ------------------------------------------------------

    def map_concurrently(
        self, fetch: Callable[[int], Any], keys: Iterable[int]
    ) -> Iterator[tuple[int, Any]]:
        """Call `fetch(key)` for every key on the worker threads; yield (key, result) in order.

        At most a few calls per worker are in flight, so memory stays flat on
        large accounts. An exception from `fetch` is raised when its key comes
        up; the calls still in flight are then cancelled.
        """
        keys_iter = iter(keys)
        window = self.concurrency * 4
        inflight: deque[tuple[int, Future]] = deque()

        def submit_next() -> None:
            key = next(keys_iter, None)
            if key is not None:
                inflight.append((key, self._pool.submit(fetch, key)))

        try:
            for _ in range(window):
                submit_next()
            while inflight:
                key, future = inflight.popleft()
                submit_next()
                yield key, future.result()
        finally:
            for _, future in inflight:
                future.cancel()

    # -- paged listings ---------------------------------------------------

    def paginate(self, path: str, params: dict[str, Any] | None = None) -> Iterator[list[dict]]:
        """Yield the items of every page of a listing (see iter_pages)."""
        for page in self.iter_pages(path, params):
            if page.items:
                yield page.items

    def iter_pages(
        self,
        path: str,
        params: dict[str, Any] | None = None,
        *,
        start_page: int = 1,
        max_pages: int | None = None,
    ) -> Iterator[Page]:
        """Yield the pages of a listing, from `start_page`, at most `max_pages` of them.

        Accepts the full envelope (`items`, `totalPages`, `page`, optional
        `nextLink`), `items` alone, or a bare JSON list. The last page is the one
        where `page >= totalPages`, or the one before an empty page, or one
        with a null/empty `nextLink`, whichever comes first; it is yielded with
        `last=True` (an empty page ends the listing as an empty last page). A page that
        repeats an earlier one raises PagingError instead of looping forever.
        """
        seen_pages: set[tuple] = set()
        number = start_page
        fetched = 0
        while number <= settings.MAX_PAGES:
            query = {**(params or {}), "page": number, "itemsInPage": self.page_size}
            reply = self.request("GET", path, params=query)
            items, total_pages, has_next = _envelope(reply.body, path)
            envelope = frozenset(reply.body) if isinstance(reply.body, dict) else frozenset()
            if not items:
                yield Page(number, [], True, envelope, reply.server_time)
                return
            signature = tuple(_identity(item) for item in items)
            if signature in seen_pages:
                raise PagingError(
                    f"GET {path} page {number} repeats an earlier page: the server ignores "
                    "paging, so the sync stopped rather than loop forever",
                )
            seen_pages.add(signature)
            last = total_pages is None or number >= total_pages or has_next is False
            yield Page(number, items, last, envelope, reply.server_time)
            fetched += 1
            if last or (max_pages is not None and fetched >= max_pages):
                return
            number += 1
        raise PagingError(f"GET {path} returned more than {settings.MAX_PAGES} pages")

    # -- endpoints --------------------------------------------------------

    def list_all(self, path: str) -> list[dict]:
        """Every item of a paged listing such as `/customers` or `/contracts` (see iter_pages)."""
        return _collect(self.paginate(path))

    def iter_tickets(self) -> Iterator[list[dict]]:
        """Every ticket of the account, page by page."""
        return self.paginate(settings.TICKETS_PATH)

    def iter_ticket_pages(
        self, start_page: int = 1, max_pages: int | None = None
    ) -> Iterator[Page]:
        """Pages of the ticket listing, for a full sync that commits in chunks."""
        return self.iter_pages(settings.TICKETS_PATH, start_page=start_page, max_pages=max_pages)

    def iter_modified_ticket_pages(
        self, modified_after: datetime, endpoint: str = "statusmodified"
    ) -> Iterator[Page]:
        """Tickets modified after an instant, page by page.

        Args:
            modified_after: the instant (sent in UTC).
            endpoint: `statusmodified` (`?modifiedAfter=`, the ticket contract) or
                `lastmodified` (`?date=`, Atera's published v3 API).
        """
        stamp = modified_after.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        if endpoint == "lastmodified":
            # without includeComments the published API nulls FirstComment and the
            # last-comment fields, which would overwrite what the full sync loaded
            params = {"date": stamp, "includeComments": "true"}
            return self.iter_pages(settings.LAST_MODIFIED_PATH, params)
        return self.iter_pages(settings.STATUS_MODIFIED_PATH, {"modifiedAfter": stamp})

    def get_comments(self, ticket_id: int) -> list[dict]:
        """All comments of one ticket."""
        return _collect(self.paginate(settings.COMMENTS_PATH.format(ticket_id=ticket_id)))

    def get_work_hours(self, ticket_id: int) -> list[dict]:
        """All work-hour records of one ticket."""
        return _collect(self.paginate(settings.WORK_HOURS_PATH.format(ticket_id=ticket_id)))

    def get_work_hours_records(self, ticket_id: int) -> list[dict]:
        """All work-hour records of one ticket, published v3 (`workhoursrecords`)."""
        path = settings.WORK_HOURS_RECORDS_PATH.format(ticket_id=ticket_id)
        return _collect(self.paginate(path))

    def iter_ticket_pages_in_status(self, status: str) -> Iterator[Page]:
        """Pages of the tickets in one status (`GET /tickets?ticketStatus=`).

        A server that ignores the filter answers with every ticket: the caller
        checks the statuses it gets.
        """
        return self.iter_pages(settings.TICKETS_PATH, {"ticketStatus": status})

    def iter_account_work_hours(
        self, started_after: datetime | None = None
    ) -> Iterator[list[dict]]:
        """Every work-hour record of the account, page by page (published v3).

        Args:
            started_after: only records that start at or after this instant
                (`startWorkhour`, sent in UTC).
        """
        # rates are left out by default here, but workhoursrecords always has them
        params = {"includeRates": "true"}
        if started_after is not None:
            params["startWorkhour"] = started_after.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        return self.paginate(settings.ACCOUNT_WORK_HOURS_PATH, params)

    def get_billable_durations(self, ticket_ids: list[int]) -> list[dict]:
        """Billable durations of up to 50 tickets in one call (published v3 bulk POST)."""
        if len(ticket_ids) > settings.BULK_BILLABLE_MAX_IDS:
            raise ValueError(f"at most {settings.BULK_BILLABLE_MAX_IDS} ids per call")
        body = self.post_json(settings.BULK_BILLABLE_DURATION_PATH, list(ticket_ids))
        if not isinstance(body, list):
            raise PayloadError(
                "POST /tickets/billableduration did not return a JSON array of durations"
            )
        return body

    def get_billable_duration(self, ticket_id: int) -> dict:
        """The billable duration summary of one ticket."""
        body = self.get_json(settings.BILLABLE_DURATION_PATH.format(ticket_id=ticket_id))
        if not isinstance(body, dict):
            raise PayloadError(
                f"GET /tickets/{ticket_id}/billableduration did not return a JSON object"
            )
        return body


def _collect(pages: Iterator[list[dict]]) -> list[dict]:
    return [item for page in pages for item in page]


def _envelope(body: Any, path: str) -> tuple[list[dict], int | None, bool | None]:
    """Split a listing body into (items, totalPages or None, has-next-link or None)."""
    if isinstance(body, list):
        return body, None, None
    if not isinstance(body, dict) or not isinstance(body.get("items"), list):
        raise PayloadError(
            f"GET {path} did not return a listing: expected a JSON object with an 'items' "
            f"list, got {type(body).__name__}"
            + (f" with keys {sorted(body)[:8]}" if isinstance(body, dict) else "")
        )
    total_pages = body.get("totalPages")
    total_pages = total_pages if isinstance(total_pages, int) else None
    has_next: bool | None = None
    if "nextLink" in body:
        has_next = bool(body.get("nextLink"))
    return body["items"], total_pages, has_next


def _identity(item: Any) -> str:
    """A page item's full content: two pages are the same page only if every item matches."""
    return json.dumps(item, sort_keys=True, default=str)


def _detail(response: httpx.Response) -> str:
    """A short, key-free excerpt of an error body (message or ProblemDetails title)."""
    try:
        body = response.json()
    except ValueError:
        return ""
    if isinstance(body, dict):
        for key in ("message", "Message", "detail", "title", "error"):
            if isinstance(body.get(key), str) and body[key]:
                return f": {body[key][:200]}"
    return ""
