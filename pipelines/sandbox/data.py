"""Deterministic ticket data and the in-memory store behind the Atera sandbox.

The store holds tickets, comments and work-hour records in the exact shape the
contract API shape serves them and enforces the API's business rules
(validation, status transitions, first response). A few attributes only the
published API shape shows (ticket impact, on-site flag and rate of a work-hour
record) live in side tables, so the contract shapes stay untouched;
:mod:`pipelines.sandbox.dtos` turns the same data into the published shapes.
The store knows nothing about HTTP: the server turns :class:`SandboxError` into
error responses.
"""

from __future__ import annotations

import calendar
import json
import math
import random
import re
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from pipelines.sandbox.accounts import Accounts

PRIORITIES = ("Low", "Medium", "High", "Critical")
STATUSES = ("Open", "Pending", "Resolved", "Closed")
TICKET_TYPES = ("Problem", "Request", "Incident", "Change")
TICKET_SOURCES = ("Portal", "Email", "Agent", "API")

#: First-response SLA targets in minutes, per priority.
RESPONSE_TARGET_MINUTES = {"Critical": 60, "High": 240, "Medium": 480, "Low": 1440}
#: Resolution targets in hours, per priority (used for DueDate).
RESOLUTION_TARGET_HOURS = {"Critical": 4, "High": 24, "Medium": 72, "Low": 120}

#: Allowed status transitions (a same-status update is always a no-op).
TRANSITIONS = {
    "Open": frozenset({"Pending", "Resolved"}),
    "Pending": frozenset({"Open", "Resolved", "Closed"}),
    "Resolved": frozenset({"Open", "Closed"}),
    "Closed": frozenset(),
}

#: Ticket impact values of the published API shape.
IMPACTS = ("NoImpact", "SiteDown", "ServerIssue", "Minor", "Major", "Crisis")
#: Default impact per priority; the ticket id picks one (no random draw, so the
#: generated seed data is the same as before impacts existed).
DEFAULT_IMPACTS = {
    "Low": ("NoImpact", "Minor"),
    "Medium": ("Minor", "Major"),
    "High": ("Major", "ServerIssue"),
    "Critical": ("SiteDown", "Crisis"),
}
#: Work-hour notes that mean the technician was on the customer's site.
ON_SITE_NOTES = "On-site visit"
#: Hourly rates (RateID -> amount): 1 = remote work, 2 = on-site work.
RATES = {1: 120.0, 2: 150.0}
REMOTE_RATE_ID, ON_SITE_RATE_ID = 1, 2

FIRST_TICKET_ID = 10001
FIRST_COMMENT_ID = 500001
FIRST_WORK_HOUR_ID = 900001
FIRST_CUSTOMER_ID = 501
FIRST_END_USER_ID = 20001
FIRST_TECHNICIAN_ID = 1001

ISO_EXAMPLE = "2024-02-01T00:00:00Z"
_DATE_FORMAT = f"expected an ISO 8601 date-time such as {ISO_EXAMPLE}"


class SandboxError(Exception):
    """A client error the API answers with a JSON ``{"message": ...}`` body.

    Args:
        status: HTTP status code (400, 404, ...).
        message: Human-readable message returned to the client.
    """

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass(frozen=True)
class Technician:
    """A technician (agent) of the managed-service provider."""

    contact_id: int
    first_name: str
    last_name: str
    email: str

    @property
    def full_name(self) -> str:
        """Display name as the API shows it."""
        return f"{self.first_name} {self.last_name}"


@dataclass(frozen=True)
class EndUser:
    """A contact at a customer."""

    contact_id: int
    customer_id: int
    first_name: str
    last_name: str
    email: str

    @property
    def phone(self) -> str:
        """A fictional phone number derived from the contact id."""
        return f"+1-555-{self.contact_id % 10000:04d}"


@dataclass
class Customer:
    """A customer company with its contacts."""

    customer_id: int
    name: str
    domain: str
    end_users: list[EndUser] = field(default_factory=list)

    @property
    def business_number(self) -> str:
        """A fictional business (tax) number derived from the customer id."""
        return f"BN-{self.customer_id:06d}"


def default_impact(ticket_id: int, priority: str) -> str:
    """The impact a ticket gets when none is given (deterministic, see :data:`DEFAULT_IMPACTS`)."""
    options = DEFAULT_IMPACTS[priority]
    return options[ticket_id % len(options)]


# --------------------------------------------------------------------------- time helpers


def format_ts(epoch: int) -> str:
    """Format whole epoch seconds as an ISO 8601 UTC string with ``Z``.

    Args:
        epoch: Seconds since the Unix epoch.

    Returns:
        A string such as ``2024-02-15T09:00:00Z``.
    """
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch))


def format_dt(value: datetime) -> str:
    """Format a datetime as an ISO 8601 UTC string with ``Z`` (second precision).

    Args:
        value: An aware datetime (naive values are taken as UTC).

    Returns:
        A string such as ``2024-02-15T09:00:00Z``.
    """
    return format_ts(int(math.floor(to_utc(value).timestamp())))


def to_utc(value: datetime) -> datetime:
    """Return ``value`` as an aware UTC datetime; naive values are taken as UTC."""
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


_FRACTION = re.compile(r"(\.\d{1,6})\d*")


def parse_iso(text: str) -> datetime:
    """Parse an ISO 8601 date-time leniently into an aware UTC datetime.

    Accepts ``Z``, explicit offsets (``+02:00``, ``+0200``), fractional seconds
    of any length, a space instead of ``T`` and no offset at all (taken as UTC).

    Args:
        text: The string to parse.

    Returns:
        The instant as an aware UTC datetime.

    Raises:
        ValueError: When ``text`` is not an ISO 8601 date-time.
    """
    candidate = _FRACTION.sub(r"\1", text.strip().upper())
    if not candidate or candidate[0] in "+-":
        raise ValueError(f"not an ISO 8601 date-time: {text!r}")
    try:
        parsed = datetime.fromisoformat(candidate)
    except ValueError:
        # An unescaped "+" in a query string arrives as a space.
        head, sep, tail = candidate.rpartition(" ")
        if not sep or "T" not in head:
            raise
        parsed = datetime.fromisoformat(f"{head}+{tail}")
    return to_utc(parsed)


def _epoch(value: datetime) -> int:
    return calendar.timegm(to_utc(value).utctimetuple())


def _from_epoch(epoch: float) -> datetime:
    return datetime.fromtimestamp(epoch, UTC)


