"""HTTP layer of the Atera sandbox: a loopback server speaking the ticket API v3.

Requests are authenticated with ``X-API-KEY``, rate limited per key with a
sliding window, optionally answered by injected faults, and otherwise routed
to the :class:`~pipelines.sandbox.data.TicketStore`.
"""

from __future__ import annotations

import contextlib
import hmac
import json
import math
import re
import socket
import sys
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from pipelines.sandbox.data import (
    ISO_EXAMPLE,
    SandboxError,
    TicketStore,
    encode_json,
    paginate,
    parse_iso,
)

API_PREFIX = "/api/v3"
DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 50

Json = dict[str, Any]


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
        chunks = []
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
        """Send a complete response with Content-Length (keep-alive friendly)."""
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        if not head_only:
            self.wfile.write(body)


# --------------------------------------------------------------------------- routing


@dataclass(frozen=True)
class Request:
    """What a route handler needs from a request."""

    arg: str | None
    query: dict[str, list[str]]
    body: bytes


Reply = tuple[int, Json | bytes]  # bytes: already-encoded JSON
Route = Callable[["AteraSandbox", Request], Reply]


_json = encode_json


def _message(status: int, message: str) -> Reply:
    return status, {"message": message}


def _ticket_id(raw: str | None) -> int:
    try:
        return int(raw or "")
    except ValueError:
        raise SandboxError(400, "Invalid ticket ID") from None


def _param(query: dict[str, list[str]], name: str) -> str | None:
    for key, values in query.items():
        if key.lower() == name.lower():
            return values[-1]
    return None


def _paging(query: dict[str, list[str]]) -> tuple[int, int]:
    page_raw, size_raw = _param(query, "page"), _param(query, "itemsInPage")
    try:
        page = int(page_raw) if page_raw not in (None, "") else 1
        size = int(size_raw) if size_raw not in (None, "") else DEFAULT_PAGE_SIZE
    except ValueError:
        raise SandboxError(400, _BAD_PAGING) from None
    return max(page, 1), min(max(size, 1), MAX_PAGE_SIZE)


_BAD_PAGING = "Invalid paging parameters: page and itemsInPage must be integers"
_DATE_FORMAT = f"expected an ISO 8601 date-time such as {ISO_EXAMPLE}"


def _body_json(body: bytes) -> Any:
    try:
        return json.loads(body or b"null")
    except ValueError:
        raise SandboxError(400, "Invalid JSON body") from None


def _list_tickets(sb: AteraSandbox, req: Request) -> Reply:
    return 200, sb.store.list_tickets_json(*_paging(req.query))


def _status_modified(sb: AteraSandbox, req: Request) -> Reply:
    raw = _param(req.query, "modifiedAfter")
    if not raw:
        raise SandboxError(400, f"modifiedAfter is required: {_DATE_FORMAT}")
    try:
        instant = parse_iso(raw)
    except ValueError:
        raise SandboxError(400, f"Invalid modifiedAfter {raw!r}: {_DATE_FORMAT}") from None
    return 200, sb.store.modified_after_json(instant, *_paging(req.query))


def _create_ticket(sb: AteraSandbox, req: Request) -> Reply:
    return 200, sb.store.create_ticket(_body_json(req.body))


def _get_ticket(sb: AteraSandbox, req: Request) -> Reply:
    return 200, sb.store.get_ticket(_ticket_id(req.arg))


def _update_ticket(sb: AteraSandbox, req: Request) -> Reply:
    ticket_id = _ticket_id(req.arg)
    return 200, sb.store.update_ticket(ticket_id, _body_json(req.body))


def _children(sb: AteraSandbox, items: list[Json], query: dict[str, list[str]]) -> Json:
    if sb.child_envelope == "paged":
        return paginate(items, *_paging(query))
    return {"items": items}


def _list_comments(sb: AteraSandbox, req: Request) -> Reply:
    return 200, _children(sb, sb.store.comments(_ticket_id(req.arg)), req.query)


def _add_comment(sb: AteraSandbox, req: Request) -> Reply:
    ticket_id = _ticket_id(req.arg)
    return 200, sb.store.add_comment(ticket_id, _body_json(req.body))


def _list_work_hours(sb: AteraSandbox, req: Request) -> Reply:
    return 200, _children(sb, sb.store.work_hours(_ticket_id(req.arg)), req.query)


def _billable_duration(sb: AteraSandbox, req: Request) -> Reply:
    return 200, sb.store.billable_duration(_ticket_id(req.arg))


