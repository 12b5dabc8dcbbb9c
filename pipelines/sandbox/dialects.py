"""Wire dialects of the Atera sandbox, and the ``v3`` dialect's shapes and routes.

The sandbox holds one data model (:class:`~pipelines.sandbox.data.TicketStore`)
and serves it in one of two dialects:

``seed``
    The shapes of the project's seed contract (the store's native shapes; routes
    in :mod:`pipelines.sandbox.server`).

``v3``
    The shapes of Atera's published OpenAPI v3 description (this module): the
    paged envelope ``{items, page, itemsInPage, totalItemCount, totalPages,
    prevLink, nextLink}``, ``TicketDto``, ``TicketCommentDto``,
    ``TicketWorkHoursDto``/``WorkhourRecordDto``, ``TicketDurationsDto``,
    ``TicketWorkHoursSummaryDto``, ``Result`` for writes and ``ProblemDetails``
    for errors.

The dialect only changes what goes over the wire (and which routes exist): the
same seed gives the same tickets, comments (same order) and work-hour ids in
both. Where the published description is silent, the ``v3`` dialect decides:

* Timestamps are served without an offset, with seven fractional digits, as
  .NET writes them (``2024-02-15T09:00:00.0000000``), and mean UTC. The data
  model keeps whole seconds, so the fraction is always ``.0000000``; the only
  sub-second value the model has, a ticket's modification time, is not a field
  of ``TicketDto`` (it only drives ``/tickets/lastmodified``). Query dates accept
  ``Z``, an offset or nothing (= UTC), and a bare ``yyyy-MM-dd``.
* ``TicketNumber`` is ``str(TicketID)``; ``TicketImpact`` comes from the
  priority and the ticket id (:func:`~pipelines.sandbox.data.default_impact`)
  unless set by a write; ``EndUserPhone`` and ``CustomerBusinessNumber`` are
  fictional values derived from the ids; ``ContractID`` and ``RelatedTicketId``
  are null and ``RelationType`` is ``"None"`` (the sandbox has no contracts or
  relations).
* ``TechnicianFirstCommentDate`` is the seed's first-response date (nulls
  included); ``FirstResponseDueDate`` is creation + the first-response target of
  the current priority; ``ClosedTicketDueDate`` is the seed's due date;
  ``FirstComment`` is the seed's description.
* ``LastEndUserComment``/``LastTechnicianComment`` (and timestamps) are the
  latest comment by the ticket's end user / the latest public (not internal)
  technician comment, in comment order.
* ``includeComments`` is honoured: ``/tickets/statusmodified`` defaults to true,
  ``/tickets/lastmodified`` to **false** (as published); when false,
  ``FirstComment``, ``LastEndUserComment`` and ``LastTechnicianComment`` are
  null (their timestamps stay). Other ticket reads always include them.
* A work-hour record is on the customer's site (``OnCustomerSite``) when its
  notes say ``On-site visit`` unless recorded otherwise; it counts as "on SLA"
  when it starts on a business day (Monday to Friday) between 08:00 and 18:00
  UTC, else "off SLA". Rates: billable on-site work has RateID 2 (150.0),
  other billable work RateID 1 (120.0), non-billable work none.
* Durations in hours are ``seconds / 3600`` (full double precision, summed in
  seconds first). ``/tickets/{id}/billableduration`` covers billable records,
  ``/nonbillableduration`` the others; the summary at ``/tickets/{id}/workhours``
  has both. The deprecated ``*DurationSeconds/Minutes`` of ``TicketDto`` cover
  all records (minutes rounded down).
* ``/workhours`` filters as published: ``startWorkhour`` keeps records with
  ``StartWorkHour`` on or after it, ``endWorkhour`` records with
  ``EndWorkHour`` on or before it; ``RateID``/``RateAmount`` are null unless
  ``includeRates=true``.
* ``/tickets/lastmodified`` requires ``date`` (400 without it).
* Errors are ProblemDetails (``application/problem+json``), except 401, which
  has an empty body.
"""