def _utcnow() -> datetime:
    return datetime.now(UTC)


# --------------------------------------------------------------------------- vocabulary

_COMPANIES = (
    "Acme Corporation",
    "Birchwood Dental Group",
    "Cobalt Logistics",
    "Driftwood Architects",
    "Evergreen Family Practice",
    "Falcon Freight Services",
    "Granite Peak Accounting",
    "Harborview Realty",
    "Ironclad Manufacturing",
    "Juniper Legal LLP",
    "Kestrel Engineering",
    "Lakeside Veterinary Clinic",
    "Maple Street Bakery",
    "Northwind Traders",
    "Oakridge Insurance Agency",
    "Pinnacle Wealth Advisors",
    "Quarry Hill Construction",
    "Redwood Property Management",
    "Summit Orthopedics",
    "Tidewater Marine Supply",
    "Union Square Hotel",
    "Vantage Marketing Partners",
    "Willow Creek Schools",
    "Xeno Biotech",
    "Yellowstone Outfitters",
    "Zephyr Travel",
    "Bluebird Child Care",
    "Copperline Electric",
    "Delta Print & Sign",
    "Elm Grove Pharmacy",
    "Foxglove Florists",
    "Golden Gate Imports",
    "Highland Brewing Co",
    "Ivory Tower Consulting",
    "Jetstream Aviation Services",
    "Keystone Title Company",
    "Lighthouse Nonprofit Alliance",
    "Meridian Health Partners",
    "Nimbus Software",
    "Orchard Valley Farms",
)

_FIRST_NAMES = (
    "James", "Mary", "Robert", "Patricia", "John", "Jennifer", "Michael", "Linda",
    "David", "Elizabeth", "William", "Barbara", "Richard", "Susan", "Joseph", "Jessica",
    "Thomas", "Sarah", "Carlos", "Karen", "Daniel", "Lisa", "Matthew", "Nancy",
    "Anthony", "Sandra", "Mark", "Ashley", "Steven", "Emily", "Paul", "Michelle",
    "Andrew", "Amanda", "Kevin", "Melissa", "Brian", "Stephanie", "George", "Rebecca",
    "Priya", "Wei", "Fatima", "Hiroshi", "Olga", "Mateo", "Aisha", "Lars",
)  # fmt: skip

_LAST_NAMES = (
    "Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis",
    "Rodriguez", "Martinez", "Hernandez", "Lopez", "Wilson", "Anderson", "Thomas",
    "Taylor", "Moore", "Jackson", "Martin", "Lee", "Perez", "Thompson", "White",
    "Harris", "Sanchez", "Clark", "Ramirez", "Lewis", "Robinson", "Walker", "Young",
    "Allen", "King", "Wright", "Scott", "Nguyen", "Hill", "Flores", "Green", "Adams",
    "Patel", "Chen", "Kowalski", "Okafor", "Novak", "Lindqvist", "Tanaka", "Schmidt",
)  # fmt: skip

_TECHNICIANS = (
    ("Jane", "Porter"),
    ("Marcus", "Reid"),
    ("Sofia", "Alvarez"),
    ("Ethan", "Brooks"),
    ("Nadia", "Haddad"),
    ("Owen", "Gallagher"),
    ("Mei", "Lin"),
    ("Tomasz", "Wojcik"),
)
_MSP_DOMAIN = "blueharbor-it.example"

_SYSTEMS = (
    "Outlook", "VPN", "Wi-Fi", "Printer", "Shared drive", "Teams", "QuickBooks",
    "File server", "Laptop", "Firewall", "Backup job", "SharePoint", "Phone system",
    "Domain controller", "Antivirus", "Remote desktop", "OneDrive", "Website",
)  # fmt: skip

_SYMPTOMS = (
    "not syncing",
    "keeps disconnecting",
    "very slow since this morning",
    "shows a certificate warning",
    "cannot log in",
    "error on startup",
    "stopped working after update",
    "intermittent outage",
    "access denied",
    "license expired warning",
)

_REQUESTS = (
    "New hire account setup for {first}",
    "Add {first} to the shared mailbox",
    "Install Adobe Acrobat on {first}'s workstation",
    "Set up new laptop for {first}",
    "Reset MFA for {first}",
    "Grant access to the finance folder",
    "Order replacement monitor",
    "Offboard departing employee",
)

_CHANGES = (
    "Upgrade firewall firmware",
    "Migrate file share to SharePoint",
    "Monthly Windows server patching",
    "Replace core switch",
    "Rotate Wi-Fi passwords",
    "Move backups to new storage target",
    "Renew SSL certificate for the website",
)

_DESCRIPTIONS = (
    "{first} reports: {title}. Started around {hour}:00. {impact}",
    "Reported by {first} {last} via {source}. {impact}",
    "{title}. User already tried restarting. {impact}",
)

_IMPACTS = {
    "Critical": "Whole office is affected and work has stopped.",
    "High": "Several users are affected.",
    "Medium": "One user affected; a workaround exists.",
    "Low": "Not urgent, whenever convenient.",
}

_FIRST_RESPONSES = (
    "Hi {first}, thanks for reporting this. I'm looking into it now.",
    "Hi {first}, I've picked this up and will connect remotely shortly.",
    "Thanks {first}. Can you confirm when this started and whether others are affected?",
    "Hello {first}, we're on it. I'll update you within the hour.",
)

_INTERNAL_NOTES = (
    "Checked event logs, seeing repeated authentication failures.",
    "Escalating to vendor support, case opened.",
    "Root cause looks like an expired certificate.",
    "Applied pending updates and rebooted the machine.",
    "Verified backups are healthy before making changes.",
    "Remote session: cleared cached credentials, monitoring.",
)

_TECH_UPDATES = (
    "Update: we've applied a fix, please test and let us know.",
    "We've identified the cause and are working on it.",
    "Could you try again now? Changes have been applied.",
)

_END_USER_REPLIES = (
    "Thanks, that worked!",
    "Still happening on my side, unfortunately.",
    "Any update on this?",
    "I'll be out this afternoon, tomorrow morning works.",
    "Confirmed fixed, thank you.",
    "Adding a screenshot of the error message.",
)

_WORK_NOTES = (
    "Remote troubleshooting session",
    "Initial investigation",
    "Applied fix and verified with user",
    "On-site visit",
    "Vendor call and configuration change",
    "Documentation and follow-up",
)