ROUTES: list[tuple[re.Pattern[str], dict[str, Route]]] = [
    (re.compile(r"^/tickets$"), {"GET": _list_tickets, "POST": _create_ticket}),
    (re.compile(r"^/tickets/statusmodified$"), {"GET": _status_modified}),
    (re.compile(r"^/tickets/([^/]+)$"), {"GET": _get_ticket, "POST": _update_ticket}),
    (re.compile(r"^/tickets/([^/]+)/comments$"), {"GET": _list_comments, "POST": _add_comment}),
    (re.compile(r"^/tickets/([^/]+)/workhours$"), {"GET": _list_work_hours}),
    (re.compile(r"^/tickets/([^/]+)/billableduration$"), {"GET": _billable_duration}),
]


def _route(path: str) -> tuple[dict[str, Route], str | None]:
    """Find the handlers of a path: ({method: handler}, path argument); {} when unknown."""
    if not path.startswith(API_PREFIX + "/"):
        return {}, None
    sub = path[len(API_PREFIX) :].rstrip("/")
    for pattern, methods in ROUTES:
        match = pattern.match(sub)
        if match:
            return methods, (match.group(1) if match.groups() else None)
    return {}, None


# --------------------------------------------------------------------------- sandbox


class AteraSandbox:
    """A real HTTP server on loopback that behaves like Atera's ticket API v3.

    Args:
        api_key: The ``X-API-KEY`` value requests must carry.
        tickets: Number of seeded tickets.
        seed: Seed of the data generator (same seed + same now => same data).
        now: UTC instant the data is generated relative to; ``None`` = current time.
        rate_limit: Requests allowed per window per API key; ``None`` = unlimited.
        rate_window_seconds: Length of the sliding rate-limit window.
        latency_ms: Delay added to every request.
        child_envelope: ``"items"`` (comments/work hours answer ``{"items": [...]}``)
            or ``"paged"`` (full paging envelope honouring page/itemsInPage).
        host: Interface to bind.
        port: Port to bind; 0 picks a free port.
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
    ) -> None:
        if child_envelope not in ("items", "paged"):
            raise ValueError("child_envelope must be 'items' or 'paged'")
        self.api_key = api_key
        self.latency_ms = latency_ms
        self.child_envelope = child_envelope
        self.host = host
        self.port = port
        self.clock_offset = timedelta(0)
        self.store = TicketStore(tickets=tickets, seed=seed, now=now, clock=self.now)
        self.rate_limiter = RateLimiter(rate_limit, rate_window_seconds)
        self.request_log: list[tuple[str, str, str, int]] = []
        self._log_lock = threading.Lock()
        self._faults: list[Fault] = []
        self._faults_lock = threading.Lock()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

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
        """What the API would serve right now (see :meth:`TicketStore.snapshot`)."""
        return self.store.snapshot()

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
            status: HTTP status to answer.
            times: How many requests to affect; ``None`` = all until :meth:`clear_faults`.
            body: Response body; default ``{"message": <reason phrase>}``.
            content_type: Content-Type of the response.
            headers: Extra response headers.
            method: Only match this HTTP method (any when ``None``).
            delay_s: Sleep before answering (slow responses, read timeouts).
        """
        if times is not None and times <= 0:
            return
        payload = _json({"message": _reason(status)}) if body is None else body.encode()
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
        handler.respond(status, payload, content_type, headers, head_only=method == "HEAD")

    def _dispatch(
        self, handler: _Handler, method: str, path: str, query: str, body: bytes
    ) -> tuple[int, bytes, str, dict[str, str]]:
        key = handler.headers.get("X-API-KEY") or ""
        if not hmac.compare_digest(key.encode(), self.api_key.encode()):
            return 401, _json({"message": "Unauthorized"}), "application/json", {}
        retry_after = self.rate_limiter.acquire(key)
        if retry_after is not None:
            message = _json({"message": self.rate_limiter.message()})
            return 429, message, "application/json", {"Retry-After": str(retry_after)}
        fault = self._take_fault(method, path, query)
        if fault is not None:
            if fault.delay_s:
                time.sleep(fault.delay_s)
            return fault.status, fault.body, fault.content_type, fault.headers
        methods, arg = _route(path)
        if not methods:
            return 404, _json({"message": "Not found"}), "application/json", {}
        route = methods.get(method)
        if route is None:
            allow = {"Allow": ", ".join(methods)}
            return 405, _json({"message": "Method not allowed"}), "application/json", allow
        request = Request(arg, parse_qs(query, keep_blank_values=True), body)
        status, data = self._call(route, request)
        payload = data if isinstance(data, bytes) else _json(data)
        return status, payload, "application/json", {}

    def _call(self, route: Route, request: Request) -> Reply:
        try:
            return route(self, request)
        except SandboxError as error:
            return _message(error.status, error.message)
        except Exception as error:  # a sandbox bug must not kill the connection
            return _message(500, f"Internal server error: {error}")


def _reason(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def _target(path: str, query: str) -> str:
    return f"{path}?{query}" if query else path