from __future__ import annotations

import html
import math
import re
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlencode

from pipelines.sandbox.data import (
    RATES,
    RESPONSE_TARGET_MINUTES,
    SandboxError,
    TicketStore,
    parse_iso,
    to_utc,
)
from pipelines.sandbox.routing import (
    Json,
    Reply,
    Request,
    Routes,
    body_json,
    paging,
    param,
    ticket_id_of,
)

if TYPE_CHECKING:
    from pipelines.sandbox.server import AteraSandbox

SEED = "seed"
V3 = "v3"
DIALECTS = (SEED, V3)

PROBLEM_CONTENT_TYPE = "application/problem+json"
#: Most tickets a bulk ``POST /tickets/billableduration`` accepts.
MAX_BULK_IDS = 50
#: Business hours (UTC, Monday to Friday) that count as "on SLA" for work hours.
SLA_HOURS = (8, 18)

_PROBLEM_TYPES = {
    400: ("https://tools.ietf.org/html/rfc7231#section-6.5.1", "Bad Request"),
    403: ("https://tools.ietf.org/html/rfc7231#section-6.5.3", "Forbidden"),
    404: ("https://tools.ietf.org/html/rfc7231#section-6.5.4", "Not Found"),
    405: ("https://tools.ietf.org/html/rfc7231#section-6.5.5", "Method Not Allowed"),
    409: ("https://tools.ietf.org/html/rfc7231#section-6.5.8", "Conflict"),
    429: ("https://tools.ietf.org/html/rfc6585#section-4", "Too Many Requests"),
    500: (
        "https://tools.ietf.org/html/rfc7231#section-6.6.1",
        "An error occurred while processing your request.",
    ),
    502: ("https://tools.ietf.org/html/rfc7231#section-6.6.3", "Bad Gateway"),
    503: ("https://tools.ietf.org/html/rfc7231#section-6.6.4", "Service Unavailable"),
}
_DATE_HELP = "expected an ISO 8601 date-time such as 2024-02-01T00:00:00 (UTC)"
_CLOSED_STATUSES = ("Resolved", "Closed")


# --------------------------------------------------------------------------- formats


def problem(
    status: int, detail: str | None = None, instance: str | None = None, title: str | None = None
) -> Json:
    """A ProblemDetails body: ``{"type", "title", "status"[, "detail"][, "instance"]}``."""
    kind, default_title = _PROBLEM_TYPES.get(status, ("about:blank", title or "Error"))
    body: Json = {"type": kind, "title": default_title, "status": status}
    if detail is not None:
        body["detail"] = detail
    if instance is not None:
        body["instance"] = instance
    return body


def error_body(error: SandboxError, request: Request) -> Json:
    """The ProblemDetails of a store or validation error raised while serving ``request``."""
    detail = error.message
    if error.status == 404 and error.message == "Ticket not found" and request.arg is not None:
        detail = f"Ticket {request.arg} not found"
    return problem(error.status, detail, request.path)


def v3_timestamp(value: str | datetime | None) -> str | None:
    """Format an instant like .NET does: no offset, seven fractional digits, UTC.

    Args:
        value: The store's ``...Z`` string, any ISO 8601 string, a datetime or None.

    Returns:
        E.g. ``2024-02-15T09:00:00.0000000``; None stays None.
    """
    if value is None:
        return None
    if isinstance(value, str) and len(value) == 20 and value.endswith("Z"):
        return value[:19] + ".0000000"  # the store's whole-second values
    instant = to_utc(value if isinstance(value, datetime) else parse_iso(value))
    return instant.strftime("%Y-%m-%dT%H:%M:%S.") + f"{instant.microsecond:06d}0"


def _hours(seconds: int) -> float:
    return seconds / 3600


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


# --------------------------------------------------------------------------- shapes