# Share of answered tickets whose FirstResponseDate is missing (legacy data).
_LEGACY_NO_FIRST_RESPONSE = 0.05
# Lognormal first-response delay: median minutes per priority, common sigma.
_RESPONSE_MEDIAN_MINUTES = {"Critical": 25.0, "High": 80.0, "Medium": 150.0, "Low": 520.0}
_RESPONSE_SIGMA = 1.0
# Lognormal time from first response to resolution: median hours per priority.
_RESOLUTION_MEDIAN_HOURS = {"Critical": 3.0, "High": 10.0, "Medium": 30.0, "Low": 60.0}
# Work-hour record lengths in minutes and their weights.
_WORK_MINUTES = (15, 30, 45, 60, 90, 120, 180, 240)
_WORK_MINUTE_WEIGHTS = (20, 25, 15, 15, 10, 7, 5, 3)


# --------------------------------------------------------------------------- paging


def encode_json(data: Any) -> bytes:
    """Encode ``data`` as compact UTF-8 JSON, the way the sandbox answers."""
    return json.dumps(data, separators=(",", ":")).encode()


def paginate(items: list[Any], page: int, items_in_page: int) -> dict[str, Any]:
    """Build the contract's list envelope for one page of ``items``.

    Args:
        items: All items (records, or ids to turn into records), already in API order.
        page: 1-based page number (already validated).
        items_in_page: Page size (already clamped to 1..50).

    Returns:
        ``{"items", "totalItems", "page", "itemsInPage", "totalPages"}``.
    """
    total = len(items)
    start = (page - 1) * items_in_page
    return {
        "items": items[start : start + items_in_page],
        "totalItems": total,
        "page": page,
        "itemsInPage": items_in_page,
        "totalPages": math.ceil(total / items_in_page),
    }


# --------------------------------------------------------------------------- generator


