"""Plausible service-desk activity between two starts of the demo sandbox.

Given the store as it was when the demo last ran and the time since, this plays
what an MSP's desk would have done meanwhile, in time order, through the
store's own API (so its business rules hold): new tickets arrive, technicians
pick them up and answer, people comment, work is logged on the ticket it was
done for, tickets wait, get resolved, closed, sometimes reopened.

The rules a warehouse checks hold by construction:

* Closed stays closed: a Closed ticket gets no more events.
* A ticket's status may change several times between two syncs, but the change
  a sync sees (from the status at the last start to the new one) is always one
  the rules allow: no Open -> Closed, no Resolved -> Pending.
* Comments and work hours come after their ticket's creation, and stay on it;
  billable durations are the store's sums of the billable work-hour records.
"""

from __future__ import annotations

import heapq
import math
import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from pipelines.sandbox.data import (
    _END_USER_REPLIES,
    _FIRST_RESPONSES,
    _INTERNAL_NOTES,
    _RESOLUTION_MEDIAN_HOURS,
    _RESPONSE_MEDIAN_MINUTES,
    _SYMPTOMS,
    _SYSTEMS,
    _TECH_UPDATES,
    _WORK_MINUTE_WEIGHTS,
    _WORK_MINUTES,
    _WORK_NOTES,
    PRIORITIES,
    TICKET_TYPES,
    TRANSITIONS,
    TicketStore,
    parse_iso,
)

NEW_TICKETS_PER_DAY = 8.0
"""About the rate of the generated year (2,847 tickets)."""
MAX_SIMULATED_DAYS = 60
"""After a longer pause, only the last 60 days are played (the desk was quiet before)."""
MEAN_HOURS_BETWEEN_EVENTS = {"Open": 8.0, "Pending": 24.0, "Resolved": 48.0}
MINUTES_TO_ASSIGN = 45.0


@dataclass
class ActivityReport:
    """What the simulation did, for one log line."""

    since: datetime
    until: datetime
    new_tickets: int = 0
    comments: int = 0
    work_hours: int = 0
    status_changes: int = 0


def allowed_as_seen(seen: set[str], after: str) -> bool:
    """Whether a sync that last saw a ticket in one of the `seen` statuses may see `after` next.

    (More than one when the last run failed: the warehouse may or may not have seen
    the statuses of the run before it; none for a ticket no sync has seen.)
    """
    return all(after == before or after in TRANSITIONS[before] for before in seen)


