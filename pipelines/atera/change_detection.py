"""Change detection: fetch a ticket's children only when the ticket shows new activity.

A nightly sync used to fetch the comments, work hours and billable duration of
every ticket that was not Closed, whatever changed: three calls per open
ticket. Here the children of a ticket are fetched when what the API returns in
bulk says they may have changed; where the API gives no signal, they are
fetched as before.

Every incremental sync lists the tickets that are not Closed, 50 a call
(`GET /tickets?ticketStatus=Open|Pending|Resolved`; a server that ignores the
filter answers with every ticket, which serves as well), besides the change
listing. Then, per ticket:

* **Ticket contract**: all three kinds of children when `LastActivityDate`
  ("last update timestamp") differs from the one seen when they were last
  fetched. Assumes the API moves it on every new comment and work-hour record.
* **Published API**:
  * comments when `LastEndUserCommentTimestamp` or
    `LastTechnicianCommentTimestamp` moved, or when the change listing lists a
    ticket that the previous sync's change listing did not (an internal
    comment moves neither timestamp, but does modify the ticket);
  * work hours for the tickets of the records that `GET /workhours?startWorkhour=`
    lists as new, changed or gone since the last sync, looking back
    `work_hours_lookback_days` before the watermark for time logged late, and
    for the tickets whose billable duration differs from the stored one;
  * billable durations with the bulk `POST /tickets/billableduration`, 50 ids a
    call, for those tickets and the newly listed ones. (The duration totals on
    ticket rows are deprecated and not used.)
* **No signal**: a ticket never seen before, one that the reconciliation found
  missing, one without the signal fields, and one that was open at the last
  sync but is in no listing now (closed, deleted, or in a custom status): all
  three kinds, as before.

A ticket row that differs from the one seen last time is loaded even when the
change listing missed it.

**Safety net**: every `safety_net_every_days` (a week, like the
reconciliation) a sync fetches the children of every ticket that is not
Closed, and counts the tickets whose children differ from the fingerprint
kept from their last fetch although change detection saw no activity
(`change_detection_missed` in `atera_meta.sync_runs`; expected: 0).

State (`change_detection` in dlt's source state, stored with the data):

* `tickets`: per ticket not Closed (and per Closed one the last change listing
  listed), `s` (the activity signal), `r` (row hash)
  and `c`, `w`, `b` (fingerprints of its comments, work hours and billable
  duration when last fetched); see `pipelines.atera.fingerprints`;
* `listed`: the ticket ids of the last change listing (published API);
* `vanished`: tickets whose children answered 404, not fetched again unless the
  change listing lists them again;
* `work_hours`: the records of the look-back window, `{id: [hash, ticket, start]}`;
* `safety_net_at`: the server's time of the last safety net (or full sync).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable, MutableMapping
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any, Protocol

from pipelines.atera import settings
from pipelines.atera.client import AteraClient
from pipelines.atera.errors import ApiResponseError
from pipelines.atera.fingerprints import (
    BILLABLE,
    CHILD_KINDS,
    COMMENTS,
    WORK_HOURS,
    activity_signal,
    children_hash,
    record_hash,
    row_hash,
)
from pipelines.atera.records import as_utc, parse_timestamp
from pipelines.atera.schema import CLOSED_STATUS, TICKET_STATUSES
from pipelines.atera.shapes import BULK_UNSUPPORTED_STATUSES, PUBLISHED

logger = logging.getLogger("atera_sync.change_detection")

OPEN_STATUSES = tuple(s for s in TICKET_STATUSES if s != CLOSED_STATUS)
STATE_KEY = "change_detection"
_FINGERPRINT_KEYS = {COMMENTS: "c", WORK_HOURS: "w", BILLABLE: "b"}
_STAMP = "%Y-%m-%dT%H:%M:%S"


class DetectionReport(Protocol):
    """Where the detection reports its figures (the plan's SyncReport)."""

    child_fetches_skipped: int
    tickets_refreshed: int
    safety_net: bool
    change_detection_missed: int | None


def _id(ticket: dict[str, Any]) -> int:
    return int(ticket["TicketID"])


def _closed(ticket: dict[str, Any]) -> bool:
    return ticket.get("TicketStatus") == CLOSED_STATUS


class ChangeDetection:
    """Decides, per ticket and kind of child, whether to fetch; keeps the signals in state.

    Args:
        client: the Atera client (for the listings change detection needs).
        report: receives the skipped fetches and the safety net's findings.
        safety_net_every_days: how often to fetch every open ticket's children
            anyway (0: never).
        work_hours_lookback_days: how far before the watermark the published
            API's work-hour listing looks, for time logged late.
        naive_zone: the zone of timestamps sent without an offset.
    """

    def __init__(
        self,
        client: AteraClient,
        report: DetectionReport,
        *,
        safety_net_every_days: int = settings.SAFETY_NET_EVERY_DAYS,
        work_hours_lookback_days: int = settings.WORK_HOURS_LOOKBACK_DAYS,
        naive_zone: tzinfo = UTC,
    ) -> None:
        self.client = client
        self.report = report
        self.safety_net_every = timedelta(days=safety_net_every_days)
        self.lookback = timedelta(days=max(0, work_hours_lookback_days))
        self.naive_zone = naive_zone
        self._root: MutableMapping[str, Any] = {}
        self._state: dict[str, Any] = {}
        self._wanted: dict[int, set[str]] = {}
        self._detected: dict[str, set[int]] = {kind: set() for kind in CHILD_KINDS}
        self._prefetched: dict[int, dict] = {}
        self._account_records: dict[int, list[dict]] = {}
        self._window_cutoff: datetime | None = None
        self._lock = threading.Lock()

    # -- binding and the decisions of one load -----------------------------

    def bind(self, source_state: MutableMapping[str, Any]) -> None:
        """Use dlt's source state (called by the plan once it is bound)."""
        self._root = source_state
        self._state = source_state.setdefault(STATE_KEY, {})
        self._state.setdefault("tickets", {})

    def survey_full_chunk(
        self,
        shape: str,
        tickets: list[dict],
        server_time: datetime | None,
        first_chunk: bool,
        overlap: timedelta,
    ) -> None:
        """A chunk of a full sync fetches every child of its tickets; remember their signals."""
        if first_chunk:
            self._state["listed"] = []
            self._state["work_hours"] = {}
            if server_time is not None:
                self._state["safety_net_at"] = server_time.isoformat()
                self._window_cutoff = server_time - overlap - self.lookback
        for ticket in tickets:
            self._remember_row(shape, ticket)
            self._wanted[_id(ticket)] = set(CHILD_KINDS)

    def survey_changes(
        self,
        shape: str,
        changed: list[dict],
        previous_open: set[int],
        pending: set[int],
        server_time: datetime | None,
        watermark: datetime,
    ) -> list[dict]:
        """Decide an incremental sync's child fetches; return ticket rows to load besides `changed`.

        Args:
            shape: the API shape.
            changed: the change listing's tickets.
            previous_open: tickets not Closed at the last sync.
            pending: tickets whose children a reconciliation asked for.
            server_time: the server's clock at the start of this sync.
            watermark: the change listing's lower bound.
        """
        activity = self._list_open_tickets()
        rows = {_id(t): t for t in changed}
        changed_ids = set(rows)
        rows.update(activity)
        fresh = changed_ids - {int(i) for i in self._state.get("listed", [])}
        baseline = changed_ids | previous_open | pending
        extra = self._decide(shape, rows, changed_ids, fresh, baseline | set(activity), pending)
        if shape == PUBLISHED:
            self._published_work_hours(fresh, watermark)
        self._detected = {k: set(self.wanted(k, self._wanted)) for k in CHILD_KINDS}
        if self._safety_net_due(server_time):
            self._start_safety_net(server_time, previous_open | set(activity), rows)
        self.report.child_fetches_skipped += sum(
            len(baseline) - len(self.wanted(kind, baseline)) for kind in CHILD_KINDS
        )
        self.report.tickets_refreshed += len(extra)
        for ticket_id, row in rows.items():
            self._remember_row(shape, row, keep_closed=ticket_id in changed_ids)
        self._state["listed"] = sorted(changed_ids)
        return extra

    def targets(self) -> list[int]:
        """Every ticket with at least one kind of child to fetch."""
        return sorted(t for t, kinds in self._wanted.items() if kinds)

    def wanted(self, kind: str, ticket_ids: Iterable[int]) -> list[int]:
        """The tickets of a batch whose children of `kind` to fetch."""
        return [t for t in ticket_ids if kind in self._wanted.get(t, ())]

    def take_prefetched(self, ticket_ids: Iterable[int]) -> list[dict]:
        """Billable durations the detection fetched already, for these tickets."""
        taken = [self._prefetched.pop(t) for t in ticket_ids if t in self._prefetched]
        for record in taken:
            self.observe(BILLABLE, int(record.get("ticketId") or record["TicketID"]), [record])
        return taken

    # -- what the fetches saw ------------------------------------------------

    def observe(self, kind: str, ticket_id: int, records: list[dict]) -> None:
        """Keep the fingerprint of a ticket's fetched children; count safety-net findings."""
        fingerprint = children_hash(kind, records)
        key = _FINGERPRINT_KEYS[kind]
        with self._lock:
            entry = self._state["tickets"].get(str(ticket_id))
            if entry is None:  # Closed: not kept
                return
            before = entry.get(key)
            entry[key] = fingerprint
            missed = (
                self.report.safety_net
                and ticket_id not in self._detected[kind]
                and before is not None
                and before != fingerprint
            )
            if missed:
                self.report.change_detection_missed = (self.report.change_detection_missed or 0) + 1
                logger.warning(
                    "safety net: the %s of ticket %s changed without a sign of activity",
                    kind.replace("_", " "),
                    ticket_id,
                )

    def observe_account_work_hours(self, records: list[dict]) -> None:
        """Records of a full sync's account-wide listing (published API), page by page."""
        window = self._state.setdefault("work_hours", {})
        for record in records:
            ticket_id = _id(record)
            if str(ticket_id) in self._state["tickets"]:
                self._account_records.setdefault(ticket_id, []).append(record)
            start = self._start_of(record)
            if self._window_cutoff is not None and (start is None or start >= self._window_cutoff):
                window[_work_hour_id(record)] = [
                    record_hash(WORK_HOURS, record),
                    ticket_id,
                    _stamp(start),
                ]

    def account_work_hours_done(self) -> None:
        """The account-wide listing is complete: fingerprint every kept ticket's work hours."""
        for key in list(self._state["tickets"]):
            self.observe(WORK_HOURS, int(key), self._account_records.pop(int(key), []))

    def keep_only(self, open_ids: set[int]) -> None:
        """Drop what is kept about tickets no longer open (closed, deleted, reconciled away),
        except Closed ones the change listing just listed."""
        keep = open_ids | {int(i) for i in self._state.get("listed", [])}
        entries = self._state["tickets"]
        for key in [k for k in entries if int(k) not in keep]:
            del entries[key]

    def forget(self, ticket_id: int) -> None:
        """A ticket that vanished (404): keep nothing about it."""
        with self._lock:
            self._state["tickets"].pop(str(ticket_id), None)
            # not asked for again unless the change listing lists it again
            self._state["vanished"] = sorted({*self._state.get("vanished", []), ticket_id})

    # -- internals ------------------------------------------------------------

    def _decide(
        self,
        shape: str,
        rows: dict[int, dict],
        changed_ids: set[int],
        fresh: set[int],
        candidates: set[int],
        pending: set[int],
    ) -> list[dict]:
        entries = self._state["tickets"]
        vanished = set(self._state.get("vanished", [])) - changed_ids
        self._state["vanished"] = sorted(vanished)
        extra: list[dict] = []
        for ticket_id in sorted(candidates - vanished):
            row = rows.get(ticket_id)
            entry = entries.get(str(ticket_id))
            if row is not None and _refreshed(row, entry, ticket_id not in changed_ids):
                extra.append(row)
            if row is not None and entry is None and self._quiet_since_last_run(shape, row):
                continue  # its children were fetched after its last activity
            if row is None or entry is None or ticket_id in pending:
                self._wanted[ticket_id] = set(CHILD_KINDS)  # no signal: fetch as before
                continue
            wanted = self._wanted.setdefault(ticket_id, set())
            signal = activity_signal(shape, row)
            if signal is None or signal != entry.get("s"):
                wanted.update((COMMENTS,) if shape == PUBLISHED else CHILD_KINDS)
            if shape == PUBLISHED and ticket_id in fresh:
                wanted.add(COMMENTS)
        return extra

    def _published_work_hours(self, fresh: set[int], watermark: datetime) -> None:
        """Work hours from the account-wide window and the bulk billable durations."""
        touched = self._work_hour_window(watermark)
        if touched is None:  # no account-wide listing: every newly listed ticket
            touched = set(fresh)
        for ticket_id in touched:
            self._wanted.setdefault(ticket_id, set()).update((WORK_HOURS, BILLABLE))
        whole = {t for t, kinds in self._wanted.items() if kinds >= set(CHILD_KINDS)}
        check = (fresh | touched) - whole
        differ = self._prefetch_billable(check)
        if differ is None:  # no bulk endpoint: a call per ticket, so check nothing
            differ = check
        for ticket_id in check:
            self._wanted.setdefault(ticket_id, set()).add(BILLABLE)
        for ticket_id in differ:
            self._wanted[ticket_id].add(WORK_HOURS)

    def _list_open_tickets(self) -> dict[int, dict]:
        """The tickets not Closed, 50 a call; every ticket if the server ignores the filter."""
        found: dict[int, dict] = {}
        for status in OPEN_STATUSES:
            filtered = True
            try:
                for page in self.client.iter_ticket_pages_in_status(status):
                    for ticket in page.items:
                        filtered = filtered and str(ticket.get("TicketStatus")) == status
                        if not _closed(ticket):
                            found[_id(ticket)] = ticket
            except ApiResponseError as exc:
                if exc.status_code != 400:
                    raise
                logger.info("GET /tickets refuses ticketStatus: listing every ticket instead")
                for page in self.client.iter_ticket_pages():
                    found.update({_id(t): t for t in page.items if not _closed(t)})
                return found
            if not filtered:
                return found  # that listing held every ticket
        return found

    def _work_hour_window(self, watermark: datetime) -> set[int] | None:
        """Tickets whose records in the look-back window are new, changed or gone."""
        if self._root.get("account_work_hours") is False:
            return None
        start = watermark - self.lookback
        before: dict[str, list] = self._state.get("work_hours", {})
        seen: dict[str, list] = {}
        try:
            for page in self.client.iter_account_work_hours(start):
                for record in page:
                    when = self._start_of(record)
                    if when is not None and when < start:
                        continue  # a server that ignores startWorkhour
                    entry = [record_hash(WORK_HOURS, record), _id(record), _stamp(when)]
                    seen[_work_hour_id(record)] = entry
        except ApiResponseError as exc:
            if exc.status_code not in BULK_UNSUPPORTED_STATUSES:
                raise
            logger.warning("GET /workhours answered HTTP %s: no work-hour window", exc.status_code)
            self._root["account_work_hours"] = False
            return None
        touched = {entry[1] for key, entry in seen.items() if before.get(key) != entry}
        gone = [e for k, e in before.items() if k not in seen and str(e[2]) >= _stamp(start)]
        touched.update(int(e[1]) for e in gone)
        self._state["work_hours"] = seen
        return touched

    def _prefetch_billable(self, ticket_ids: set[int]) -> set[int] | None:
        """Fetch billable durations in bulk; the tickets whose duration differs from the
        stored one (None when the server has no bulk endpoint)."""
        ids = sorted(ticket_ids)
        size = settings.BULK_BILLABLE_MAX_IDS
        try:
            for start in range(0, len(ids), size):
                for record in self.client.get_billable_durations(ids[start : start + size]):
                    key = record.get("ticketId") or record.get("TicketID")
                    if key is not None:
                        self._prefetched[int(key)] = record
        except ApiResponseError as exc:
            if exc.status_code not in BULK_UNSUPPORTED_STATUSES:
                raise
            self._prefetched.clear()
            return None
        entries = self._state["tickets"]
        return {
            t
            for t in ids
            if t in self._prefetched
            and (entries.get(str(t)) or {}).get("b")
            != children_hash(BILLABLE, [self._prefetched[t]])
        }

    def _safety_net_due(self, server_time: datetime | None) -> bool:
        if self.safety_net_every <= timedelta(0) or server_time is None:
            return False
        last = as_utc(self._state.get("safety_net_at"))
        return last is None or server_time - last >= self.safety_net_every

    def _start_safety_net(
        self, server_time: datetime | None, open_ids: set[int], rows: dict[int, dict]
    ) -> None:
        """Fetch every open ticket's children this time, and compare."""
        self.report.safety_net = True
        self.report.change_detection_missed = 0
        still_open = {t for t in open_ids if not (t in rows and _closed(rows[t]))}
        for ticket_id in still_open:
            self._wanted[ticket_id] = set(CHILD_KINDS)
        if server_time is not None:
            self._state["safety_net_at"] = server_time.isoformat()
        logger.info("safety net: fetching the children of all %d open tickets", len(still_open))

    def _quiet_since_last_run(self, shape: str, row: dict) -> bool:
        """Contract shape: a ticket last active before the last run started was listed by
        it or an earlier run after that activity, so its children were fetched then."""
        last_run = as_utc(self._root.get("last_run_started_at"))
        active = as_utc(row.get("LastActivityDate")) if shape != PUBLISHED else None
        return last_run is not None and active is not None and active < last_run

    def _remember_row(self, shape: str, ticket: dict, keep_closed: bool = False) -> None:
        """Keep a ticket's signals: while it is open, and a Closed one for one more run
        after a change listing listed it (the next run's overlap lists it again)."""
        entries = self._state["tickets"]
        key = str(_id(ticket))
        if _closed(ticket) and not keep_closed:
            entries.pop(key, None)
            return
        entry = entries.setdefault(key, {})
        entry["s"] = activity_signal(shape, ticket)
        entry["r"] = row_hash(ticket)

    def _start_of(self, record: dict) -> datetime | None:
        start = record.get("StartWorkHour") or record.get("StartDate")
        value = parse_timestamp(start, self.naive_zone)
        return value if isinstance(value, datetime) else None


def _refreshed(row: dict, entry: dict | None, unlisted: bool) -> bool:
    """Whether a row the change listing missed differs from the one seen last time."""
    return unlisted and (entry is None or entry.get("r") != row_hash(row))


def _work_hour_id(record: dict) -> str:
    return str(record.get("WorkHoursID") or record.get("WorkHourID"))


def _stamp(value: datetime | None) -> str:
    return value.astimezone(UTC).strftime(_STAMP) if value is not None else ""
