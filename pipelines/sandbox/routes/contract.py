"""The contract API shape: the ticket contract this project was specified from.

Routes (under ``/api/v3``) and the shapes they answer in are the store's own
(:class:`~pipelines.sandbox.data.TicketStore`): the paging envelope with
``totalItems``, ``statusmodified?modifiedAfter=``, comments with ``CommentID``,
``{"items": [...]}`` (or paged) child lists, ``GET /tickets?ticketStatus=`` (as the
published API has it), ``X-API-KEY`` auth and ``{"message": ...}`` errors. The
contract does not describe customers and contracts: they are served as the
published ``CustomerDto``/``ContractDto`` in this shape's envelope and dates
(:mod:`.accounts`).
"""

from __future__ import annotations

import re
from datetime import datetime

from pipelines.sandbox.data import (
    ISO_EXAMPLE,
    SandboxError,
    encode_json,
    format_dt,
    paginate,
    parse_iso,
)
from pipelines.sandbox.routes.accounts import account_routes, account_snapshot
from pipelines.sandbox.routes.common import (
    Body,
    Json,
    Reply,
    Request,
    RouteContext,
    Routes,
    ShapeSpec,
    body_json,
    paging,
    param,
    reason,
    ticket_id_of,
)
from pipelines.sandbox.shapes import CONTRACT

_DATE_FORMAT = f"expected an ISO 8601 date-time such as {ISO_EXAMPLE}"

#: The keys of the contract's payloads that hold timestamps.
TIMESTAMP_FIELDS = frozenset(
    {
        "TicketCreatedDate",
        "TicketResolvedDate",
        "FirstResponseDate",
        "LastActivityDate",
        "DueDate",
        "CommentDate",
        "StartDate",
        "EndDate",
        "CreatedOn",
        "LastModified",
    }
)


# --------------------------------------------------------------------------- tickets


def _list_tickets(ctx: RouteContext, req: Request) -> Reply:
    status = param(req.query, "ticketStatus")
    if status:  # Atera's ticket listing filters by status, as its published API says
        return 200, ctx.store.list_tickets_in_status_json(status, *paging(req.query))
    return 200, ctx.store.list_tickets_json(*paging(req.query))


def _status_modified(ctx: RouteContext, req: Request) -> Reply:
    raw = param(req.query, "modifiedAfter")
    if not raw:
        raise SandboxError(400, f"modifiedAfter is required: {_DATE_FORMAT}")
    try:
        instant = parse_iso(raw)
    except ValueError:
        raise SandboxError(400, f"Invalid modifiedAfter {raw!r}: {_DATE_FORMAT}") from None
    return 200, ctx.store.modified_after_json(instant, *paging(req.query))


def _create_ticket(ctx: RouteContext, req: Request) -> Reply:
    return 200, ctx.store.create_ticket(body_json(req.body))


def _get_ticket(ctx: RouteContext, req: Request) -> Reply:
    return 200, ctx.store.get_ticket(ticket_id_of(req.arg))


def _update_ticket(ctx: RouteContext, req: Request) -> Reply:
    ticket_id = ticket_id_of(req.arg)
    return 200, ctx.store.update_ticket(ticket_id, body_json(req.body))


# --------------------------------------------------------------------------- children


def _children(ctx: RouteContext, items: list[Json], query: dict[str, list[str]]) -> Json:
    if ctx.child_envelope == "paged":
        return paginate(items, *paging(query))
    return {"items": items}


def _list_comments(ctx: RouteContext, req: Request) -> Reply:
    return 200, _children(ctx, ctx.store.comments(ticket_id_of(req.arg)), req.query)


def _add_comment(ctx: RouteContext, req: Request) -> Reply:
    ticket_id = ticket_id_of(req.arg)
    return 200, ctx.store.add_comment(ticket_id, body_json(req.body))


def _list_work_hours(ctx: RouteContext, req: Request) -> Reply:
    return 200, _children(ctx, ctx.store.work_hours(ticket_id_of(req.arg)), req.query)


def _billable_duration(ctx: RouteContext, req: Request) -> Reply:
    return 200, ctx.store.billable_duration(ticket_id_of(req.arg))


def _stamp(value: datetime | None) -> str | None:
    return None if value is None else format_dt(value)


def _page(ctx: RouteContext, req: Request, items: list[Json]) -> Json:
    return paginate(items, *paging(req.query))


#: The routes of the contract shape (under ``/api/v3``).
ROUTES: Routes = [
    (re.compile(r"^/tickets$"), {"GET": _list_tickets, "POST": _create_ticket}),
    (re.compile(r"^/tickets/statusmodified$"), {"GET": _status_modified}),
    (re.compile(r"^/tickets/([^/]+)$"), {"GET": _get_ticket, "POST": _update_ticket}),
    (re.compile(r"^/tickets/([^/]+)/comments$"), {"GET": _list_comments, "POST": _add_comment}),
    (re.compile(r"^/tickets/([^/]+)/workhours$"), {"GET": _list_work_hours}),
    (re.compile(r"^/tickets/([^/]+)/billableduration$"), {"GET": _billable_duration}),
    *account_routes(_page, _stamp, re.compile),
]


# --------------------------------------------------------------------------- errors


def _error(status: int, message: str, path: str = "") -> Body:
    """``{"message": ...}`` as JSON (the path is not part of the contract's errors)."""
    return encode_json({"message": message}), "application/json"


def _store_error(error: SandboxError, request: Request) -> Body:
    return _error(error.status, error.message)


def _fault_body(status: int) -> Body:
    return _error(status, reason(status))


SPEC = ShapeSpec(
    name=CONTRACT,
    routes=ROUTES,
    accepts_bearer=False,
    unauthorized=(*_error(401, "Unauthorized"), {}),
    error=_error,
    store_error=_store_error,
    fault_body=_fault_body,
    timestamp_fields=TIMESTAMP_FIELDS,
    snapshot=lambda store: {**store.snapshot(), **account_snapshot(store, _stamp)},
)
