"""The published API shape's payloads (DTOs), built from the sandbox's one data model.

The store (:class:`~pipelines.sandbox.data.TicketStore`) keeps the contract
shape's records; this module turns them into the shapes of Atera's published
OpenAPI v3 description: ``TicketDto``, ``TicketCommentDto``,
``TicketWorkHoursDto``/``WorkhourRecordDto``, ``TicketDurationsDto``,
``TicketWorkHoursSummaryDto`` and ``ProblemDetails``. The routes that serve
them are in :mod:`pipelines.sandbox.routes.published`.

The API shape only changes what goes over the wire: the same seed gives the
same tickets, comments (same order) and work-hour ids in both shapes. Where
the published description is silent, the sandbox decides:

* Timestamps are served without an offset, with seven fractional digits, as
  .NET writes them (``2024-02-15T09:00:00.0000000``), and mean UTC (other
  formats: :mod:`pipelines.sandbox.timestamps`). The data model keeps whole
  seconds, so the fraction is always ``.0000000``; the only sub-second value
  the model has, a ticket's modification time, is not a field of ``TicketDto``
  (it only drives ``/tickets/lastmodified``).
* ``TicketNumber`` is ``str(TicketID)``; ``TicketImpact`` comes from the
  priority and the ticket id (:func:`~pipelines.sandbox.data.default_impact`)
  unless set by a write; ``EndUserPhone`` and ``CustomerBusinessNumber`` are
  fictional values derived from the ids; ``ContractID`` is the ticket's contract
  (:mod:`pipelines.sandbox.accounts`); ``RelatedTicketId`` is null and
  ``RelationType`` is ``"None"`` (the sandbox has no relations).
* ``TechnicianFirstCommentDate`` is the contract's first-response date (nulls
  included); ``FirstResponseDueDate`` is creation + the first-response target of
  the current priority, times the factor of the ticket's contract's SLA policy
  (:data:`~pipelines.sandbox.accounts.RESPONSE_TARGET_FACTORS`);
  ``ClosedTicketDueDate`` is the contract's due date;
  ``FirstComment`` is the contract's description.
* ``LastEndUserComment``/``LastTechnicianComment`` (and timestamps) are the
  latest comment by the ticket's end user / the latest public (not internal)
  technician comment, in comment order.
* A work-hour record is on the customer's site (``OnCustomerSite``) when its
  notes say ``On-site visit`` unless recorded otherwise; it counts as "on SLA"
  when it starts on a business day (Monday to Friday) between 08:00 and 18:00
  UTC, else "off SLA". Rates: billable on-site work has RateID 2 (150.0),
  other billable work RateID 1 (120.0), non-billable work none.
* Durations in hours are ``seconds / 3600`` (full double precision, summed in
  seconds first). The deprecated ``*DurationSeconds/Minutes`` of ``TicketDto``
  cover all records (minutes rounded down).
"""

from __future__ import annotations

import html
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from pipelines.sandbox.data import (
    RATES,
    RESPONSE_TARGET_MINUTES,
    TicketStore,
    parse_iso,
    to_utc,
)
from pipelines.sandbox.timestamps import ISO7, format_instant

Json = dict[str, Any]

PROBLEM_CONTENT_TYPE = "application/problem+json"
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


def published_timestamp(value: str | datetime | None) -> str | None:
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
    return format_instant(to_utc(value if isinstance(value, datetime) else parse_iso(value)), ISO7)


def _hours(seconds: int) -> float:
    return seconds / 3600


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
    contract = store.accounts.contract_for(ticket_id, ticket["CustomerID"])
    factor = store.accounts.response_target_factor(ticket_id, ticket["CustomerID"])
    created = parse_iso(ticket["TicketCreatedDate"])
    target = RESPONSE_TARGET_MINUTES[ticket["TicketPriority"]] * factor
    response_due = created + timedelta(minutes=target)
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
        "TicketResolvedDate": published_timestamp(ticket["TicketResolvedDate"]),
        "TicketCreatedDate": published_timestamp(ticket["TicketCreatedDate"]),
        "TechnicianFirstCommentDate": published_timestamp(ticket["FirstResponseDate"]),
        "FirstResponseDueDate": published_timestamp(response_due),
        "ClosedTicketDueDate": published_timestamp(ticket["DueDate"]),
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
        "ContractID": contract.contract_id if contract else None,
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
    return None if comment is None else published_timestamp(comment["CommentDate"])


def comment_dto(store: TicketStore, comment: Json) -> Json:
    """One comment as a published ``TicketCommentDto`` (no comment id, no ticket id)."""
    creator = comment["CreatorContactID"]
    tech = store.technicians.get(creator)
    user = None if tech else store.end_users.get(creator)
    person = tech or user
    text = comment["CommentText"]
    return {
        "Date": published_timestamp(comment["CommentDate"]),
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
        "StartWorkHour": published_timestamp(record["StartDate"]),
        "EndWorkHour": published_timestamp(record["EndDate"]),
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
    """Everything the published API serves right now, plus the ticket id where the shape lacks it.

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