class _Generator:
    """Builds the seeded customers, contacts, tickets, comments and work hours."""

    def __init__(self, rng: random.Random, now_epoch: int) -> None:
        self.rng = rng
        self.now = now_epoch
        self.technicians = self._make_technicians()
        self.customers = self._make_customers()
        self.customer_weights = [rng.paretovariate(1.2) for _ in self.customers]
        self.tech_weights = [rng.uniform(0.6, 1.4) for _ in self.technicians]
        self.tickets: list[dict[str, Any]] = []
        self.comments: list[tuple[int, int, int, dict[str, Any]]] = []
        self.work_hours: list[tuple[int, int, int, dict[str, Any]]] = []
        self.modified: dict[int, int] = {}

    # -- people -------------------------------------------------------------

    def _make_technicians(self) -> list[Technician]:
        return [
            Technician(
                FIRST_TECHNICIAN_ID + i,
                first,
                last,
                f"{first.lower()}.{last.lower()}@{_MSP_DOMAIN}",
            )
            for i, (first, last) in enumerate(_TECHNICIANS)
        ]

    def _make_customers(self) -> list[Customer]:
        customers = []
        next_user = FIRST_END_USER_ID
        for i, name in enumerate(_COMPANIES):
            slug = re.sub(r"[^a-z0-9]+", "", name.lower().split(" ")[0] + name.lower()[-3:])
            customer = Customer(FIRST_CUSTOMER_ID + i, name, f"{slug}.example")
            for _ in range(self.rng.choice((3, 4, 4, 5))):
                first = self.rng.choice(_FIRST_NAMES)
                last = self.rng.choice(_LAST_NAMES)
                email = f"{first.lower()}.{last.lower()}@{customer.domain}"
                user = EndUser(next_user, customer.customer_id, first, last, email)
                customer.end_users.append(user)
                next_user += 1
            customers.append(customer)
        return customers

    # -- tickets ------------------------------------------------------------

    def generate(self, count: int) -> None:
        """Generate ``count`` tickets with their comments and work hours."""
        for index, created in enumerate(self._creation_times(count)):
            self._make_ticket(FIRST_TICKET_ID + index, created)

    def _creation_times(self, count: int) -> list[int]:
        year = 365 * 86400
        times = []
        for _ in range(count):
            age = int(year * self.rng.random() ** 1.5)
            created = self.now - max(age, 120)
            hour = time.gmtime(created).tm_hour
            if (hour < 7 or hour > 18) and self.rng.random() < 0.75:
                # Most tickets arrive during business hours.
                shifted = created + (self.rng.randint(8, 17) - hour) * 3600
                created = shifted if shifted < self.now - 120 else created
            times.append(max(created, self.now - year))
        times.sort()
        return times

    def _status(self, age_days: float) -> str:
        rng = self.rng.random()
        table: tuple[tuple[float, str], ...]
        if age_days > 30:
            table = ((0.975, "Closed"), (0.997, "Resolved"), (1.0, "Pending"))
        elif age_days > 7:
            table = ((0.04, "Open"), (0.09, "Pending"), (0.18, "Resolved"), (1.0, "Closed"))
        elif age_days > 2:
            table = ((0.12, "Open"), (0.24, "Pending"), (0.42, "Resolved"), (1.0, "Closed"))
        else:
            table = ((0.40, "Open"), (0.52, "Pending"), (0.72, "Resolved"), (1.0, "Closed"))
        return next(status for bound, status in table if rng < bound)

    def _title(self, ticket_type: str, user: EndUser) -> str:
        rng = self.rng
        if ticket_type == "Request":
            return rng.choice(_REQUESTS).format(first=user.first_name)
        if ticket_type == "Change":
            return rng.choice(_CHANGES)
        return f"{rng.choice(_SYSTEMS)} {rng.choice(_SYMPTOMS)}"

    def _make_ticket(self, ticket_id: int, created: int) -> None:
        rng = self.rng
        age_days = (self.now - created) / 86400
        priority = rng.choices(PRIORITIES, weights=(30, 45, 20, 5))[0]
        ticket_type = rng.choices(TICKET_TYPES, weights=(45, 30, 15, 10))[0]
        source = rng.choices(TICKET_SOURCES, weights=(30, 40, 20, 10))[0]
        customer = rng.choices(self.customers, weights=self.customer_weights)[0]
        user = rng.choice(customer.end_users)
        status = self._status(age_days)
        tech: Technician | None = rng.choices(self.technicians, weights=self.tech_weights)[0]
        if status == "Open" and age_days < 3 and rng.random() < 0.15:
            tech = None
        response = self._response_time(created, priority, status, age_days, tech)
        resolved = self._resolution_time(created, response, priority, status)
        title = self._title(ticket_type, user)
        description = rng.choice(_DESCRIPTIONS).format(
            first=user.first_name,
            last=user.last_name,
            title=title,
            hour=time.gmtime(created).tm_hour,
            source=source.lower(),
            impact=_IMPACTS[priority],
        )
        last_activity = max(
            created,
            resolved or 0,
            self._make_comments(ticket_id, created, response, resolved, tech, user),
            self._make_work_hours(ticket_id, created, response, resolved, status, tech),
        )
        first_response = response
        if response is not None and rng.random() < _LEGACY_NO_FIRST_RESPONSE:
            first_response = None
        self.modified[ticket_id] = last_activity
        self.tickets.append(
            {
                "TicketID": ticket_id,
                "TicketTitle": title,
                "Description": description,
                "TicketPriority": priority,
                "TicketStatus": status,
                "TicketType": ticket_type,
                **_customer_fields(customer, user),
                **_technician_fields(tech),
                "TicketCreatedDate": format_ts(created),
                "TicketResolvedDate": format_ts(resolved) if resolved else None,
                "FirstResponseDate": format_ts(first_response) if first_response else None,
                "LastActivityDate": format_ts(last_activity),
                "DueDate": format_ts(created + RESOLUTION_TARGET_HOURS[priority] * 3600),
                "TicketSource": source,
            }
        )

    def _response_time(
        self,
        created: int,
        priority: str,
        status: str,
        age_days: float,
        tech: Technician | None,
    ) -> int | None:
        rng = self.rng
        if tech is None:
            return None
        if status == "Open" and age_days < 3 and rng.random() < 0.3:
            return None
        median = math.log(_RESPONSE_MEDIAN_MINUTES[priority])
        delay = max(60, int(60 * rng.lognormvariate(median, _RESPONSE_SIGMA)))
        if created + delay < self.now:
            return created + delay
        if status == "Open":
            return None
        return created + max(1, int((self.now - created) * rng.uniform(0.05, 0.4)))

    def _resolution_time(
        self, created: int, response: int | None, priority: str, status: str
    ) -> int | None:
        if status not in ("Resolved", "Closed"):
            return None
        start = response if response is not None else created
        hours = self.rng.lognormvariate(math.log(_RESOLUTION_MEDIAN_HOURS[priority]), 1.0)
        resolved = start + max(300, int(hours * 3600))
        if resolved >= self.now:
            resolved = start + max(1, int((self.now - start) * self.rng.uniform(0.3, 0.9)))
        return min(resolved, self.now)

    # -- comments -----------------------------------------------------------

    def _make_comments(
        self,
        ticket_id: int,
        created: int,
        response: int | None,
        resolved: int | None,
        tech: Technician | None,
        user: EndUser,
    ) -> int:
        """Generate comments and return the latest comment time (0 if none)."""
        rng = self.rng
        anchor = response if response is not None else created
        end = resolved if resolved is not None else self.now
        latest = 0
        if response is not None and tech is not None:
            text = rng.choice(_FIRST_RESPONSES).format(first=user.first_name)
            latest = self._add_comment(ticket_id, response, tech.contact_id, False, text)
        extra = rng.choices(range(8), weights=(18, 26, 20, 14, 9, 6, 4, 3))[0]
        if latest == 0:
            extra = max(extra, 1)
        for _ in range(min(extra, 8 - (latest > 0))):
            when = _between(rng, anchor, end)
            creator, internal, text = self._extra_comment(tech, user, response is not None)
            latest = max(latest, self._add_comment(ticket_id, when, creator, internal, text))
        if resolved is not None and rng.random() < 0.25 and extra < 7:
            when = _between(rng, resolved, min(self.now, resolved + 2 * 86400))
            text = "Confirmed fixed, thank you."
            latest = max(latest, self._add_comment(ticket_id, when, user.contact_id, False, text))
        return latest

    def _extra_comment(
        self, tech: Technician | None, user: EndUser, responded: bool
    ) -> tuple[int, bool, str]:
        rng = self.rng
        roll = rng.random()
        if tech is not None and roll < 0.35:
            return tech.contact_id, True, rng.choice(_INTERNAL_NOTES)
        if tech is not None and responded and roll < 0.55:
            return tech.contact_id, False, rng.choice(_TECH_UPDATES)
        return user.contact_id, False, rng.choice(_END_USER_REPLIES)

    def _add_comment(
        self, ticket_id: int, when: int, creator: int, internal: bool, text: str
    ) -> int:
        record = {
            "CommentID": 0,
            "TicketID": ticket_id,
            "CommentText": text,
            "CommentDate": format_ts(when),
            "CreatorContactID": creator,
            "IsInternal": internal,
        }
        self.comments.append((when, ticket_id, len(self.comments), record))
        return when

    # -- work hours ---------------------------------------------------------

    def _make_work_hours(
        self,
        ticket_id: int,
        created: int,
        response: int | None,
        resolved: int | None,
        status: str,
        tech: Technician | None,
    ) -> int:
        """Generate work-hour records and return the latest end time (0 if none)."""
        rng = self.rng
        if tech is None:
            return 0
        weights = (15, 40, 25, 12, 8) if resolved is not None else (70, 25, 5, 0, 0)
        count = rng.choices(range(5), weights=weights)[0]
        anchor = response if response is not None else created
        end = resolved if resolved is not None else self.now
        latest = 0
        for _ in range(count):
            minutes = rng.choices(_WORK_MINUTES, weights=_WORK_MINUTE_WEIGHTS)[0]
            if end - anchor < minutes * 60:
                continue
            start = _between(rng, anchor, end - minutes * 60)
            latest = max(latest, start + minutes * 60)
            billable = rng.random() < 0.7
            self._add_work_hours(ticket_id, tech.contact_id, start, start + minutes * 60, billable)
        return latest

    def _add_work_hours(
        self, ticket_id: int, tech_id: int, start: int, end: int, billable: bool
    ) -> None:
        record = {
            "WorkHourID": 0,
            "TicketID": ticket_id,
            "TechnicianContactID": tech_id,
            "StartDate": format_ts(start),
            "EndDate": format_ts(end),
            "Duration": end - start,
            "IsBillable": billable,
            "Notes": self.rng.choice(_WORK_NOTES),
        }
        self.work_hours.append((start, ticket_id, len(self.work_hours), record))


def _between(rng: random.Random, low: int, high: int) -> int:
    """A whole second in ``(low, high]``; ``high`` when the range is empty."""
    if high <= low + 1:
        return max(high, low)
    return low + 1 + int((high - low - 1) * rng.random())


