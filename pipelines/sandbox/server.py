"""HTTP layer of the Atera sandbox: a loopback server speaking the ticket API v3.

Requests are authenticated, rate limited per key with a sliding window,
optionally answered by injected faults, and otherwise routed to the
:class:`~pipelines.sandbox.data.TicketStore`. The server speaks one of two
dialects (see :mod:`pipelines.sandbox.dialects`): ``seed`` (the seed contract:
``X-API-KEY``, ``{"message": ...}`` errors; routes below) or ``v3`` (Atera's
published API: ``X-API-KEY`` or ``Authorization: Bearer``, ProblemDetails,
published shapes and routes).
"""

from __future__ import annotations

import contextlib
import hmac
import math
import re
import socket
import sys
import threading
import time
from collections import deque
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from pipelines.sandbox import dialects
from pipelines.sandbox.data import (
    ISO_EXAMPLE,
    SandboxError,
    TicketStore,
    encode_json,
    paginate,
    parse_iso,
)
from pipelines.sandbox.routing import (
    API_PREFIX,
    DEFAULT_PAGE_SIZE,
    MAX_PAGE_SIZE,
    Json,
    Reply,
    Request,
    Route,
    Routes,
    match_route,
)
from pipelines.sandbox.routing import body_json as _body_json
from pipelines.sandbox.routing import paging as _paging
from pipelines.sandbox.routing import param as _param
from pipelines.sandbox.routing import ticket_id_of as _ticket_id

__all__ = [
    "API_PREFIX",
    "DEFAULT_PAGE_SIZE",
    "MAX_PAGE_SIZE",
    "AteraSandbox",
    "Fault",
    "RateLimiter",
    "Request",
]


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


# --------------------------------------------------------------------------- seed routes


_json = encode_json
_DATE_FORMAT = f"expected an ISO 8601 date-time such as {ISO_EXAMPLE}"


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


#: The routes of the seed dialect (under ``/api/v3``).
ROUTES: Routes = [
    (re.compile(r"^/tickets$"), {"GET": _list_tickets, "POST": _create_ticket}),
    (re.compile(r"^/tickets/statusmodified$"), {"GET": _status_modified}),
    (re.compile(r"^/tickets/([^/]+)$"), {"GET": _get_ticket, "POST": _update_ticket}),
    (re.compile(r"^/tickets/([^/]+)/comments$"), {"GET": _list_comments, "POST": _add_comment}),
    (re.compile(r"^/tickets/([^/]+)/workhours$"), {"GET": _list_work_hours}),
    (re.compile(r"^/tickets/([^/]+)/billableduration$"), {"GET": _billable_duration}),
]


def _route(path: str) -> tuple[dict[str, Route], str | None]:
    """Find the seed handlers of a path: ({method: handler}, path argument); {} when unknown."""
    return match_route(ROUTES, path)


_ROUTES_BY_DIALECT: dict[str, Routes] = {dialects.SEED: ROUTES, dialects.V3: dialects.V3_ROUTES}


# --------------------------------------------------------------------------- sandbox


