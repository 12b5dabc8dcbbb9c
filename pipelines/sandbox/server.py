"""HTTP layer of the Atera sandbox: a loopback server speaking Atera's ticket API.

Requests are authenticated, rate limited per key with a sliding window,
optionally answered by injected faults, and otherwise dispatched to the routes
of the sandbox's API shape (:mod:`pipelines.sandbox.routes`), which get a
narrow :class:`~pipelines.sandbox.routes.common.RouteContext`. What differs
between the shapes (Bearer keys, error bodies, timestamp fields) comes from the
shape's :class:`~pipelines.sandbox.routes.common.ShapeSpec`, so nothing here
tests which shape is served.
"""

from __future__ import annotations

import contextlib
import functools
import hmac
import json
import math
import re
import socket
import sys
import threading
import time
import warnings
from collections import deque
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from pipelines.sandbox.data import SandboxError, TicketStore, encode_json
from pipelines.sandbox.routes import SPECS
from pipelines.sandbox.routes.common import (
    API_PREFIX,
    DEFAULT_PAGE_SIZE,
    MAX_PAGE_SIZE,
    Request,
    Route,
    RouteContext,
    match_route,
    page_link,
)
from pipelines.sandbox.shapes import CONTRACT, normalize_api_shape
from pipelines.sandbox.sla_audit import add_sla_audit_tickets
from pipelines.sandbox.timestamps import ISO, normalize_timestamp_format, restamp

__all__ = [
    "API_PREFIX",
    "DEFAULT_PAGE_SIZE",
    "MAX_PAGE_SIZE",
    "AteraSandbox",
    "Fault",
    "RateLimiter",
    "Request",
]

#: What the server sends: (status, body, content type, headers); status 0 drops
#: the connection without an answer.
Answer = tuple[int, bytes, str, dict[str, str]]


@dataclass
class Fault:
    """A canned response that replaces the next matching requests."""

    pattern: re.Pattern[str]
    status: int
    times: int | None
    body: bytes
    content_type: str
    headers: dict[str, str]
    method: str | None
    delay_s: float

    def matches(self, method: str, path: str, query: str) -> bool:
        """Whether a request matches (the regex is searched in the path, then in path?query)."""
        if self.method is not None and self.method != method:
            return False
        return bool(self.pattern.search(path) or self.pattern.search(_target(path, query)))