class _Durations:
    """Seconds of work split on/off site and on/off SLA."""

    def __init__(self, store: TicketStore, records: Iterable[Json]) -> None:
        self.on_site = self.off_site = self.on_sla = self.off_sla = 0
        for record in records:
            seconds = record["Duration"]
            if store.on_customer_site(record):
                self.on_site += seconds
            else:
                self.off_site += seconds
            if is_on_sla(record):
                self.on_sla += seconds
            else:
                self.off_sla += seconds

    @property
    def total(self) -> int:
        return self.on_site + self.off_site

    def dto(self, ticket_id: int) -> Json:
        """A TicketDurationsDto (hours)."""
        return {
            "OnSiteDurationHours": _hours(self.on_site),
            "OffSiteDurationHours": _hours(self.off_site),
            "OnSLADurationHours": _hours(self.on_sla),
            "OffSLADurationHours": _hours(self.off_sla),
            "TotalDurationHours": _hours(self.total),
            "ticketId": ticket_id,
        }

    def ticket_fields(self) -> Json:
        """The deprecated ``*DurationSeconds``/``*DurationMinutes`` fields of a TicketDto."""
        fields: Json = {}
        for name, seconds in (
            ("OnSite", self.on_site),
            ("OffSite", self.off_site),
            ("OnSLA", self.on_sla),
            ("OffSLA", self.off_sla),
            ("Total", self.total),
        ):
            fields[f"{name}DurationSeconds"] = seconds
            fields[f"{name}DurationMinutes"] = seconds // 60
        return fields


def is_on_sla(record: Json) -> bool:
    """Whether a work-hour record starts within business hours (see :data:`SLA_HOURS`)."""
    start = parse_iso(record["StartDate"])
    return start.weekday() < 5 and SLA_HOURS[0] <= start.hour < SLA_HOURS[1]


def ticket_dto(store: TicketStore, ticket_id: int, include_comments: bool = True) -> Json:
    """One ticket as a published ``TicketDto``.

    Raises:
        SandboxError: 404 when the ticket does not exist.
    """
    with store.lock:
        ticket = store.get_ticket(ticket_id)
        comments = store.comments(ticket_id)
        work = store.work_hours(ticket_id)
        impact = store.impact(ticket_id)
    customer = store.customers.get(ticket["CustomerID"])
    user = store.end_users.get(ticket["EndUserID"])
    last_user = _last(c for c in comments if c["CreatorContactID"] in store.end_users)
    last_tech = _last(
        c for c in comments if c["CreatorContactID"] in store.technicians and not c["IsInternal"]
    )
    created = parse_iso(ticket["TicketCreatedDate"])
    response_due = created + timedelta(minutes=RESPONSE_TARGET_MINUTES[ticket["TicketPriority"]])
    return {
        "TicketID": ticket_id,
        "TicketTitle": ticket["TicketTitle"],
        "TicketNumber": str(ticket_id),
        "TicketPriority": ticket["TicketPriority"],
        "TicketImpact": impact,
        "TicketStatus": ticket["TicketStatus"],
        "TicketSource": ticket["TicketSource"],
        "TicketType": ticket["TicketType"],
        "EndUserID": ticket["EndUserID"],
        "EndUserEmail": ticket["EndUserEmail"],
        "EndUserFirstName": ticket["EndUserFirstName"],
        "EndUserLastName": ticket["EndUserLastName"],
        "EndUserPhone": user.phone if user else None,
        "TicketResolvedDate": v3_timestamp(ticket["TicketResolvedDate"]),
        "TicketCreatedDate": v3_timestamp(ticket["TicketCreatedDate"]),
        "TechnicianFirstCommentDate": v3_timestamp(ticket["FirstResponseDate"]),
        "FirstResponseDueDate": v3_timestamp(response_due),
        "ClosedTicketDueDate": v3_timestamp(ticket["DueDate"]),
        "FirstComment": ticket["Description"] if include_comments else None,
        "LastEndUserComment": _text(last_user) if include_comments else None,
        "LastEndUserCommentTimestamp": _date(last_user),
        "LastTechnicianComment": _text(last_tech) if include_comments else None,
        "LastTechnicianCommentTimestamp": _date(last_tech),
        **_Durations(store, work).ticket_fields(),
        "CustomerID": ticket["CustomerID"],
        "CustomerName": ticket["CustomerName"],
        "CustomerBusinessNumber": customer.business_number if customer else None,
        "TechnicianContactID": ticket["TechnicianContactID"],
        "TechnicianFullName": ticket["TechnicianFullName"],
        "TechnicianEmail": ticket["TechnicianEmail"],
        "ContractID": None,
        "RelationType": "None",
        "RelatedTicketId": None,
    }