def _customer_fields(customer: Customer | None, user: EndUser | None) -> dict[str, Any]:
    return {
        "CustomerID": customer.customer_id if customer else None,
        "CustomerName": customer.name if customer else None,
        "EndUserID": user.contact_id if user else None,
        "EndUserEmail": user.email if user else None,
        "EndUserFirstName": user.first_name if user else None,
        "EndUserLastName": user.last_name if user else None,
    }


def _technician_fields(tech: Technician | None) -> dict[str, Any]:
    return {
        "TechnicianContactID": tech.contact_id if tech else None,
        "TechnicianFullName": tech.full_name if tech else None,
        "TechnicianEmail": tech.email if tech else None,
    }


def _assign_ids(
    entries: list[tuple[int, int, int, dict[str, Any]]], id_field: str, first: int
) -> list[dict[str, Any]]:
    """Give records chronological ids (by time, then ticket, then creation order)."""
    entries.sort(key=lambda entry: entry[:3])
    records = []
    for offset, (_, _, _, record) in enumerate(entries):
        record[id_field] = first + offset
        records.append(record)
    return records


# --------------------------------------------------------------------------- store


class TicketStore:
    """Thread-safe in-memory ticket store with Atera's business rules.

    Args:
        tickets: Number of tickets to seed.
        seed: Seed of the private random generator (same seed + same now => same data).
        now: Instant the data is generated relative to (default: current UTC time).
        clock: Callable giving the current sandbox time for writes (default: real UTC now).
    """

    def __init__(
        self,
        tickets: int = 2847,
        seed: int = 42,
        now: datetime | None = None,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.clock: Callable[[], datetime] = clock or _utcnow
        self.generated_at = to_utc(now or _utcnow()).replace(microsecond=0)
        self._lock = threading.RLock()
        gen = _Generator(random.Random(seed), _epoch(self.generated_at))
        gen.generate(tickets)
        self.technicians: dict[int, Technician] = {t.contact_id: t for t in gen.technicians}
        self.customers: dict[int, Customer] = {c.customer_id: c for c in gen.customers}
        self.end_users: dict[int, EndUser] = {
            u.contact_id: u for c in gen.customers for u in c.end_users
        }
        self.accounts = Accounts(gen.customers, seed, self.generated_at)  # customers, contracts
        self._tickets: dict[int, dict[str, Any]] = {t["TicketID"]: t for t in gen.tickets}
        self._modified: dict[int, datetime] = {
            tid: _from_epoch(ts) for tid, ts in gen.modified.items()
        }
        self._comments: dict[int, list[dict[str, Any]]] = {tid: [] for tid in self._tickets}
        self._work_hours: dict[int, list[dict[str, Any]]] = {tid: [] for tid in self._tickets}
        for comment in _assign_ids(gen.comments, "CommentID", FIRST_COMMENT_ID):
            self._comments[comment["TicketID"]].append(comment)
        for record in _assign_ids(gen.work_hours, "WorkHourID", FIRST_WORK_HOUR_ID):
            self._work_hours[record["TicketID"]].append(record)
        for comments in self._comments.values():
            comments.sort(key=_comment_order)
        self._json_cache: dict[int, bytes] = {}
        # Side tables of attributes only the published API shape shows.
        self._impacts: dict[int, str] = {
            tid: default_impact(tid, t["TicketPriority"]) for tid, t in self._tickets.items()
        }
        self._on_site: dict[int, bool] = {}  # WorkHourID -> explicit OnCustomerSite
        self._rate_ids: dict[int, int | None] = {}  # WorkHourID -> explicit RateID
        self._next_ticket_id = FIRST_TICKET_ID + tickets
        self._next_comment_id = FIRST_COMMENT_ID + len(gen.comments)
        self._next_work_hour_id = FIRST_WORK_HOUR_ID + len(gen.work_hours)

    # -- reads --------------------------------------------------------------

    def __len__(self) -> int:
        with self._lock:
            return len(self._tickets)

    def get_ticket(self, ticket_id: int) -> dict[str, Any]:
        """Return a copy of one ticket.

        Raises:
            SandboxError: 404 when the ticket does not exist.
        """
        with self._lock:
            return dict(self._ticket(ticket_id))

    def list_tickets(self, page: int = 1, items_in_page: int = 20) -> dict[str, Any]:
        """Return one page of all tickets in ascending TicketID order."""
        with self._lock:
            return self._page(self._ordered_ids(), page, items_in_page)

    def list_tickets_json(self, page: int = 1, items_in_page: int = 20) -> bytes:
        """Like :meth:`list_tickets`, already encoded as compact JSON (fast path for HTTP)."""
        with self._lock:
            return self._page_json(self._ordered_ids(), page, items_in_page)

    def list_tickets_in_status_json(
        self, status: str, page: int = 1, items_in_page: int = 20
    ) -> bytes:
        """Like :meth:`list_tickets_json`, the tickets in one status only (case-insensitive)."""
        wanted = status.lower()
        with self._lock:
            ids = [
                t for t in self._ordered_ids() if self._tickets[t]["TicketStatus"].lower() == wanted
            ]
            return self._page_json(ids, page, items_in_page)

    def modified_after(
        self, instant: datetime, page: int = 1, items_in_page: int = 20
    ) -> dict[str, Any]:
        """Return one page of tickets whose modification time is strictly after ``instant``."""
        instant = to_utc(instant)
        with self._lock:
            return self._page(self._ids_modified_after(instant), page, items_in_page)

    def modified_after_json(
        self, instant: datetime, page: int = 1, items_in_page: int = 20
    ) -> bytes:
        """Like :meth:`modified_after`, already encoded as compact JSON (fast path for HTTP)."""
        instant = to_utc(instant)
        with self._lock:
            return self._page_json(self._ids_modified_after(instant), page, items_in_page)

    def modification_time(self, ticket_id: int) -> datetime:
        """Return the internal modification time of a ticket (full precision)."""
        with self._lock:
            self._ticket(ticket_id)
            return self._modified[ticket_id]

    @property
    def lock(self) -> threading.RLock:
        """The store's re-entrant lock: hold it to read several things consistently."""
        return self._lock

    def ticket_ids(self) -> list[int]:
        """All ticket ids in ascending order."""
        with self._lock:
            return self._ordered_ids()

    def ids_modified_after(self, instant: datetime) -> list[int]:
        """Ids of tickets whose modification time is strictly after ``instant``, ascending."""
        instant = to_utc(instant)
        with self._lock:
            return self._ids_modified_after(instant)

    def impact(self, ticket_id: int) -> str:
        """The ticket's impact (one of :data:`IMPACTS`).

        Raises:
            SandboxError: 404 when the ticket does not exist.
        """
        with self._lock:
            self._ticket(ticket_id)
            return self._impacts[ticket_id]

    def on_customer_site(self, record: dict[str, Any]) -> bool:
        """Whether a work-hour record was on the customer's site.

        Explicit when recorded with ``on_customer_site``, else derived from the notes
        (:data:`ON_SITE_NOTES`).
        """
        with self._lock:
            explicit = self._on_site.get(record["WorkHourID"])
        return record["Notes"] == ON_SITE_NOTES if explicit is None else explicit

    def rate_id(self, record: dict[str, Any]) -> int | None:
        """The RateID of a work-hour record (a key of :data:`RATES`) or ``None``.

        Explicit when recorded with ``rate_id``; else billable on-site work has
        :data:`ON_SITE_RATE_ID`, other billable work :data:`REMOTE_RATE_ID` and
        non-billable work none.
        """
        with self._lock:
            if record["WorkHourID"] in self._rate_ids:
                return self._rate_ids[record["WorkHourID"]]
        if not record["IsBillable"]:
            return None
        return ON_SITE_RATE_ID if self.on_customer_site(record) else REMOTE_RATE_ID

    def end_user_by_email(self, email: str) -> EndUser | None:
        """The end user with this email (case-insensitive), if any."""
        wanted = email.strip().lower()
        return next((u for u in self.end_users.values() if u.email.lower() == wanted), None)

    def technician_by_email(self, email: str) -> Technician | None:
        """The technician with this email (case-insensitive), if any."""
        wanted = email.strip().lower()
        return next((t for t in self.technicians.values() if t.email.lower() == wanted), None)

    def comments(self, ticket_id: int) -> list[dict[str, Any]]:
        """Return copies of a ticket's comments, by CommentDate then CommentID."""
        with self._lock:
            self._ticket(ticket_id)
            return [dict(c) for c in self._comments[ticket_id]]

    def work_hours(self, ticket_id: int) -> list[dict[str, Any]]:
        """Return copies of a ticket's work-hour records, by WorkHourID."""
        with self._lock:
            self._ticket(ticket_id)
            return [dict(w) for w in self._work_hours[ticket_id]]

    def billable_duration(self, ticket_id: int) -> dict[str, Any]:
        """Return ``{"TotalBillableDuration": seconds, "TotalBillableHours": hours}``."""
        with self._lock:
            self._ticket(ticket_id)
            return _billable(self._work_hours[ticket_id])

    def snapshot(self) -> dict[str, list[dict[str, Any]]]:
        """Return everything the API serves right now, in API shape.

        Returns:
            ``{"tickets", "comments", "work_hours", "billable_durations"}``, each
            sorted by its id (billable durations by TicketID).
        """
        with self._lock:
            ids = self._ordered_ids()
            comments = [dict(c) for tid in ids for c in self._comments[tid]]
            work = [dict(w) for tid in ids for w in self._work_hours[tid]]
            durations = [{"TicketID": tid, **_billable(self._work_hours[tid])} for tid in ids]
            return {
                "tickets": [dict(self._tickets[tid]) for tid in ids],
                "comments": sorted(comments, key=lambda c: c["CommentID"]),
                "work_hours": sorted(work, key=lambda w: w["WorkHourID"]),
                "billable_durations": durations,
            }

    # -- writes -------------------------------------------------------------

    def create_ticket(self, body: dict[str, Any], *, impact: str | None = None) -> dict[str, Any]:
        """Create a ticket from an API request body.

        Args:
            body: The JSON body of ``POST /tickets``.
            impact: The ticket's impact (one of :data:`IMPACTS`); default from the
                priority (:func:`default_impact`).

        Returns:
            ``{"ActionID", "TicketID", "TicketTitle"}``.

        Raises:
            SandboxError: 400 on a validation error.
        """
        body = _require_object(body)
        title = _require_title(body.get("TicketTitle"))
        priority = _choice(body.get("TicketPriority"), PRIORITIES, "Medium", "priority")
        ticket_type = _choice(body.get("TicketType"), TICKET_TYPES, "Problem", "ticket type")
        description = _optional_text(body.get("Description"), "Description")
        if impact is not None:
            impact = _choice(impact, IMPACTS, None, "impact")
        with self._lock:
            customer, user = self._resolve_customer(body.get("CustomerID"), body.get("EndUserID"))
            tech = self._resolve_technician(body.get("TechnicianContactID"))
            now = to_utc(self.clock())
            due = self._due_date(body.get("DueDate"), now, priority)
            ticket_id = self._next_ticket_id
            self._next_ticket_id += 1
            self._tickets[ticket_id] = {
                "TicketID": ticket_id,
                "TicketTitle": title,
                "Description": description,
                "TicketPriority": priority,
                "TicketStatus": "Open",
                "TicketType": ticket_type,
                **_customer_fields(customer, user),
                **_technician_fields(tech),
                "TicketCreatedDate": format_dt(now),
                "TicketResolvedDate": None,
                "FirstResponseDate": None,
                "LastActivityDate": format_dt(now),
                "DueDate": due,
                "TicketSource": "API",
            }
            self._modified[ticket_id] = now
            self._impacts[ticket_id] = impact or default_impact(ticket_id, priority)
            self._comments[ticket_id] = []
            self._work_hours[ticket_id] = []
        return {"ActionID": ticket_id, "TicketID": ticket_id, "TicketTitle": title}

    def update_ticket(
        self, ticket_id: int, body: dict[str, Any], *, impact: str | None = None
    ) -> dict[str, Any]:
        """Update a ticket from an API request body.

        Accepts TicketStatus, TicketPriority, TicketTitle, Description, TicketType
        and TechnicianContactID; other keys are ignored. Status changes follow
        :data:`TRANSITIONS`. ``impact`` (one of :data:`IMPACTS`) changes the
        ticket's impact; any effective change counts as a modification.

        Returns:
            A copy of the updated ticket.

        Raises:
            SandboxError: 400 on a validation error or forbidden transition, 404
                when the ticket does not exist.
        """
        body = _require_object(body)
        with self._lock:
            ticket = self._ticket(ticket_id)
            changes = self._validated_changes(ticket, body)
            changes = {k: v for k, v in changes.items() if ticket[k] != v}
            new_impact = None if impact is None else _choice(impact, IMPACTS, None, "impact")
            if new_impact == self._impacts[ticket_id]:
                new_impact = None
            if changes or new_impact is not None:
                now = to_utc(self.clock())
                if "TicketStatus" in changes:
                    changes.update(_status_side_effects(ticket, changes["TicketStatus"], now))
                ticket.update(changes)
                if new_impact is not None:
                    self._impacts[ticket_id] = new_impact
                self._touch(ticket_id, now)
            return dict(ticket)

    def add_comment(
        self, ticket_id: int, body: dict[str, Any], *, when: datetime | None = None
    ) -> dict[str, Any]:
        """Add a comment from an API request body.

        Args:
            ticket_id: The ticket to comment on.
            body: ``{"CommentText": str, "IsInternal": bool = False,
                "CreatorContactID": int = the ticket's technician}``.
            when: The comment's date (default: now); the ticket is modified now
                either way.

        Returns:
            The created comment.

        Raises:
            SandboxError: 400 on a validation error, 404 when the ticket does not exist.
        """
        body = _require_object(body)
        text = body.get("CommentText")
        if not isinstance(text, str) or not text.strip():
            raise SandboxError(400, "CommentText required")
        internal = body.get("IsInternal", False)
        if not isinstance(internal, bool):
            raise SandboxError(400, "IsInternal must be true or false")
        with self._lock:
            ticket = self._ticket(ticket_id)
            creator = self._comment_creator(ticket, body.get("CreatorContactID"), internal)
            now = to_utc(self.clock())
            comment = {
                "CommentID": self._next_comment_id,
                "TicketID": ticket_id,
                "CommentText": text,
                "CommentDate": format_dt(now if when is None else when),
                "CreatorContactID": creator,
                "IsInternal": internal,
            }
            self._next_comment_id += 1
            if self._is_first_response(ticket_id, creator, internal):
                ticket["FirstResponseDate"] = comment["CommentDate"]
            self._comments[ticket_id].append(comment)
            self._comments[ticket_id].sort(key=_comment_order)
            self._touch(ticket_id, now)
            return dict(comment)

    def add_work_hours(
        self,
        ticket_id: int,
        technician_contact_id: int,
        start: datetime | str,
        end: datetime | str,
        is_billable: bool,
        notes: str = "",
        *,
        on_customer_site: bool | None = None,
        rate_id: int | None = None,
    ) -> dict[str, Any]:
        """Record work on a ticket (the contract shape has no endpoint for this; tests use it).

        Args:
            ticket_id: The ticket worked on.
            technician_contact_id: The technician who did the work.
            start: Start of the work (datetime or ISO 8601 string).
            end: End of the work, after ``start``.
            is_billable: Whether the time is billable.
            notes: Free text.
            on_customer_site: Whether the work was on site (published ``OnCustomerSite``);
                default: derived from ``notes`` (see :meth:`on_customer_site`).
            rate_id: A key of :data:`RATES` (published ``RateID``); default: derived (see
                :meth:`rate_id`).

        Returns:
            The created work-hour record (contract shape).

        Raises:
            SandboxError: 400 on invalid input, 404 when the ticket does not exist.
        """
        start_dt, end_dt = _as_datetime(start), _as_datetime(end)
        duration = _epoch(end_dt) - _epoch(start_dt)
        if duration <= 0:
            raise SandboxError(400, "EndDate must be after StartDate")
        with self._lock:
            self._ticket(ticket_id)
            if technician_contact_id not in self.technicians:
                raise SandboxError(400, "Technician not found")
            if rate_id is not None and rate_id not in RATES:
                raise SandboxError(400, "Rate not found")
            work_hour_id = self._next_work_hour_id
            record: dict[str, Any] = {
                "WorkHourID": work_hour_id,
                "TicketID": ticket_id,
                "TechnicianContactID": technician_contact_id,
                "StartDate": format_dt(start_dt),
                "EndDate": format_dt(end_dt),
                "Duration": duration,
                "IsBillable": bool(is_billable),
                "Notes": notes,
            }
            self._next_work_hour_id += 1
            if on_customer_site is not None:
                self._on_site[work_hour_id] = bool(on_customer_site)
            if rate_id is not None:
                self._rate_ids[work_hour_id] = rate_id
            self._work_hours[ticket_id].append(record)
            self._touch(ticket_id, to_utc(self.clock()))
            return dict(record)

    def set_first_response(self, ticket_id: int, when: datetime | None) -> None:
        """Overwrite a ticket's FirstResponseDate (no API does this; fixed scenarios use it).

        Atera's own field can disagree with the comments: later than the first
        public technician comment, or even before the ticket's creation.

        Raises:
            SandboxError: 404 when the ticket does not exist.
        """
        with self._lock:
            self._ticket(ticket_id)["FirstResponseDate"] = None if when is None else format_dt(when)
            self._json_cache.pop(ticket_id, None)

    def delete_ticket(self, ticket_id: int) -> None:
        """Remove a ticket with its comments and work hours.

        Raises:
            SandboxError: 404 when the ticket does not exist.
        """
        with self._lock:
            self._ticket(ticket_id)
            for record in self._work_hours[ticket_id]:
                self._on_site.pop(record["WorkHourID"], None)
                self._rate_ids.pop(record["WorkHourID"], None)
            tables = (
                self._tickets,
                self._modified,
                self._comments,
                self._work_hours,
                self._impacts,
            )
            for table in tables:
                del table[ticket_id]
            self._json_cache.pop(ticket_id, None)

    # -- internals ------------------------------------------------------------

    def _ticket(self, ticket_id: int) -> dict[str, Any]:
        ticket = self._tickets.get(ticket_id)
        if ticket is None:
            raise SandboxError(404, "Ticket not found")
        return ticket

    def _ordered_ids(self) -> list[int]:
        # Ids are allocated in increasing order and dicts keep insertion order.
        return list(self._tickets)

    def _ids_modified_after(self, instant: datetime) -> list[int]:
        return [tid for tid in self._ordered_ids() if self._modified[tid] > instant]

    def _page(self, ids: Iterable[int], page: int, items_in_page: int) -> dict[str, Any]:
        envelope = paginate(list(ids), page, items_in_page)
        envelope["items"] = [dict(self._tickets[tid]) for tid in envelope["items"]]
        return envelope

    def _page_json(self, ids: Iterable[int], page: int, items_in_page: int) -> bytes:
        envelope = paginate(list(ids), page, items_in_page)
        items = b",".join(self._ticket_json(tid) for tid in envelope.pop("items"))
        rest = encode_json(envelope)  # b'{"totalItems":...}'
        return b'{"items":[' + items + b"]," + rest[1:]

    def _ticket_json(self, ticket_id: int) -> bytes:
        cached = self._json_cache.get(ticket_id)
        if cached is None:
            cached = self._json_cache[ticket_id] = encode_json(self._tickets[ticket_id])
        return cached

    def _touch(self, ticket_id: int, now: datetime) -> None:
        self._json_cache.pop(ticket_id, None)
        previous = self._modified[ticket_id]
        if now <= previous:  # keep modification times strictly increasing per ticket
            now = previous + timedelta(microseconds=1)
        self._modified[ticket_id] = now
        self._tickets[ticket_id]["LastActivityDate"] = format_dt(now)

    def _resolve_customer(
        self, customer_id: Any, end_user_id: Any
    ) -> tuple[Customer, EndUser | None]:
        if customer_id is None and end_user_id is None:
            raise SandboxError(400, "CustomerID or EndUserID required")
        user = None
        if end_user_id is not None:
            user = self.end_users.get(end_user_id) if _is_int(end_user_id) else None
            if user is None:
                raise SandboxError(400, "Customer not found")
        if customer_id is None and user is not None:
            return self.customers[user.customer_id], user
        customer = self.customers.get(customer_id) if _is_int(customer_id) else None
        if customer is None:
            raise SandboxError(400, "Customer not found")
        if user is not None and user.customer_id != customer.customer_id:
            raise SandboxError(400, "End user does not belong to customer")
        return customer, user

    def _resolve_technician(self, contact_id: Any) -> Technician | None:
        if contact_id is None:
            return None
        tech = self.technicians.get(contact_id) if _is_int(contact_id) else None
        if tech is None:
            raise SandboxError(400, "Technician not found")
        return tech

    @staticmethod
    def _due_date(value: Any, now: datetime, priority: str) -> str:
        if value is None:
            return format_dt(now + timedelta(hours=RESOLUTION_TARGET_HOURS[priority]))
        try:
            return format_dt(parse_iso(value))
        except (TypeError, ValueError, AttributeError):
            raise SandboxError(400, f"Invalid DueDate: {_DATE_FORMAT}") from None

    def _validated_changes(self, ticket: dict[str, Any], body: dict[str, Any]) -> dict[str, Any]:
        changes: dict[str, Any] = {}
        if "TicketTitle" in body:
            changes["TicketTitle"] = _require_title(body["TicketTitle"])
        if "Description" in body:
            changes["Description"] = _optional_text(body["Description"], "Description")
        if "TicketPriority" in body:
            changes["TicketPriority"] = _choice(
                body["TicketPriority"], PRIORITIES, None, "priority"
            )
        if "TicketType" in body:
            changes["TicketType"] = _choice(body["TicketType"], TICKET_TYPES, None, "ticket type")
        if "TechnicianContactID" in body:
            changes.update(
                _technician_fields(self._resolve_technician(body["TechnicianContactID"]))
            )
        if "TicketStatus" in body:
            status = _choice(body["TicketStatus"], STATUSES, None, "status")
            check_transition(ticket["TicketStatus"], status)
            changes["TicketStatus"] = status
        return changes

    def _comment_creator(self, ticket: dict[str, Any], creator: Any, internal: bool) -> int:
        if creator is None:
            return ticket["TechnicianContactID"] or FIRST_TECHNICIAN_ID
        if not _is_int(creator):
            raise SandboxError(400, "Invalid CreatorContactID")
        if creator in self.technicians:
            return creator
        if creator == ticket["EndUserID"]:
            if internal:
                raise SandboxError(400, "End users cannot post internal comments")
            return creator
        raise SandboxError(400, "CreatorContactID must be a technician or the ticket's end user")

    def _is_first_response(self, ticket_id: int, creator: int, internal: bool) -> bool:
        if internal or creator not in self.technicians:
            return False
        if self._tickets[ticket_id]["FirstResponseDate"] is not None:
            return False
        return not any(self._is_technician_reply(c) for c in self._comments[ticket_id])

    def _is_technician_reply(self, comment: dict[str, Any]) -> bool:
        return not comment["IsInternal"] and comment["CreatorContactID"] in self.technicians


# --------------------------------------------------------------------------- rules


def check_transition(current: str, new: str) -> None:
    """Validate a status change.

    Args:
        current: The ticket's status.
        new: The requested status.

    Raises:
        SandboxError: 400 with the reason when the transition is forbidden.
    """
    if current == new or new in TRANSITIONS[current]:
        return
    if current == "Closed":
        reason = "Closed tickets are final"
    elif current == "Open" and new == "Closed":
        reason = "resolve the ticket first"
    else:
        reason = "allowed are " + " or ".join(sorted(TRANSITIONS[current]))
    raise SandboxError(400, f"Cannot change status from {current} to {new}: {reason}")


def _status_side_effects(ticket: dict[str, Any], status: str, now: datetime) -> dict[str, Any]:
    if status == "Resolved":
        return {"TicketResolvedDate": format_dt(now)}
    if status == "Closed":
        return {"TicketResolvedDate": ticket["TicketResolvedDate"] or format_dt(now)}
    if status == "Open":
        return {"TicketResolvedDate": None}
    return {}


def _billable(records: list[dict[str, Any]]) -> dict[str, Any]:
    seconds = sum(r["Duration"] for r in records if r["IsBillable"])
    return {"TotalBillableDuration": seconds, "TotalBillableHours": round(seconds / 3600, 2)}


def _comment_order(comment: dict[str, Any]) -> tuple[str, int]:
    return comment["CommentDate"], comment["CommentID"]


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _require_object(body: Any) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise SandboxError(400, "Request body must be a JSON object")
    return body


def _require_title(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise SandboxError(400, "Title required")
    return value.strip()


def _optional_text(value: Any, name: str) -> str | None:
    if value is not None and not isinstance(value, str):
        raise SandboxError(400, f"{name} must be a string")
    return value


def _choice(value: Any, allowed: tuple[str, ...], default: str | None, label: str) -> str:
    if value is None and default is not None:
        return default
    if value in allowed:
        return value
    options = ", ".join(allowed[:-1]) + f", or {allowed[-1]}"
    raise SandboxError(400, f"Invalid {label}: use {options}")


def _as_datetime(value: datetime | str) -> datetime:
    if isinstance(value, datetime):
        return to_utc(value)
    try:
        return parse_iso(value)
    except (TypeError, ValueError, AttributeError):
        raise SandboxError(400, f"Invalid date-time: {_DATE_FORMAT}") from None
