"""The published API shape: Atera's published OpenAPI v3, its routes and handlers.

Payloads are the DTOs of :mod:`pipelines.sandbox.dtos`; lists come in the
published paged envelope ``{items, page, itemsInPage, totalItemCount,
totalPages, prevLink, nextLink}``; writes answer a ``Result``
(``{"ActionID": ...}``). Where the published description is silent, the
sandbox decides:

* Query dates accept ``Z``, an offset or nothing (= UTC), and a bare
  ``yyyy-MM-dd``. ``/tickets/lastmodified`` requires ``date`` (400 without it).
* ``includeComments`` is honoured: ``/tickets/statusmodified`` defaults to true,
  ``/tickets/lastmodified`` to **false** (as published); when false,
  ``FirstComment``, ``LastEndUserComment`` and ``LastTechnicianComment`` are
  null (their timestamps stay). Other ticket reads always include them.
* ``/tickets/{id}/billableduration`` covers billable records,
  ``/nonbillableduration`` the others; the summary at ``/tickets/{id}/workhours``
  has both. The bulk ``POST /tickets/billableduration`` takes at most
  :data:`MAX_BULK_IDS` ids.
* ``/workhours`` filters as published: ``startWorkhour`` keeps records with
  ``StartWorkHour`` on or after it, ``endWorkhour`` records with
  ``EndWorkHour`` on or before it; ``RateID``/``RateAmount`` are null unless
  ``includeRates=true``.
* Routes ignore case, as ASP.NET's do. Keys are accepted as ``X-API-KEY`` or
  ``Authorization: Bearer``.
* Errors are ProblemDetails (``application/problem+json``), except 401, which
  has an empty body.
* ``/customers`` and ``/contracts`` (:mod:`.accounts`) ignore the published
  ``FromLastModifiedDate`` and ``SortBy`` filters: they list everything by id.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from datetime import datetime
from typing import Any

from pipelines.sandbox.data import SandboxError, TicketStore, encode_json, parse_iso
from pipelines.sandbox.dtos import (
    PROBLEM_CONTENT_TYPE,
    comment_dto,
    durations_dto,
    problem,
    published_timestamp,
    snapshot,
    summary_dto,
    ticket_dto,
    work_hours_dto,
    workhour_record_dto,
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
from pipelines.sandbox.shapes import PUBLISHED

#: Most tickets a bulk ``POST /tickets/billableduration`` accepts.
MAX_BULK_IDS = 50
#: The keys of the published payloads that hold timestamps.
TIMESTAMP_FIELDS = frozenset(
    {
        "TicketCreatedDate",
        "TicketResolvedDate",
        "TechnicianFirstCommentDate",
        "FirstResponseDueDate",
        "ClosedTicketDueDate",
        "LastEndUserCommentTimestamp",
        "LastTechnicianCommentTimestamp",
        "Date",
        "StartWorkHour",
        "EndWorkHour",
        "CreatedOn",
        "LastModified",
        "StartDate",
        "EndDate",
    }
)

_DATE_HELP = "expected an ISO 8601 date-time such as 2024-02-01T00:00:00 (UTC)"
_CLOSED_STATUSES = ("Resolved", "Closed")


# --------------------------------------------------------------------------- query


def _query_instant(query: dict[str, list[str]], name: str) -> datetime | None:
    """A date-time query parameter (None when absent or blank)."""
    raw = param(query, name)
    if raw is None or not raw.strip():
        return None
    try:
        return parse_iso(raw)
    except ValueError:
        raise SandboxError(400, f"Invalid {name} {raw!r}: {_DATE_HELP}") from None


def _required_instant(query: dict[str, list[str]], name: str) -> datetime:
    instant = _query_instant(query, name)
    if instant is None:
        raise SandboxError(400, f"{name} is required: {_DATE_HELP}")
    return instant


def _query_bool(query: dict[str, list[str]], name: str, default: bool) -> bool:
    raw = param(query, name)
    if raw is None or raw == "":
        return default
    if raw.lower() in ("true", "1"):
        return True
    if raw.lower() in ("false", "0"):
        return False
    raise SandboxError(400, f"Invalid {name} {raw!r}: use true or false")


# --------------------------------------------------------------------------- paging


def paged(
    ctx: RouteContext,
    req: Request,
    keys: list[Any],
    build: Callable[[Any], Json],
) -> Json:
    """The published paged envelope of one page of ``keys``, built item by item.

    Args:
        ctx: The route context (for absolute links).
        req: The request (page, itemsInPage, path and query for the links).
        keys: All keys in API order (ids or records).
        build: Turns one key of the page into its wire shape.
    """
    page, size = paging(req.query)
    total = len(keys)
    pages = math.ceil(total / size)
    start = (page - 1) * size
    return {
        "items": [build(key) for key in keys[start : start + size]],
        "page": page,
        "itemsInPage": size,
        "totalItemCount": total,
        "totalPages": pages,
        "prevLink": ctx.page_link(req, page - 1) if page > 1 else None,
        "nextLink": ctx.page_link(req, page + 1) if page < pages else None,
    }


def _ticket_page(ctx: RouteContext, req: Request, ids: list[int], include_comments: bool) -> Json:
    store = ctx.store
    with store.lock:
        return paged(ctx, req, ids, lambda tid: ticket_dto(store, tid, include_comments))


# --------------------------------------------------------------------------- reads


def _filtered_ids(store: TicketStore, ids: list[int], query: dict[str, list[str]]) -> list[int]:
    customer_raw = param(query, "customerId")
    status = param(query, "ticketStatus")
    if customer_raw:
        try:
            customer_id = int(customer_raw)
        except ValueError:
            raise SandboxError(400, f"Invalid customerId {customer_raw!r}") from None
        ids = [tid for tid in ids if store.get_ticket(tid)["CustomerID"] == customer_id]
    if status:
        wanted = status.lower()
        ids = [tid for tid in ids if store.get_ticket(tid)["TicketStatus"].lower() == wanted]
    return ids


def _list_tickets(ctx: RouteContext, req: Request) -> Reply:
    with ctx.store.lock:
        ids = _filtered_ids(ctx.store, ctx.store.ticket_ids(), req.query)
        return 200, _ticket_page(ctx, req, ids, include_comments=True)


def _no_comments(ctx: RouteContext, req: Request) -> Reply:
    store = ctx.store
    with store.lock:
        ids = [tid for tid in store.ticket_ids() if not store.comments(tid)]
        ids = _filtered_ids(store, ids, req.query)
        return 200, _ticket_page(ctx, req, ids, include_comments=True)


def _status_modified(ctx: RouteContext, req: Request) -> Reply:
    store = ctx.store
    include = _query_bool(req.query, "includeComments", True)
    with store.lock:
        ids = [
            tid
            for tid in store.ticket_ids()
            if store.get_ticket(tid)["TicketStatus"] in _CLOSED_STATUSES
        ]
        return 200, _ticket_page(ctx, req, ids, include)


def _last_modified(ctx: RouteContext, req: Request) -> Reply:
    instant = _required_instant(req.query, "date")
    include = _query_bool(req.query, "includeComments", False)
    with ctx.store.lock:
        return 200, _ticket_page(ctx, req, ctx.store.ids_modified_after(instant), include)


def _get_ticket(ctx: RouteContext, req: Request) -> Reply:
    return 200, ticket_dto(ctx.store, ticket_id_of(req.arg))


def _list_comments(ctx: RouteContext, req: Request) -> Reply:
    store = ctx.store
    comments = store.comments(ticket_id_of(req.arg))
    return 200, paged(ctx, req, comments, lambda c: comment_dto(store, c))


def _work_hours_summary(ctx: RouteContext, req: Request) -> Reply:
    return 200, summary_dto(ctx.store, ticket_id_of(req.arg))


def _work_hours_records(ctx: RouteContext, req: Request) -> Reply:
    store = ctx.store
    records = store.work_hours(ticket_id_of(req.arg))
    return 200, paged(ctx, req, records, lambda r: work_hours_dto(store, r))


def _billable_duration(ctx: RouteContext, req: Request) -> Reply:
    return 200, durations_dto(ctx.store, ticket_id_of(req.arg), True)


def _non_billable_duration(ctx: RouteContext, req: Request) -> Reply:
    return 200, durations_dto(ctx.store, ticket_id_of(req.arg), False)


def _bulk_billable_duration(ctx: RouteContext, req: Request) -> Reply:
    ids = body_json(req.body)
    if not isinstance(ids, list) or not all(_is_int(i) for i in ids):
        raise SandboxError(400, "Request body must be a JSON array of ticket IDs")
    if len(ids) > MAX_BULK_IDS:
        raise SandboxError(400, f"At most {MAX_BULK_IDS} ticket IDs per request, got {len(ids)}")
    store = ctx.store
    durations = []
    with store.lock:
        known = set(store.ticket_ids())
        for ticket_id in dict.fromkeys(ids):  # request order, duplicates once
            if ticket_id in known:
                durations.append(durations_dto(store, ticket_id, True))
    return 200, durations


def _account_work_hours(ctx: RouteContext, req: Request) -> Reply:
    start = _query_instant(req.query, "startWorkhour")
    end = _query_instant(req.query, "endWorkhour")
    include_rates = _query_bool(req.query, "includeRates", False)
    store = ctx.store
    with store.lock:
        pairs = [
            (record, ticket)
            for tid in store.ticket_ids()
            for ticket in (store.get_ticket(tid),)
            for record in store.work_hours(tid)
            if (start is None or parse_iso(record["StartDate"]) >= start)
            and (end is None or parse_iso(record["EndDate"]) <= end)
        ]
        pairs.sort(key=lambda pair: pair[0]["WorkHourID"])
        return 200, paged(
            ctx, req, pairs, lambda p: workhour_record_dto(store, p[0], p[1], include_rates)
        )


# --------------------------------------------------------------------------- writes

_CREATE_FIELDS = (
    "TicketTitle",
    "Description",
    "TicketPriority",
    "TicketType",
    "EndUserID",
    "TechnicianContactID",
    "CustomerID",  # not in the published model; accepted as the contract does
    "DueDate",  # idem
)
_UPDATE_FIELDS = (
    "TicketTitle",
    "TicketStatus",
    "TicketType",
    "TicketPriority",
    "TechnicianContactID",
)


def _object(body: Any) -> Json:
    if not isinstance(body, dict):
        raise SandboxError(400, "Request body must be a JSON object")
    return body


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _technician_from_email(ctx: RouteContext, email: Any) -> int:
    tech = ctx.store.technician_by_email(email) if isinstance(email, str) else None
    if tech is None:
        raise SandboxError(400, "Technician not found")
    return tech.contact_id


def _create_ticket(ctx: RouteContext, req: Request) -> Reply:
    body = _object(body_json(req.body))
    internal = {k: body[k] for k in _CREATE_FIELDS if body.get(k) is not None}
    if "EndUserID" not in internal and body.get("EndUserEmail") is not None:
        email = body["EndUserEmail"]
        user = ctx.store.end_user_by_email(email) if isinstance(email, str) else None
        if user is None:
            raise SandboxError(
                400, "End user not found (the sandbox does not create contacts): use EndUserID"
            )
        internal["EndUserID"] = user.contact_id
    if "TechnicianContactID" not in internal and body.get("TechnicianEmail") is not None:
        internal["TechnicianContactID"] = _technician_from_email(ctx, body["TechnicianEmail"])
    if body.get("TicketStatus") not in (None, "Open"):
        raise SandboxError(400, "New tickets are Open: omit TicketStatus or send Open")
    created = ctx.store.create_ticket(internal, impact=body.get("TicketImpact"))
    return 201, {"ActionID": str(created["TicketID"])}


def _update_ticket(ctx: RouteContext, req: Request) -> Reply:
    ticket_id = ticket_id_of(req.arg)
    body = _object(body_json(req.body))
    internal = {k: body[k] for k in _UPDATE_FIELDS if body.get(k) is not None}
    if "TechnicianContactID" not in internal and body.get("TechnicianEmail") is not None:
        internal["TechnicianContactID"] = _technician_from_email(ctx, body["TechnicianEmail"])
    ctx.store.update_ticket(ticket_id, internal, impact=body.get("TicketImpact"))
    return 200, {"ActionID": str(ticket_id)}


def _delete_ticket(ctx: RouteContext, req: Request) -> Reply:
    ctx.store.delete_ticket(ticket_id_of(req.arg))
    return 204, b""


def _add_comment(ctx: RouteContext, req: Request) -> Reply:
    ticket_id = ticket_id_of(req.arg)
    body = _object(body_json(req.body))
    tech = body.get("TechnicianCommentDetails")
    user = body.get("EnduserCommentDetails")
    internal: Json = {"CommentText": body.get("CommentText")}
    if tech is not None and user is not None:
        raise SandboxError(400, "Send TechnicianCommentDetails or EnduserCommentDetails, not both")
    if tech is not None:
        tech = _object(tech)
        creator = tech.get("TechnicianId")
        if creator is None and tech.get("TechnicianEmail") is not None:
            creator = _technician_from_email(ctx, tech["TechnicianEmail"])
        if creator is None:
            raise SandboxError(400, "TechnicianCommentDetails needs TechnicianId")
        internal["CreatorContactID"] = creator
        internal["IsInternal"] = tech.get("IsInternal", False)
    elif user is not None:
        creator = _object(user).get("EnduserId")
        if creator is None:
            raise SandboxError(400, "EnduserCommentDetails needs EnduserId")
        internal["CreatorContactID"] = creator
        internal["IsInternal"] = False
    else:  # neither: the contract's fields and defaults (the ticket's technician, public)
        internal.update({k: body[k] for k in ("CreatorContactID", "IsInternal") if k in body})
    when = None
    if body.get("CommentTimestampUTC") is not None:
        when = _body_instant(body["CommentTimestampUTC"], "CommentTimestampUTC")
    comment = ctx.store.add_comment(ticket_id, internal, when=when)
    return 200, {"ActionID": str(comment["CommentID"])}


def _add_work_hours(ctx: RouteContext, req: Request) -> Reply:
    ticket_id = ticket_id_of(req.arg)
    body = _object(body_json(req.body))
    start = _body_instant(body.get("StartWorkHour"), "StartWorkHour")
    end = _body_instant(body.get("EndWorkHour"), "EndWorkHour")
    tech_id = body.get("TechnicianContactID")
    if tech_id is None and body.get("TechnicianEmail") is not None:
        tech_id = _technician_from_email(ctx, body["TechnicianEmail"])
    if tech_id is None:
        tech_id = ctx.store.get_ticket(ticket_id)["TechnicianContactID"]
    if not _is_int(tech_id):
        raise SandboxError(400, "TechnicianContactID or TechnicianEmail required")
    flags = {k: body.get(k, False) for k in ("Billiable", "OnCustomerSite")}
    if not all(isinstance(v, bool) for v in flags.values()):
        raise SandboxError(400, "Billiable and OnCustomerSite must be true or false")
    notes = body.get("Description")
    if notes is not None and not isinstance(notes, str):
        raise SandboxError(400, "Description must be a string")
    rate_id = body.get("RateID")
    if rate_id is not None and not _is_int(rate_id):
        raise SandboxError(400, "RateID must be an integer")
    record = ctx.store.add_work_hours(
        ticket_id,
        tech_id,
        start,
        end,
        flags["Billiable"],
        notes or "",
        on_customer_site=flags["OnCustomerSite"],
        rate_id=rate_id,
    )
    return 201, {"ActionID": str(record["WorkHourID"])}


def _body_instant(value: Any, name: str) -> datetime:
    try:
        return parse_iso(value)
    except (TypeError, ValueError, AttributeError):
        raise SandboxError(400, f"Invalid {name}: {_DATE_HELP}") from None


def _route(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern, re.IGNORECASE)  # ASP.NET routes ignore case


#: The routes of the published shape (under ``/api/v3``).
ROUTES: Routes = [
    (_route(r"^/tickets$"), {"GET": _list_tickets, "POST": _create_ticket}),
    (_route(r"^/tickets/noComments$"), {"GET": _no_comments}),
    (_route(r"^/tickets/statusmodified$"), {"GET": _status_modified}),
    (_route(r"^/tickets/lastmodified$"), {"GET": _last_modified}),
    (_route(r"^/tickets/billableduration$"), {"POST": _bulk_billable_duration}),
    (
        _route(r"^/tickets/([^/]+)$"),
        {
            "GET": _get_ticket,
            "POST": _update_ticket,
            "PUT": _update_ticket,
            "DELETE": _delete_ticket,
        },
    ),
    (_route(r"^/tickets/([^/]+)/comments$"), {"GET": _list_comments, "POST": _add_comment}),
    (
        _route(r"^/tickets/([^/]+)/workhours$"),
        {"GET": _work_hours_summary, "POST": _add_work_hours},
    ),
    (_route(r"^/tickets/([^/]+)/workhoursrecords$"), {"GET": _work_hours_records}),
    (_route(r"^/tickets/([^/]+)/billableduration$"), {"GET": _billable_duration}),
    (_route(r"^/tickets/([^/]+)/nonbillableduration$"), {"GET": _non_billable_duration}),
    (_route(r"^/workhours$"), {"GET": _account_work_hours}),
    *account_routes(
        lambda ctx, req, items: paged(ctx, req, items, dict), published_timestamp, _route
    ),
]


# --------------------------------------------------------------------------- errors


def _error(status: int, message: str, path: str) -> Body:
    return encode_json(problem(status, message, path)), PROBLEM_CONTENT_TYPE


def _store_error(error: SandboxError, request: Request) -> Body:
    """The ProblemDetails of a store or validation error raised while serving ``request``."""
    detail = error.message
    if error.status == 404 and error.message == "Ticket not found" and request.arg is not None:
        detail = f"Ticket {request.arg} not found"
    return encode_json(problem(error.status, detail, request.path)), PROBLEM_CONTENT_TYPE


def _fault_body(status: int) -> Body:
    return encode_json(problem(status, title=reason(status))), PROBLEM_CONTENT_TYPE


SPEC = ShapeSpec(
    name=PUBLISHED,
    routes=ROUTES,
    accepts_bearer=True,
    # As published: an empty body, no Content-Type, and the scheme to use.
    unauthorized=(b"", "", {"WWW-Authenticate": "Bearer"}),
    error=_error,
    store_error=_store_error,
    fault_body=_fault_body,
    timestamp_fields=TIMESTAMP_FIELDS,
    snapshot=lambda store: {**snapshot(store), **account_snapshot(store, published_timestamp)},
)
