"""Request plumbing shared by the sandbox's dialects: what a route gets and returns.

A route is a plain function ``(sandbox, request) -> (status, payload)``; the
server authenticates, rate limits and encodes. The helpers here read query
parameters, paging and JSON bodies the same way in every dialect.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pipelines.sandbox.data import SandboxError

if TYPE_CHECKING:
    from pipelines.sandbox.server import AteraSandbox

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


#: (status, payload): a JSON-serializable value, or bytes already encoded as JSON.
Reply = tuple[int, Any]
Route = Callable[["AteraSandbox", Request], Reply]
Routes = list[tuple[re.Pattern[str], dict[str, Route]]]

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
        page = int(page_raw) if page_raw not in (None, "") else 1
        size = int(size_raw) if size_raw not in (None, "") else DEFAULT_PAGE_SIZE
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