class _Desk:
    """Plays events for the tickets of one store between `since` and `until`."""

    def __init__(
        self,
        store: TicketStore,
        since: datetime,
        until: datetime,
        rng: random.Random,
        seen: dict[int, set[str]],
    ):
        self.store = store
        self.until = until
        self.rng = rng
        self.now = since
        self.report = ActivityReport(since, until)
        self.seen = seen
        self.queue: list[tuple[datetime, int, int]] = []
        self._order = 0

    # -- scheduling ---------------------------------------------------------

    def schedule(self, ticket_id: int, after: datetime, mean_hours: float) -> None:
        when = after + timedelta(hours=self.rng.expovariate(1.0 / mean_hours))
        if when <= self.until:
            self._order += 1
            heapq.heappush(self.queue, (when, self._order, ticket_id))

    def run(self) -> ActivityReport:
        with self.store.lock:
            for ticket_id in self.store.ticket_ids():
                status = self.store.get_ticket(ticket_id)["TicketStatus"]
                self.seen.setdefault(ticket_id, {status})
                if status != "Closed":
                    self.schedule(ticket_id, self.now, self._mean_hours(ticket_id))
            self._schedule_arrivals()
            saved_clock = self.store.clock
            self.store.clock = lambda: self.now
            try:
                while self.queue:
                    when, _, ticket_id = heapq.heappop(self.queue)
                    self.now = when
                    self._act(ticket_id)
            finally:
                self.store.clock = saved_clock
        return self.report

    def _schedule_arrivals(self) -> None:
        days = (self.until - self.now).total_seconds() / 86400
        count = _poisson(self.rng, NEW_TICKETS_PER_DAY * days)
        for _ in range(count):
            offset = timedelta(days=days * self.rng.random())
            self._order += 1
            heapq.heappush(self.queue, (self.now + offset, self._order, 0))

    def _mean_hours(self, ticket_id: int) -> float:
        ticket = self.store.get_ticket(ticket_id)
        if ticket["TechnicianContactID"] is None:
            return MINUTES_TO_ASSIGN / 60
        if ticket["TicketStatus"] == "Open" and not self._answered(ticket):
            return _RESPONSE_MEDIAN_MINUTES[ticket["TicketPriority"]] / 60
        if ticket["TicketStatus"] == "Open":
            return min(
                MEAN_HOURS_BETWEEN_EVENTS["Open"],
                _RESOLUTION_MEDIAN_HOURS[ticket["TicketPriority"]] / 2,
            )
        return MEAN_HOURS_BETWEEN_EVENTS[ticket["TicketStatus"]]

    # -- events -------------------------------------------------------------

    def _act(self, ticket_id: int) -> None:
        if ticket_id == 0:
            ticket_id = self._new_ticket()
        else:
            ticket = self.store.get_ticket(ticket_id)
            if ticket["TechnicianContactID"] is None:
                self._assign(ticket)
            elif ticket["TicketStatus"] == "Open" and not self._answered(ticket):
                self._first_response(ticket)
            else:
                self._step(ticket)
        if self.store.get_ticket(ticket_id)["TicketStatus"] != "Closed":
            self.schedule(ticket_id, self.now, self._mean_hours(ticket_id))

    def _new_ticket(self) -> int:
        rng = self.rng
        customer = rng.choice(list(self.store.customers.values()))
        user = rng.choice(customer.end_users)
        technician = rng.choice(list(self.store.technicians)) if rng.random() < 0.8 else None
        title = f"{rng.choice(_SYSTEMS)} {rng.choice(_SYMPTOMS)}"
        created = self.store.create_ticket(
            {
                "TicketTitle": title,
                "Description": f"{user.first_name} reports: {title}.",
                "TicketPriority": rng.choices(PRIORITIES, weights=(30, 45, 20, 5))[0],
                "TicketType": rng.choices(TICKET_TYPES, weights=(45, 30, 15, 10))[0],
                "CustomerID": customer.customer_id,
                "EndUserID": user.contact_id,
                "TechnicianContactID": technician,
            }
        )
        self.report.new_tickets += 1
        return int(created["TicketID"])

    def _assign(self, ticket: dict[str, Any]) -> None:
        technician = self.rng.choice(list(self.store.technicians))
        self.store.update_ticket(ticket["TicketID"], {"TechnicianContactID": technician})

    def _answered(self, ticket: dict[str, Any]) -> bool:
        """A technician has answered (older data may lack the FirstResponseDate)."""
        if ticket["FirstResponseDate"] is not None:
            return True
        return any(
            not c["IsInternal"] and c["CreatorContactID"] in self.store.technicians
            for c in self.store.comments(ticket["TicketID"])
        )

    def _first_response(self, ticket: dict[str, Any]) -> None:
        text = self.rng.choice(_FIRST_RESPONSES).format(first=ticket["EndUserFirstName"] or "")
        self._comment(ticket, text, ticket["TechnicianContactID"], internal=False)

    def _step(self, ticket: dict[str, Any]) -> None:
        """One of: a comment, logged work, or a status change (when the rules allow it)."""
        actions: list[tuple[float, Callable[[dict[str, Any]], None]]] = [
            (0.35, self._conversation),
            (0.25, self._log_work),
            (0.40, self._change_status),
        ]
        roll = self.rng.random()
        for share, action in actions:
            if roll < share:
                action(ticket)
                return
            roll -= share

    def _conversation(self, ticket: dict[str, Any]) -> None:
        roll = self.rng.random()
        if roll < 0.3:
            self._comment(ticket, self.rng.choice(_INTERNAL_NOTES), None, internal=True)
        elif roll < 0.6:
            self._comment(ticket, self.rng.choice(_TECH_UPDATES), None, internal=False)
        else:
            reply = self.rng.choice(_END_USER_REPLIES)
            self._comment(ticket, reply, ticket["EndUserID"], internal=False)

    def _comment(
        self, ticket: dict[str, Any], text: str, creator: int | None, *, internal: bool
    ) -> None:
        body: dict[str, Any] = {"CommentText": text, "IsInternal": internal}
        if creator is not None:
            body["CreatorContactID"] = creator
        self.store.add_comment(ticket["TicketID"], body, when=self.now)
        self.report.comments += 1

    def _log_work(self, ticket: dict[str, Any]) -> None:
        minutes = self.rng.choices(_WORK_MINUTES, weights=_WORK_MINUTE_WEIGHTS)[0]
        start = self.now - timedelta(minutes=minutes)
        if start <= parse_iso(ticket["TicketCreatedDate"]):
            return  # the work would start before the ticket existed
        self.store.add_work_hours(
            ticket["TicketID"],
            ticket["TechnicianContactID"],
            start,
            self.now,
            is_billable=self.rng.random() < 0.7,
            notes=self.rng.choice(_WORK_NOTES),
        )
        self.report.work_hours += 1

    def _change_status(self, ticket: dict[str, Any]) -> None:
        current = ticket["TicketStatus"]
        wanted = {
            "Open": ("Resolved", "Pending"),
            "Pending": ("Open", "Resolved"),
            "Resolved": ("Closed", "Open"),
        }[current]
        weights = (0.85, 0.15) if current == "Resolved" else (0.6, 0.4)
        new = self.rng.choices(wanted, weights=weights)[0]
        if not allowed_as_seen(self.seen.get(ticket["TicketID"], set()), new):
            return  # the next sync would see a forbidden change: wait for it first
        if new == "Open" and current == "Resolved":
            reply = "Still happening on my side, unfortunately."
            self._comment(ticket, reply, ticket["EndUserID"], internal=False)
        self.store.update_ticket(ticket["TicketID"], {"TicketStatus": new})
        self.report.status_changes += 1


def simulate_activity(
    store: TicketStore,
    since: datetime,
    until: datetime,
    rng: random.Random,
    seen: dict[int, set[str]] | None = None,
) -> ActivityReport:
    """Play the desk's activity in (`since`, `until`] on `store` (at most the last 60 days).

    Args:
        seen: per ticket, the statuses the warehouse may have last seen it in
            (default, and for tickets missing: its status at `since`).
    """
    since = max(since, until - timedelta(days=MAX_SIMULATED_DAYS))
    if until <= since:
        return ActivityReport(since, until)
    return _Desk(store, since, until, rng, dict(seen or {})).run()


def _poisson(rng: random.Random, mean: float) -> int:
    """A Poisson draw (Knuth's method for small means, normal approximation for large)."""
    if mean <= 0:
        return 0
    if mean > 50:
        return max(0, round(rng.gauss(mean, math.sqrt(mean))))
    limit, count, product = math.exp(-mean), 0, rng.random()
    while product > limit:
        count += 1
        product *= rng.random()
    return count