class RateLimiter:
    """Sliding-window request limiter per API key, on the monotonic clock.

    Args:
        limit: Requests allowed per window; ``None`` disables limiting.
        window_seconds: Length of the window in seconds.
    """

    def __init__(self, limit: int | None, window_seconds: float) -> None:
        self.limit = limit
        self.window = window_seconds
        self._hits: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def acquire(self, key: str) -> int | None:
        """Count a request for ``key``.

        Returns:
            ``None`` when allowed, else the whole seconds (>= 1) until a slot frees.
            Rejected requests are not counted.
        """
        if self.limit is None:
            return None
        now = time.monotonic()
        with self._lock:
            hits = self._hits.setdefault(key, deque())
            while hits and hits[0] <= now - self.window:
                hits.popleft()
            if len(hits) < self.limit:
                hits.append(now)
                return None
            return max(1, math.ceil(hits[0] + self.window - now))

    def quota(self, key: str) -> dict[str, str]:
        """The ``X-RateLimit-*`` headers for ``key`` (Reset: seconds until a slot frees)."""
        if self.limit is None:
            return {}
        now = time.monotonic()
        with self._lock:
            hits = self._hits.get(key, deque())
            live = [hit for hit in hits if hit > now - self.window]
            reset = live[0] + self.window - now if live else 0.0
        return {
            "X-RateLimit-Limit": str(self.limit),
            "X-RateLimit-Remaining": str(max(0, self.limit - len(live))),
            "X-RateLimit-Reset": f"{max(0.0, reset):.3f}",
        }

    def message(self) -> str:
        """The 429 message, e.g. ``Rate limited: 700 requests per minute``."""
        per = "minute" if self.window == 60 else f"{self.window:g} seconds"
        return f"Rate limited: {self.limit} requests per {per}"


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, address: tuple[str, int], sandbox: AteraSandbox) -> None:
        self.sandbox = sandbox
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        super().__init__(address, _Handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._connections_lock:
            self._connections.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self._connections_lock:
            self._connections.discard(request)
        super().shutdown_request(request)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Stay quiet when a client hangs up (timeouts, stopped sandbox); report the rest."""
        if isinstance(sys.exc_info()[1], ConnectionError | TimeoutError):
            return
        super().handle_error(request, client_address)

    def close_connections(self) -> None:
        """Drop open keep-alive connections so their handler threads end."""
        with self._connections_lock:
            connections = list(self._connections)
        for conn in connections:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "AteraSandbox/1.0"
    sys_version = ""
    disable_nagle_algorithm = True
    wbufsize = 64 * 1024  # headers and body leave in one write
    timeout = 120  # idle keep-alive connections are dropped after this
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        """Silence the default per-request stderr logging."""

    def date_time_string(self, timestamp: float | None = None) -> str:
        """The ``Date`` header, taken from the sandbox clock."""
        return format_datetime(self.server.sandbox.now(), usegmt=True)

    def do_GET(self) -> None:  # noqa: N802
        self.server.sandbox._handle(self, "GET")

    def do_POST(self) -> None:  # noqa: N802
        self.server.sandbox._handle(self, "POST")

    def do_PUT(self) -> None:  # noqa: N802
        self.server.sandbox._handle(self, "PUT")

    def do_PATCH(self) -> None:  # noqa: N802
        self.server.sandbox._handle(self, "PATCH")

    def do_DELETE(self) -> None:  # noqa: N802
        self.server.sandbox._handle(self, "DELETE")

    def do_HEAD(self) -> None:  # noqa: N802
        self.server.sandbox._handle(self, "HEAD")

    def read_body(self) -> bytes:
        """Read the request body (Content-Length or chunked)."""
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            return self._read_chunked()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def _read_chunked(self) -> bytes:
        chunks: list[bytes] = []
        while True:
            size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
            if size == 0:
                while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                    pass
                return b"".join(chunks)
            chunks.append(self.rfile.read(size))
            self.rfile.readline()

    def respond(
        self,
        status: int,
        body: bytes,
        content_type: str = "application/json",
        headers: dict[str, str] | None = None,
        head_only: bool = False,
    ) -> None:
        """Send a complete response with Content-Length (keep-alive friendly).

        An empty ``content_type`` sends no Content-Type header.
        """
        self.send_response(status)
        if content_type:
            self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        if not head_only:
            self.wfile.write(body)


# --------------------------------------------------------------------------- sandbox


class AteraSandbox:
    """A real HTTP server on loopback that behaves like Atera's ticket API.

    Args:
        api_key: The key requests must carry: ``X-API-KEY`` (both API shapes) or
            ``Authorization: Bearer <key>`` (``published`` only).
        tickets: Number of seeded tickets.
        seed: Seed of the data generator (same seed + same now => same data).
        now: UTC instant the data is generated relative to; ``None`` = current time.
        rate_limit: Requests allowed per window per API key; ``None`` = unlimited.
        rate_window_seconds: Length of the sliding rate-limit window.
        latency_ms: Delay added to every request.
        child_envelope: ``"items"`` (comments/work hours answer ``{"items": [...]}``)
            or ``"paged"`` (full paging envelope honouring page/itemsInPage);
            ``contract`` shape only (``published`` lists are always paged).
        host: Interface to bind.
        port: Port to bind; 0 picks a free port.
        api_shape: ``"contract"`` (the ticket contract the project was specified
            from) or ``"published"`` (Atera's published OpenAPI v3), see
            :mod:`pipelines.sandbox.shapes`. Same data. The old names ``"seed"``
            and ``"v3"`` still work, with a :class:`DeprecationWarning`.
        retry_after_header: Send ``Retry-After`` with 429 answers (False: omit it).
        rate_limit_headers: Send ``X-RateLimit-Limit``, ``X-RateLimit-Remaining`` and
            ``X-RateLimit-Reset`` (seconds until a request is allowed again) with
            every answer, as Atera may.
        timestamp_format: How timestamps are written: ``"iso"`` (default, each
            shape's own), ``"iso7"``, ``"dotnet"`` or ``"dotnet-offset"``, see
            :mod:`pipelines.sandbox.timestamps`.
        sla_audit_tickets: Add the fixed tickets of :mod:`pipelines.sandbox.sla_audit`
            after the seeded ones (their ids: :attr:`sla_audit_ids`).
        dialect: Deprecated name of ``api_shape`` (a :class:`DeprecationWarning`).

    Raises:
        ValueError: On an unknown ``child_envelope``, API shape or timestamp
            format, or when ``dialect`` and ``api_shape`` disagree.
    """

    def __init__(
        self,
        api_key: str = "sandbox-key",
        tickets: int = 2847,
        seed: int = 42,
        now: datetime | None = None,
        rate_limit: int | None = 700,
        rate_window_seconds: float = 60.0,
        latency_ms: float = 0,
        child_envelope: str = "items",
        host: str = "127.0.0.1",
        port: int = 0,
        api_shape: str = CONTRACT,
        retry_after_header: bool = True,
        timestamp_format: str = ISO,
        *,
        sla_audit_tickets: bool = False,
        dialect: str | None = None,
        rate_limit_headers: bool = False,
    ) -> None:
        if child_envelope not in ("items", "paged"):
            raise ValueError("child_envelope must be 'items' or 'paged'")
        self._api_shape = _api_shape_argument(api_shape, dialect)
        self._timestamp_format = normalize_timestamp_format(timestamp_format)
        self._spec = SPECS[self._api_shape]
        self.retry_after_header = retry_after_header
        self.rate_limit_headers = rate_limit_headers
        self.api_key = api_key
        self.latency_ms = latency_ms
        self.child_envelope = child_envelope
        self.host = host
        self.port = port
        self.clock_offset = timedelta(0)
        self.store = TicketStore(tickets=tickets, seed=seed, now=now, clock=self.now)
        #: Scenario -> ticket id of the SLA-audit tickets (empty unless asked for).
        self.sla_audit_ids = add_sla_audit_tickets(self.store) if sla_audit_tickets else {}
        self.rate_limiter = RateLimiter(rate_limit, rate_window_seconds)
        self.request_log: list[tuple[str, str, str, int]] = []
        self._log_lock = threading.Lock()
        self._faults: list[Fault] = []
        self._faults_lock = threading.Lock()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def api_shape(self) -> str:
        """The API shape served: ``"contract"`` or ``"published"``."""
        return self._api_shape

    @property
    def dialect(self) -> str:
        """Deprecated alias of :attr:`api_shape` (same value: ``contract``/``published``)."""
        return self._api_shape

    @property
    def timestamp_format(self) -> str:
        """How timestamps are written (see :mod:`pipelines.sandbox.timestamps`)."""
        return self._timestamp_format

    # -- lifecycle ------------------------------------------------------------

    def start(self) -> AteraSandbox:
        """Bind the port and serve in a background thread.

        Returns:
            ``self``, with :attr:`base_url` available.
        """
        if self._server is not None:
            return self
        self._server = _Server((self.host, self.port), self)
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.02},
            name="atera-sandbox",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving, close the socket and drop open connections."""
        server, self._server = self._server, None
        if server is None:
            return
        server.shutdown()
        server.server_close()
        server.close_connections()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> AteraSandbox:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        """``http://HOST:PORT`` (no path)."""
        return f"http://{self.host}:{self.port}"

    @property
    def api_url(self) -> str:
        """``http://HOST:PORT/api/v3``."""
        return self.base_url + API_PREFIX

    # -- clock ----------------------------------------------------------------

    def now(self) -> datetime:
        """The sandbox clock: real UTC time plus :attr:`clock_offset`."""
        return datetime.now(UTC) + self.clock_offset

    def advance(self, seconds: float) -> None:
        """Move the sandbox clock forward by ``seconds``."""
        self.clock_offset += timedelta(seconds=seconds)

    # -- observation ------------------------------------------------------------

    def request_count(self, path_contains: str | None = None) -> int:
        """Count logged requests, optionally those whose path (or path?query) contains a string."""
        with self._log_lock:
            log = list(self.request_log)
        if path_contains is None:
            return len(log)
        return sum(1 for _, path, query, _ in log if path_contains in _target(path, query))

    def reset_request_log(self) -> None:
        """Forget all logged requests."""
        with self._log_lock:
            self.request_log.clear()

    def snapshot(self) -> dict[str, list[dict[str, Any]]]:
        """What the API would serve right now, in this sandbox's API shape and timestamp format.

        Contract: see :meth:`TicketStore.snapshot`. Published: see
        :func:`pipelines.sandbox.dtos.snapshot` (published shapes, plus ``TicketID``
        on comments, whose shape lacks it).
        """
        served = self._spec.snapshot(self.store)
        return restamp(served, self._spec.timestamp_fields, self._timestamp_format)

    # -- faults -----------------------------------------------------------------

    def inject_fault(
        self,
        path_regex: str,
        status: int = 500,
        times: int | None = 1,
        body: str | None = None,
        content_type: str = "application/json",
        headers: dict[str, str] | None = None,
        method: str | None = None,
        delay_s: float = 0.0,
    ) -> None:
        """Answer the next ``times`` matching requests with a canned response.

        Args:
            path_regex: Regex searched in the request path (e.g. ``/api/v3/tickets$``),
                and in ``path?query`` (e.g. ``page=3``).
            status: HTTP status to answer; ``0`` drops the connection without an
                answer (a connection reset, as the client sees it).
            times: How many requests to affect; ``None`` = all until :meth:`clear_faults`.
            body: Response body; default ``{"message": <reason phrase>}`` (contract)
                or a ProblemDetails (published, sent as ``application/problem+json``
                unless ``content_type`` is given).
            content_type: Content-Type of the response.
            headers: Extra response headers.
            method: Only match this HTTP method (any when ``None``).
            delay_s: Sleep before answering (slow responses, read timeouts).
        """
        if times is not None and times <= 0:
            return
        if body is not None:
            payload = body.encode()
        else:
            payload, default_type = self._spec.fault_body(status)
            if content_type == "application/json":  # the default: use the shape's own
                content_type = default_type
        fault = Fault(
            re.compile(path_regex),
            status,
            times,
            payload,
            content_type,
            dict(headers or {}),
            method.upper() if method else None,
            delay_s,
        )
        with self._faults_lock:
            self._faults.append(fault)

    def clear_faults(self) -> None:
        """Remove all injected faults."""
        with self._faults_lock:
            self._faults.clear()

    def _take_fault(self, method: str, path: str, query: str) -> Fault | None:
        with self._faults_lock:
            for fault in self._faults:
                if fault.matches(method, path, query):
                    if fault.times is not None:
                        fault.times -= 1
                        if fault.times <= 0:
                            self._faults.remove(fault)
                    return fault
        return None

    # -- request handling -------------------------------------------------------

    def _handle(self, handler: _Handler, method: str) -> None:
        """Serve one request: latency, auth, rate limit, faults, then the route."""
        parts = urlsplit(handler.path)
        path, query = parts.path, parts.query
        body = handler.read_body()
        if self.latency_ms:
            time.sleep(self.latency_ms / 1000)
        status, payload, content_type, headers = self._dispatch(handler, method, path, query, body)
        with self._log_lock:
            self.request_log.append((method, path, query, status))
        if status == 0:
            handler.close_connection = True
            with contextlib.suppress(OSError):
                handler.connection.shutdown(socket.SHUT_RDWR)
            return
        handler.respond(status, payload, content_type, headers, head_only=method == "HEAD")

    def _dispatch(
        self, handler: _Handler, method: str, path: str, query: str, body: bytes
    ) -> Answer:
        key = self._credential(handler)
        if key is None:
            return (401, *self._spec.unauthorized)
        retry_after = self.rate_limiter.acquire(key)
        quota = self.rate_limiter.quota(key) if self.rate_limit_headers else {}
        if retry_after is not None:
            headers = {"Retry-After": str(retry_after)} if self.retry_after_header else {}
            return (429, *self._spec.error(429, self.rate_limiter.message(), path), headers | quota)
        status, payload, content_type, headers = self._answer(method, path, query, body)
        return status, payload, content_type, headers | quota

    def _answer(self, method: str, path: str, query: str, body: bytes) -> Answer:
        """A fault or the route's answer to an authenticated, admitted request."""
        fault = self._take_fault(method, path, query)
        if fault is not None:
            if fault.delay_s:
                time.sleep(fault.delay_s)
            return fault.status, fault.body, fault.content_type, fault.headers
        methods, arg = match_route(self._spec.routes, path)
        if not methods:
            return (404, *self._spec.error(404, "Not found", path), {})
        route = methods.get(method)
        if route is None:
            allow = {"Allow": ", ".join(methods)}
            return (405, *self._spec.error(405, "Method not allowed", path), allow)
        request = Request(arg, parse_qs(query, keep_blank_values=True), body, path, query)
        return (*self._call(route, request), {})

    def _credential(self, handler: _Handler) -> str | None:
        """The API key a request carries if it is the right one, else None."""
        candidates = [handler.headers.get("X-API-KEY") or ""]
        if self._spec.accepts_bearer:
            scheme, _, token = (handler.headers.get("Authorization") or "").strip().partition(" ")
            if scheme.lower() == "bearer" and token.strip():
                candidates.append(token.strip())
        for key in candidates:
            if hmac.compare_digest(key.encode(), self.api_key.encode()):
                return key
        return None

    def _call(self, route: Route, request: Request) -> tuple[int, bytes, str]:
        """Run a route: (status, body, content type); errors in the API shape's form."""
        try:
            status, data = route(self._route_context(), request)
        except SandboxError as error:
            return (error.status, *self._spec.store_error(error, request))
        except Exception as error:  # a sandbox bug must not kill the connection
            return (500, *self._spec.error(500, f"Internal server error: {error}", request.path))
        if status == 204:
            return status, b"", ""
        return status, self._encode(data), "application/json"

    def _route_context(self) -> RouteContext:
        """All a route may use; built per request, so it follows the current settings."""
        return RouteContext(
            store=self.store,
            now=self.now,
            child_envelope=self.child_envelope,
            page_link=functools.partial(page_link, self.base_url),
        )

    def _encode(self, data: Any) -> bytes:
        """A route's payload as JSON, its timestamps in this sandbox's format."""
        if self._timestamp_format == ISO:  # as built (the fast paths' bytes included)
            return data if isinstance(data, bytes) else encode_json(data)
        if isinstance(data, bytes):
            data = json.loads(data)
        return encode_json(restamp(data, self._spec.timestamp_fields, self._timestamp_format))


def _api_shape_argument(api_shape: str, dialect: str | None) -> str:
    """The API shape of the constructor's ``api_shape`` and deprecated ``dialect``."""
    # stacklevel 4: warnings point at the code constructing the sandbox.
    shape = normalize_api_shape(api_shape, stacklevel=4)
    if dialect is None:
        return shape
    warnings.warn(
        "AteraSandbox(dialect=...) is deprecated: use api_shape=", DeprecationWarning, stacklevel=3
    )
    from_dialect = normalize_api_shape(dialect, stacklevel=4)
    if api_shape != CONTRACT and shape != from_dialect:
        raise ValueError(f"dialect={dialect!r} and api_shape={api_shape!r} disagree")
    return from_dialect


def _target(path: str, query: str) -> str:
    return f"{path}?{query}" if query else path
