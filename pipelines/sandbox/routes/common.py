"""What every route gets and returns, and the request parsing both API shapes share.

A route is a plain function ``(context, request) -> (status, payload)``. The
:class:`RouteContext` is all a route may use (the store, the clock, the
envelope setting, page links); the server authenticates, rate limits, injects
faults and encodes the reply. A :class:`ShapeSpec` bundles one API shape's
route table with what the server needs to answer in that shape (auth scheme,
error bodies, timestamp fields).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qsl, urlencode

from pipelines.sandbox.data import SandboxError, TicketStore

API_PREFIX = "/api/v3"
DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 50

Json = dict[str, Any]


@dataclass(frozen=True)
class Request:
    """What a route handler needs from a request.

    Attributes:
        arg: The path argument (a ticket id), if the route has one.
        query: Parsed query string (blank values kept).
        body: Raw request body.
        path: Full request path, e.g. ``/api/v3/tickets/10001``.
        raw_query: The query string as sent (without ``?``).
    """

    arg: str | None
    query: dict[str, list[str]]
    body: bytes
    path: str = ""
    raw_query: str = ""


@dataclass(frozen=True)
class RouteContext:
    """The narrow view of the sandbox that routes get.

    Attributes:
        store: The data and its business rules.
        now: The sandbox clock (aware UTC).
        child_envelope: ``"items"`` or ``"paged"``: the envelope of the contract
            shape's comment and work-hour lists.
        page_link: ``(request, page) -> absolute URL`` of the same request on
            another page (published paging links).
    """

    store: TicketStore
    now: Callable[[], datetime]
    child_envelope: str
    page_link: Callable[[Request, int], str]


#: (status, payload): a JSON-serializable value, or bytes already encoded as JSON.
Reply = tuple[int, Any]
Route = Callable[[RouteContext, Request], Reply]
Routes = list[tuple[re.Pattern[str], dict[str, Route]]]
#: (body, content type); an empty content type sends no Content-Type header.
Body = tuple[bytes, str]


@dataclass(frozen=True)
class ShapeSpec:
    """How the server speaks one API shape.

    Attributes:
        name: The API shape (see :mod:`pipelines.sandbox.shapes`).
        routes: The route table, under :data:`API_PREFIX`.
        accepts_bearer: Whether ``Authorization: Bearer <key>`` is accepted
            besides ``X-API-KEY``.
        unauthorized: The 401 answer: (body, content type, headers).
        error: ``(status, message, path) -> Body`` for errors the server raises
            (404, 405, 429, 500).
        store_error: ``(error, request) -> Body`` for a route's :class:`SandboxError`.
        fault_body: ``status -> Body``, the default body of an injected fault.
        timestamp_fields: The payload keys that hold timestamps.
        snapshot: ``store -> everything served``, in this shape.
    """

    name: str
    routes: Routes
    accepts_bearer: bool
    unauthorized: tuple[bytes, str, dict[str, str]]
    error: Callable[[int, str, str], Body]
    store_error: Callable[[SandboxError, Request], Body]
    fault_body: Callable[[int], Body]
    timestamp_fields: frozenset[str]
    snapshot: Callable[[TicketStore], dict[str, list[Json]]]


BAD_PAGING = "Invalid paging parameters: page and itemsInPage must be integers"


def ticket_id_of(raw: str | None) -> int:
    """The ticket id of a path argument.

    Raises:
        SandboxError: 400 when it is not an integer.
    """
    try:
        return int(raw or "")
    except ValueError:
        raise SandboxError(400, "Invalid ticket ID") from None


def param(query: dict[str, list[str]], name: str) -> str | None:
    """The last value of a query parameter, matched case-insensitively."""
    for key, values in query.items():
        if key.lower() == name.lower():
            return values[-1]
    return None


def paging(query: dict[str, list[str]]) -> tuple[int, int]:
    """``(page, itemsInPage)``: page >= 1 (default 1), size clamped to 1..50 (default 20).

    Raises:
        SandboxError: 400 when either is not an integer.
    """
    page_raw, size_raw = param(query, "page"), param(query, "itemsInPage")
    try:
        page = int(page_raw) if page_raw else 1
        size = int(size_raw) if size_raw else DEFAULT_PAGE_SIZE
    except ValueError:
        raise SandboxError(400, BAD_PAGING) from None
    return max(page, 1), min(max(size, 1), MAX_PAGE_SIZE)


def body_json(body: bytes) -> Any:
    """Decode a JSON request body (an empty body is ``None``).

    Raises:
        SandboxError: 400 when the body is not JSON.
    """
    try:
        return json.loads(body or b"null")
    except ValueError:
        raise SandboxError(400, "Invalid JSON body") from None


def page_link(base_url: str, request: Request, page: int) -> str:
    """Absolute URL of the same path and query with ``page`` changed (or added).

    Args:
        base_url: ``http://HOST:PORT`` of the sandbox.
        request: The request being answered.
        page: The page to link to.
    """
    pairs = parse_qsl(request.raw_query, keep_blank_values=True)
    replaced = False
    for index, (key, _) in enumerate(pairs):
        if key.lower() == "page":
            pairs[index] = (key, str(page))
            replaced = True
    if not replaced:
        pairs.append(("page", str(page)))
    return f"{base_url}{request.path}?{urlencode(pairs)}"


def reason(status: int) -> str:
    """The reason phrase of a status (``Error`` when it has none)."""
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def match_route(routes: Routes, path: str) -> tuple[dict[str, Route], str | None]:
    """Find the handlers of a path: ({method: handler}, path argument); {} when unknown."""
    if not path.startswith(API_PREFIX + "/"):
        return {}, None
    sub = path[len(API_PREFIX) :].rstrip("/")
    for pattern, methods in routes:
        match = pattern.match(sub)
        if match:
            return methods, (match.group(1) if match.groups() else None)
    return {}, None
