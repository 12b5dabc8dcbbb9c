"""Fixed tickets that exercise the first-response SLA rules an audit checks.

With ``AteraSandbox(sla_audit_tickets=True)`` (``--sla-audit-tickets``) the
sandbox adds three tickets after the seeded ones, served in both API shapes
like any other (the published ``TechnicianFirstCommentDate`` is the
``FirstResponseDate`` below). ``T0`` is the Tuesday 09:00 UTC at least seven
days before the data's ``now`` (:func:`audit_start`); all three are Closed,
with the first seeded customer's first contact and the first technician.

``resolved_in_time`` (the first extra id), Critical (target 60 minutes)
    Created at T0, Resolved at T0+10m, the first public technician comment and
    ``FirstResponseDate`` at T0+90m, Closed at T0+1d. The SLA was fulfilled
    by the resolution at +10 minutes: met, not breached at +90.
``late_first_response_field`` (the second), High (240 minutes)
    Created at T0, a public technician comment at T0+30m, but
    ``FirstResponseDate`` at T0+300m (more than a minute after that comment),
    Resolved at T0+6h, Closed at T0+1d. The first response is the comment at
    +30 minutes (met); the field's disagreement is a data-quality finding.
``first_response_before_creation`` (the third), Medium (480 minutes)
    Created at T0, ``FirstResponseDate`` at T0-15m (before creation), the first
    public technician comment at T0+45m, Resolved at T0+3h, Closed at T0+1d.
    The field is a data-quality finding, not a perfect zero.

The tickets are built through the store's own writes on a clock set to each
step's time, so statuses, resolution dates and comments follow its rules;
only the disagreeing first-response fields are set directly.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from pipelines.sandbox.data import TicketStore

#: The scenarios, in the order their tickets are added.
SCENARIOS = ("resolved_in_time", "late_first_response_field", "first_response_before_creation")
_TUESDAY = 1


def audit_start(now: datetime) -> datetime:
    """T0: the Tuesday 09:00 UTC at least seven days before ``now``."""
    start = (now - timedelta(days=7)).replace(hour=9, minute=0, second=0, microsecond=0)
    return start - timedelta(days=(start.weekday() - _TUESDAY) % 7)


def add_sla_audit_tickets(store: TicketStore) -> dict[str, int]:
    """Add the three audit tickets to ``store``; return scenario -> ticket id."""
    t0 = audit_start(store.generated_at)
    saved_clock = store.clock
    try:
        return {
            name: build(store, t0)
            for name, build in zip(
                SCENARIOS,
                (_resolved_in_time, _late_first_response_field, _first_response_before_creation),
                strict=True,
            )
        }
    finally:
        store.clock = saved_clock


def _at(store: TicketStore, t0: datetime, minutes: float) -> None:
    """Set the store's clock to T0 + ``minutes`` (writes are stamped with it)."""
    store.clock = _fixed(t0 + timedelta(minutes=minutes))


def _fixed(instant: datetime) -> Callable[[], datetime]:
    return lambda: instant


def _open(store: TicketStore, t0: datetime, priority: str, title: str) -> int:
    customer = next(iter(store.customers.values()))
    technician = min(store.technicians)
    _at(store, t0, 0)
    created = store.create_ticket(
        {
            "TicketTitle": title,
            "Description": f"SLA audit scenario: {title}",
            "TicketPriority": priority,
            "TicketType": "Incident",
            "EndUserID": customer.end_users[0].contact_id,
            "TechnicianContactID": technician,
        }
    )
    return int(created["TicketID"])


def _comment(store: TicketStore, ticket_id: int, t0: datetime, minutes: float) -> None:
    _at(store, t0, minutes)
    technician = store.get_ticket(ticket_id)["TechnicianContactID"]
    text = "Hi, I'm on it and will update you shortly."
    store.add_comment(ticket_id, {"CommentText": text, "CreatorContactID": technician})


def _status(store: TicketStore, ticket_id: int, t0: datetime, minutes: float, status: str) -> None:
    _at(store, t0, minutes)
    store.update_ticket(ticket_id, {"TicketStatus": status})


def _resolved_in_time(store: TicketStore, t0: datetime) -> int:
    ticket_id = _open(store, t0, "Critical", "Resolved within target, answered later")
    _status(store, ticket_id, t0, 10, "Resolved")
    _comment(store, ticket_id, t0, 90)  # the first public technician comment sets the field
    _status(store, ticket_id, t0, 24 * 60, "Closed")
    return ticket_id


def _late_first_response_field(store: TicketStore, t0: datetime) -> int:
    ticket_id = _open(store, t0, "High", "First-response field later than the first answer")
    _comment(store, ticket_id, t0, 30)
    store.set_first_response(ticket_id, t0 + timedelta(minutes=300))
    _status(store, ticket_id, t0, 6 * 60, "Resolved")
    _status(store, ticket_id, t0, 24 * 60, "Closed")
    return ticket_id


def _first_response_before_creation(store: TicketStore, t0: datetime) -> int:
    ticket_id = _open(store, t0, "Medium", "First-response field before the ticket's creation")
    _comment(store, ticket_id, t0, 45)
    store.set_first_response(ticket_id, t0 - timedelta(minutes=15))
    _status(store, ticket_id, t0, 3 * 60, "Resolved")
    _status(store, ticket_id, t0, 24 * 60, "Closed")
    return ticket_id