class AteraSandbox:
    """A real HTTP server on loopback that behaves like Atera's ticket API v3.

    Args:
        api_key: The key requests must carry: ``X-API-KEY`` (both dialects) or
            ``Authorization: Bearer <key>`` (``v3`` only).
        tickets: Number of seeded tickets.
        seed: Seed of the data generator (same seed + same now => same data).
        now: UTC instant the data is generated relative to; ``None`` = current time.
        rate_limit: Requests allowed per window per API key; ``None`` = unlimited.
        rate_window_seconds: Length of the sliding rate-limit window.
        latency_ms: Delay added to every request.
        child_envelope: ``"items"`` (comments/work hours answer ``{"items": [...]}``)
            or ``"paged"`` (full paging envelope honouring page/itemsInPage); seed
            dialect only (``v3`` lists are always paged).
        host: Interface to bind.
        port: Port to bind; 0 picks a free port.
        dialect: ``"seed"`` (the seed contract's shapes) or ``"v3"`` (Atera's published
            v3 shapes and routes, see :mod:`pipelines.sandbox.dialects`). Same data.
        retry_after_header: Send ``Retry-After`` with 429 answers (False: omit it).
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
        dialect: str = dialects.SEED,
        retry_after_header: bool = True,
    ) -> None:
        if child_envelope not in ("items", "paged"):
            raise ValueError("child_envelope must be 'items' or 'paged'")
        if dialect not in dialects.DIALECTS:
            raise ValueError(f"dialect must be one of {', '.join(dialects.DIALECTS)}")
        self.dialect = dialect
        self.retry_after_header = retry_after_header
        self._routes = _ROUTES_BY_DIALECT[dialect]
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
        """What the API would serve right now, in this sandbox's dialect.

        Seed: see :meth:`TicketStore.snapshot`. v3: see :func:`dialects.snapshot`
        (published shapes, plus ``TicketID`` on comments, whose shape lacks it).
        """
        if self.dialect == dialects.V3:
            return dialects.snapshot(self.store)
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
            status: HTTP status to answer; ``0`` drops the connection without an
                answer (a connection reset, as the client sees it).
            times: How many requests to affect; ``None`` = all until :meth:`clear_faults`.
            body: Response body; default ``{"message": <reason phrase>}`` (seed) or
                a ProblemDetails (v3, sent as ``application/problem+json`` unless
                ``content_type`` is given).
            content_type: Content-Type of the response.
            headers: Extra response headers.
            method: Only match this HTTP method (any when ``None``).
            delay_s: Sleep before answering (slow responses, read timeouts).
        """
        if times is not None and times <= 0:
            return
        if body is not None:
            payload = body.encode()
        elif self.dialect == dialects.V3:
            payload = _json(dialects.problem(status, title=_reason(status)))
            if content_type == "application/json":
                content_type = dialects.PROBLEM_CONTENT_TYPE
        else:
            payload = _json({"message": _reason(status)})
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
    ) -> tuple[int, bytes, str, dict[str, str]]:
        key = self._credential(handler)
        if key is None:
            if self.dialect == dialects.V3:  # as published: an empty body
                return 401, b"", "", {"WWW-Authenticate": "Bearer"}
            return 401, _json({"message": "Unauthorized"}), "application/json", {}
        retry_after = self.rate_limiter.acquire(key)
        if retry_after is not None:
            headers = {"Retry-After": str(retry_after)} if self.retry_after_header else {}
            return (429, *self._error(429, self.rate_limiter.message(), path), headers)
        fault = self._take_fault(method, path, query)
        if fault is not None:
            if fault.delay_s:
                time.sleep(fault.delay_s)
            return fault.status, fault.body, fault.content_type, fault.headers
        methods, arg = match_route(self._routes, path)
        if not methods:
            return (404, *self._error(404, "Not found", path), {})
        route = methods.get(method)
        if route is None:
            allow = {"Allow": ", ".join(methods)}
            return (405, *self._error(405, "Method not allowed", path), allow)
        request = Request(arg, parse_qs(query, keep_blank_values=True), body, path, query)
        return (*self._call(route, request), {})

    def _credential(self, handler: _Handler) -> str | None:
        """The API key a request carries if it is the right one, else None."""
        candidates = [handler.headers.get("X-API-KEY") or ""]
        if self.dialect == dialects.V3:
            scheme, _, token = (handler.headers.get("Authorization") or "").strip().partition(" ")
            if scheme.lower() == "bearer" and token.strip():
                candidates.append(token.strip())
        for key in candidates:
            if hmac.compare_digest(key.encode(), self.api_key.encode()):
                return key
        return None

    def _error(self, status: int, message: str, path: str) -> tuple[bytes, str]:
        """An error body and its content type, in this sandbox's dialect."""
        if self.dialect == dialects.V3:
            body = dialects.problem(status, message, path)
            return _json(body), dialects.PROBLEM_CONTENT_TYPE
        return _json({"message": message}), "application/json"

    def _call(self, route: Route, request: Request) -> tuple[int, bytes, str]:
        """Run a route: (status, body, content type); errors in the dialect's shape."""
        try:
            status, data = route(self, request)
        except SandboxError as error:
            if self.dialect == dialects.V3:
                body = dialects.error_body(error, request)
                return error.status, _json(body), dialects.PROBLEM_CONTENT_TYPE
            return error.status, _json({"message": error.message}), "application/json"
        except Exception as error:  # a sandbox bug must not kill the connection
            return (500, *self._error(500, f"Internal server error: {error}", request.path))
        if status == 204:
            return status, b"", ""
        payload = data if isinstance(data, bytes) else _json(data)
        return status, payload, "application/json"


def _reason(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def _target(path: str, query: str) -> str:
    return f"{path}?{query}" if query else path