def _last(comments: Iterable[Json]) -> Json | None:
    last = None
    for last in comments:  # noqa: B007 - keep the last one
        pass
    return last


def _text(comment: Json | None) -> str | None:
    return None if comment is None else comment["CommentText"]


def _date(comment: Json | None) -> str | None:
    return None if comment is None else v3_timestamp(comment["CommentDate"])


def comment_dto(store: TicketStore, comment: Json) -> Json:
    """One comment as a published ``TicketCommentDto`` (no comment id, no ticket id)."""
    creator = comment["CreatorContactID"]
    tech = store.technicians.get(creator)
    user = None if tech else store.end_users.get(creator)
    person = tech or user
    text = comment["CommentText"]
    return {
        "Date": v3_timestamp(comment["CommentDate"]),
        "Comment": text,
        "CommentHtml": "<p>" + html.escape(text).replace("\n", "<br>") + "</p>",
        "EndUserID": user.contact_id if user else None,
        "TechnicianContactID": tech.contact_id if tech else None,
        "Email": person.email if person else None,
        "FirstName": person.first_name if person else None,
        "LastName": person.last_name if person else None,
        "IsInternal": comment["IsInternal"],
    }


def work_hours_dto(store: TicketStore, record: Json, include_rates: bool = True) -> Json:
    """One work-hour record as a published ``TicketWorkHoursDto`` (note ``Billiable`` [sic])."""
    tech = store.technicians.get(record["TechnicianContactID"])
    rate_id = store.rate_id(record) if include_rates else None
    return {
        "TicketID": record["TicketID"],
        "WorkHoursID": record["WorkHourID"],
        "StartWorkHour": v3_timestamp(record["StartDate"]),
        "EndWorkHour": v3_timestamp(record["EndDate"]),
        "TechnicianContactID": record["TechnicianContactID"],
        "Billiable": record["IsBillable"],
        "OnCustomerSite": store.on_customer_site(record),
        "Description": record["Notes"],
        "TechnicianFullName": tech.full_name if tech else None,
        "TechnicianEmail": tech.email if tech else None,
        "RateID": rate_id,
        "RateAmount": RATES[rate_id] if rate_id is not None else None,
    }


def workhour_record_dto(
    store: TicketStore, record: Json, ticket: Json, include_rates: bool = False
) -> Json:
    """One work-hour record as a published ``WorkhourRecordDto`` (account-wide listing)."""
    dto = work_hours_dto(store, record, include_rates)
    return {
        "WorkHoursID": dto.pop("WorkHoursID"),
        "TicketID": dto.pop("TicketID"),
        "CustomerID": ticket["CustomerID"],
        "EndUserID": ticket["EndUserID"],
        **dto,
    }


def durations_dto(store: TicketStore, ticket_id: int, billable: bool | None = True) -> Json:
    """A ``TicketDurationsDto``: billable (True), non-billable (False) or all (None) work.

    Raises:
        SandboxError: 404 when the ticket does not exist.
    """
    records = store.work_hours(ticket_id)
    if billable is not None:
        records = [r for r in records if r["IsBillable"] == billable]
    return _Durations(store, records).dto(ticket_id)


def summary_dto(store: TicketStore, ticket_id: int) -> Json:
    """A ``TicketWorkHoursSummaryDto``: ``{TicketID, Billable, NonBillable}`` durations."""
    with store.lock:
        return {
            "TicketID": ticket_id,
            "Billable": durations_dto(store, ticket_id, True),
            "NonBillable": durations_dto(store, ticket_id, False),
        }


def snapshot(store: TicketStore) -> dict[str, list[Json]]:
    """Everything the v3 API serves right now, plus the ticket id where the shape lacks it.

    Returns:
        ``{"tickets": [TicketDto], "comments": [{"TicketID", **TicketCommentDto}],
        "work_hours": [TicketWorkHoursDto], "billable_durations": [TicketDurationsDto],
        "work_hours_summaries": [TicketWorkHoursSummaryDto]}``; tickets, durations and
        summaries by ticket id, comments by ticket id then as served, work hours by
        WorkHoursID.
    """
    with store.lock:
        ids = store.ticket_ids()
        comments = [
            {"TicketID": tid, **comment_dto(store, c)} for tid in ids for c in store.comments(tid)
        ]
        work = [work_hours_dto(store, r) for tid in ids for r in store.work_hours(tid)]
        return {
            "tickets": [ticket_dto(store, tid) for tid in ids],
            "comments": comments,
            "work_hours": sorted(work, key=lambda w: w["WorkHoursID"]),
            "billable_durations": [durations_dto(store, tid, True) for tid in ids],
            "work_hours_summaries": [summary_dto(store, tid) for tid in ids],
        }


# --------------------------------------------------------------------------- paging


def paged(
    sb: AteraSandbox,
    req: Request,
    keys: list[Any],
    build: Callable[[Any], Json],
) -> Json:
    """The published paged envelope of one page of ``keys``, built item by item.

    Args:
        sb: The sandbox (for absolute links).
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
        "prevLink": page_link(sb, req, page - 1) if page > 1 else None,
        "nextLink": page_link(sb, req, page + 1) if page < pages else None,
    }


def page_link(sb: AteraSandbox, req: Request, page: int) -> str:
    """Absolute URL of the same path and query with ``page`` changed (or added)."""
    pairs = parse_qsl(req.raw_query, keep_blank_values=True)
    replaced = False
    for index, (key, _) in enumerate(pairs):
        if key.lower() == "page":
            pairs[index] = (key, str(page))
            replaced = True
    if not replaced:
        pairs.append(("page", str(page)))
    return f"{sb.base_url}{req.path}?{urlencode(pairs)}"


def _ticket_page(sb: AteraSandbox, req: Request, ids: list[int], include_comments: bool) -> Json:
    store = sb.store
    with store.lock:
        return paged(sb, req, ids, lambda tid: ticket_dto(store, tid, include_comments))


# --------------------------------------------------------------------------- reads


def _filtered_ids(store: TicketStore, ids: list[int], query: dict[str, list[str]]) -> list[int]:
    customer_raw = param(query, "customerId")
    status = param(query, "ticketStatus")
    if customer_raw not in (None, ""):
        try:
            customer_id = int(customer_raw)
        except ValueError:
            raise SandboxError(400, f"Invalid customerId {customer_raw!r}") from None
        ids = [tid for tid in ids if store.get_ticket(tid)["CustomerID"] == customer_id]
    if status not in (None, ""):
        wanted = status.lower()
        ids = [tid for tid in ids if store.get_ticket(tid)["TicketStatus"].lower() == wanted]
    return ids


def _list_tickets(sb: AteraSandbox, req: Request) -> Reply:
    with sb.store.lock:
        ids = _filtered_ids(sb.store, sb.store.ticket_ids(), req.query)
        return 200, _ticket_page(sb, req, ids, include_comments=True)


def _no_comments(sb: AteraSandbox, req: Request) -> Reply:
    store = sb.store
    with store.lock:
        ids = [tid for tid in store.ticket_ids() if not store.comments(tid)]
        ids = _filtered_ids(store, ids, req.query)
        return 200, _ticket_page(sb, req, ids, include_comments=True)


def _status_modified(sb: AteraSandbox, req: Request) -> Reply:
    store = sb.store
    include = _query_bool(req.query, "includeComments", True)
    with store.lock:
        ids = [
            tid
            for tid in store.ticket_ids()
            if store.get_ticket(tid)["TicketStatus"] in _CLOSED_STATUSES
        ]
        return 200, _ticket_page(sb, req, ids, include)


def _last_modified(sb: AteraSandbox, req: Request) -> Reply:
    instant = _required_instant(req.query, "date")
    include = _query_bool(req.query, "includeComments", False)
    with sb.store.lock:
        return 200, _ticket_page(sb, req, sb.store.ids_modified_after(instant), include)


def _get_ticket(sb: AteraSandbox, req: Request) -> Reply:
    return 200, ticket_dto(sb.store, ticket_id_of(req.arg))


def _list_comments(sb: AteraSandbox, req: Request) -> Reply:
    store = sb.store
    comments = store.comments(ticket_id_of(req.arg))
    return 200, paged(sb, req, comments, lambda c: comment_dto(store, c))


def _work_hours_summary(sb: AteraSandbox, req: Request) -> Reply:
    return 200, summary_dto(sb.store, ticket_id_of(req.arg))


def _work_hours_records(sb: AteraSandbox, req: Request) -> Reply:
    store = sb.store
    records = store.work_hours(ticket_id_of(req.arg))
    return 200, paged(sb, req, records, lambda r: work_hours_dto(store, r))


def _billable_duration(sb: AteraSandbox, req: Request) -> Reply:
    return 200, durations_dto(sb.store, ticket_id_of(req.arg), True)


def _non_billable_duration(sb: AteraSandbox, req: Request) -> Reply:
    return 200, durations_dto(sb.store, ticket_id_of(req.arg), False)


def _bulk_billable_duration(sb: AteraSandbox, req: Request) -> Reply:
    ids = body_json(req.body)
    if not isinstance(ids, list) or not all(_is_int(i) for i in ids):
        raise SandboxError(400, "Request body must be a JSON array of ticket IDs")
    if len(ids) > MAX_BULK_IDS:
        raise SandboxError(400, f"At most {MAX_BULK_IDS} ticket IDs per request, got {len(ids)}")
    store = sb.store
    durations = []
    with store.lock:
        known = set(store.ticket_ids())
        for ticket_id in dict.fromkeys(ids):  # request order, duplicates once
            if ticket_id in known:
                durations.append(durations_dto(store, ticket_id, True))
    return 200, durations


def _account_work_hours(sb: AteraSandbox, req: Request) -> Reply:
    start = _query_instant(req.query, "startWorkhour")
    end = _query_instant(req.query, "endWorkhour")
    include_rates = _query_bool(req.query, "includeRates", False)
    store = sb.store
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
            sb, req, pairs, lambda p: workhour_record_dto(store, p[0], p[1], include_rates)
        )


# --------------------------------------------------------------------------- writes

_CREATE_FIELDS = (
    "TicketTitle",
    "Description",
    "TicketPriority",
    "TicketType",
    "EndUserID",
    "TechnicianContactID",
    "CustomerID",  # not in the published model; accepted like the seed does
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


def _technician_from_email(sb: AteraSandbox, email: Any) -> int:
    tech = sb.store.technician_by_email(email) if isinstance(email, str) else None
    if tech is None:
        raise SandboxError(400, "Technician not found")
    return tech.contact_id


def _create_ticket(sb: AteraSandbox, req: Request) -> Reply:
    body = _object(body_json(req.body))
    internal = {k: body[k] for k in _CREATE_FIELDS if body.get(k) is not None}
    if "EndUserID" not in internal and body.get("EndUserEmail") is not None:
        email = body["EndUserEmail"]
        user = sb.store.end_user_by_email(email) if isinstance(email, str) else None
        if user is None:
            raise SandboxError(
                400, "End user not found (the sandbox does not create contacts): use EndUserID"
            )
        internal["EndUserID"] = user.contact_id
    if "TechnicianContactID" not in internal and body.get("TechnicianEmail") is not None:
        internal["TechnicianContactID"] = _technician_from_email(sb, body["TechnicianEmail"])
    if body.get("TicketStatus") not in (None, "Open"):
        raise SandboxError(400, "New tickets are Open: omit TicketStatus or send Open")
    created = sb.store.create_ticket(internal, impact=body.get("TicketImpact"))
    return 201, {"ActionID": str(created["TicketID"])}


def _update_ticket(sb: AteraSandbox, req: Request) -> Reply:
    ticket_id = ticket_id_of(req.arg)
    body = _object(body_json(req.body))
    internal = {k: body[k] for k in _UPDATE_FIELDS if body.get(k) is not None}
    if "TechnicianContactID" not in internal and body.get("TechnicianEmail") is not None:
        internal["TechnicianContactID"] = _technician_from_email(sb, body["TechnicianEmail"])
    sb.store.update_ticket(ticket_id, internal, impact=body.get("TicketImpact"))
    return 200, {"ActionID": str(ticket_id)}


def _delete_ticket(sb: AteraSandbox, req: Request) -> Reply:
    sb.store.delete_ticket(ticket_id_of(req.arg))
    return 204, b""


def _add_comment(sb: AteraSandbox, req: Request) -> Reply:
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
            creator = _technician_from_email(sb, tech["TechnicianEmail"])
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
    else:  # neither: the seed's fields and defaults (the ticket's technician, public)
        internal.update({k: body[k] for k in ("CreatorContactID", "IsInternal") if k in body})
    when = None
    if body.get("CommentTimestampUTC") is not None:
        when = _body_instant(body["CommentTimestampUTC"], "CommentTimestampUTC")
    comment = sb.store.add_comment(ticket_id, internal, when=when)
    return 200, {"ActionID": str(comment["CommentID"])}


def _add_work_hours(sb: AteraSandbox, req: Request) -> Reply:
    ticket_id = ticket_id_of(req.arg)
    body = _object(body_json(req.body))
    start = _body_instant(body.get("StartWorkHour"), "StartWorkHour")
    end = _body_instant(body.get("EndWorkHour"), "EndWorkHour")
    tech_id = body.get("TechnicianContactID")
    if tech_id is None and body.get("TechnicianEmail") is not None:
        tech_id = _technician_from_email(sb, body["TechnicianEmail"])
    if tech_id is None:
        tech_id = sb.store.get_ticket(ticket_id)["TechnicianContactID"]
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
    record = sb.store.add_work_hours(
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


def _v3(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern, re.IGNORECASE)  # ASP.NET routes ignore case


#: The routes of the published v3 dialect (under ``/api/v3``).
V3_ROUTES: Routes = [
    (_v3(r"^/tickets$"), {"GET": _list_tickets, "POST": _create_ticket}),
    (_v3(r"^/tickets/noComments$"), {"GET": _no_comments}),
    (_v3(r"^/tickets/statusmodified$"), {"GET": _status_modified}),
    (_v3(r"^/tickets/lastmodified$"), {"GET": _last_modified}),
    (_v3(r"^/tickets/billableduration$"), {"POST": _bulk_billable_duration}),
    (
        _v3(r"^/tickets/([^/]+)$"),
        {
            "GET": _get_ticket,
            "POST": _update_ticket,
            "PUT": _update_ticket,
            "DELETE": _delete_ticket,
        },
    ),
    (_v3(r"^/tickets/([^/]+)/comments$"), {"GET": _list_comments, "POST": _add_comment}),
    (_v3(r"^/tickets/([^/]+)/workhours$"), {"GET": _work_hours_summary, "POST": _add_work_hours}),
    (_v3(r"^/tickets/([^/]+)/workhoursrecords$"), {"GET": _work_hours_records}),
    (_v3(r"^/tickets/([^/]+)/billableduration$"), {"GET": _billable_duration}),
    (_v3(r"^/tickets/([^/]+)/nonbillableduration$"), {"GET": _non_billable_duration}),
    (_v3(r"^/workhours$"), {"GET": _account_work_hours}),
]
