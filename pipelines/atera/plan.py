"""What one sync fetches, and the state it leaves for the next one.

The first sync lists every ticket. Later syncs ask for the tickets changed
since the watermark (`statusmodified?modifiedAfter=` in the ticket contract,
`lastmodified?date=` in Atera's published API), and fetch comments, work hours
and billable duration for those tickets and for every ticket that was not
Closed at the last sync (a new comment need not change a ticket's status).
Closed tickets are final and are not fetched again.

The plan makes no HTTP call and touches no state until `list_tickets()` is
called (by the first resource dlt extracts, once dlt has restored the state
from the warehouse); its other methods only read what that listing saw.

State lives in dlt's source state, which dlt stores in the warehouse with the
data of the same load: the watermark only moves when that data has landed.

* `last_run_started_at`: the server's clock (HTTP `Date`) at the first
  response of the last successful sync.
* `watermark`: `last_run_started_at` minus the overlap: the next sync asks for
  changes after it. Overlap duplicates are removed by the merge.
* `open_ticket_ids`: tickets not Closed as of the last sync.
* `full_sync`: while a full sync is under way, `{"next_page", "started_at"}`.
  A full sync loads `full_sync_chunk_pages` pages of tickets (with their
  comments, work hours and billable durations) per load, so a sync that is
  killed resumes at the first page that did not land instead of page 1. The
  watermark is set only when the last chunk lands, from the first chunk's
  start.
* `pending_children_ids`: tickets a reconciliation found missing; the next
  sync fetches their comments, work hours and billable duration once.
* `last_reconcile_at`: server time of the last complete ticket listing.
* `api_shape`: `contract` or `published`, the API shape seen by the first
  sync (`api_flavor` with `seed`/`v3` in warehouses written before 0.2); it
  picks the incremental endpoint unless one is configured.
* `account_work_hours`: whether the published API's account-wide
  `GET /workhours` answered.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator, MutableMapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any

from pipelines.atera import settings
from pipelines.atera.change_detection import ChangeDetection
from pipelines.atera.client import AteraClient, Page
from pipelines.atera.errors import ConfigurationError
from pipelines.atera.records import as_utc
from pipelines.atera.schema import CLOSED_STATUS, TICKET_PRIORITIES, TICKET_STATUSES
from pipelines.atera.shapes import CONTRACT, DEPRECATED_NAMES, SHAPES, detect_shape, shape_name

logger = logging.getLogger("atera_sync.plan")

ProgressCallback = Callable[[str, int, int], None]
"""progress(stage, done, total): called as per-ticket calls complete."""

CLOCK_SKEW_WARNING_SECONDS = 300


@dataclass
class SyncReport:
    """What the plan decided and saw, for the run summary."""

    mode: str = "full"
    api_shape: str = ""
    incremental_endpoint: str = ""
    modified_after: datetime | None = None
    watermark_before: datetime | None = None
    server_time: datetime | None = None
    server_time_source: str = ""
    new_watermark: datetime | None = None
    tickets_listed: int = 0
    child_targets: int = 0
    open_tickets: int = 0
    missing_ticket_ids: set[int] = field(default_factory=set)
    full_sync_pages: tuple[int, int] | None = None
    full_sync_done: bool = True
    problems: list[str] = field(default_factory=list)
    child_fetches_skipped: int = 0
    """Per-ticket child fetches (ticket x kind) that change detection left out."""
    tickets_refreshed: int = 0
    """Open tickets loaded because their row changed although the change listing missed them."""
    safety_net: bool = False
    """Whether this load fetched every open ticket's children to check change detection."""
    change_detection_missed: int | None = None
    """With the safety net: children that changed without a sign of activity (expected 0)."""


class SyncPlan:
    """Lists the tickets to load and the tickets whose children to fetch.

    Args:
        client: the shared Atera client.
        state: returns dlt's source state; called by `list_tickets()`, inside
            dlt's extract step, after dlt has restored the state from the warehouse.
        overlap_seconds: how far before the last run's start the next one looks.
        full_refresh: ignore the watermark and list every ticket.
        api_shape: `contract`, `published` or `auto` (remembered from the first sync).
        incremental_endpoint: `statusmodified`, `lastmodified` or `auto` (by shape).
        full_sync_chunk_pages: ticket pages per load during a full sync.
        progress: optional progress callback.
        safety_net_every_days: how often to fetch every open ticket's children anyway.
        work_hours_lookback_days: the published work-hour listing's look-back.
        naive_zone: the zone of timestamps sent without an offset.
    """

    def __init__(
        self,
        client: AteraClient,
        state: Callable[[], MutableMapping[str, Any]],
        *,
        overlap_seconds: int = settings.WATERMARK_OVERLAP_SECONDS,
        full_refresh: bool = False,
        api_shape: str = "auto",
        incremental_endpoint: str = "auto",
        full_sync_chunk_pages: int = settings.FULL_SYNC_CHUNK_PAGES,
        progress: ProgressCallback | None = None,
        safety_net_every_days: int = settings.SAFETY_NET_EVERY_DAYS,
        work_hours_lookback_days: int = settings.WORK_HOURS_LOOKBACK_DAYS,
        naive_zone: tzinfo = UTC,
    ) -> None:
        if incremental_endpoint not in ("auto", *settings.INCREMENTAL_ENDPOINTS):
            raise ConfigurationError(
                f"incremental endpoint {incremental_endpoint!r} is unknown: use auto, "
                "statusmodified or lastmodified"
            )
        self.configured_shape = shape_name(api_shape)
        self.incremental_endpoint = incremental_endpoint
        self.client = client
        self._state_provider = state
        self._state: MutableMapping[str, Any] | None = None
        self.overlap = timedelta(seconds=overlap_seconds)
        self.full_refresh = full_refresh
        self.full_sync_chunk_pages = max(1, full_sync_chunk_pages)
        self.progress = progress
        self.report = SyncReport()
        self.detection = ChangeDetection(
            client,
            self.report,
            safety_net_every_days=safety_net_every_days,
            work_hours_lookback_days=work_hours_lookback_days,
            naive_zone=naive_zone,
        )
        self._listed: list[dict] | None = None
        self._first_page: Page | None = None
        self._previous_open: set[int] = set()
        self._pending_children: set[int] = set()
        self._chunk_first_page = 1
        self._next_page = 1
        self._account_work_hours_listed = False
        self._state_lock = threading.Lock()

    # -- the listing: the plan's only HTTP calls and state changes ----------

    def list_tickets(self) -> list[dict]:
        """List the changed tickets (every ticket on a full sync) and advance the state.

        Call once per load, inside dlt's extract step: it binds dlt's source
        state, makes the listing's HTTP calls, and writes the new watermark,
        open tickets and full-sync progress into the state (which dlt stores
        only if the load completes).
        """
        if self._listed is not None:
            raise RuntimeError("SyncPlan.list_tickets() is called once per load")
        self._bind_state()
        tickets = self._list()
        tickets += self._survey(tickets)
        self._listed = tickets
        self._advance_state(tickets)
        return tickets

    @property
    def listed(self) -> bool:
        """Whether `list_tickets()` ran (dlt extracted the source)."""
        return self._listed is not None

    def api_shape(self) -> str:
        """`contract` or `published`: configured, else remembered, else seen on this listing."""
        if self.configured_shape != "auto":
            return self.configured_shape
        remembered = _remembered_shape(self._bound_state())
        if remembered:
            return remembered
        seen = detect_shape(self._first_page.envelope) if self._first_page else None
        return seen or CONTRACT

    def child_targets(self) -> list[int]:
        """Ticket ids whose comments, work hours and billable duration to fetch.

        A full sync's chunk fetches them for its own tickets; an incremental
        sync for the changed tickets and every ticket open at the last sync.
        """
        self._require_listing()
        targets = self.detection.targets()
        self.report.child_targets = len(targets)
        return targets

    def forget_ticket(self, ticket_id: int) -> None:
        """Record a ticket that vanished (404) so later syncs stop fetching it (thread-safe)."""
        with self._state_lock:
            self.report.missing_ticket_ids.add(ticket_id)
            self.detection.forget(ticket_id)
            state = self._bound_state()
            open_ids = set(state.get("open_ticket_ids", []))
            if ticket_id in open_ids:
                open_ids.discard(ticket_id)
                state["open_ticket_ids"] = sorted(open_ids)
        self.detection.keep_only(open_ids)

    # -- the published API's account-wide work-hour listing ----------------

    def account_work_hours_due(self) -> bool:
        """Whether to list work hours account-wide: the first chunk of a full sync,
        unless the server is known to lack `GET /workhours`."""
        known = self._bound_state().get("account_work_hours")
        return self.report.mode == "full" and self._chunk_first_page == 1 and known is not False

    def account_work_hours_listed(self) -> bool:
        """Whether an account-wide listing covers this load's work hours already."""
        if self._account_work_hours_listed:
            return True
        known = self._bound_state().get("account_work_hours")
        # later chunks of a full sync were covered by the first chunk's listing
        return self.report.mode == "full" and self._chunk_first_page > 1 and known is True

    def remember_account_work_hours(self, supported: bool) -> None:
        """Record whether `GET /workhours` answered (kept for later syncs)."""
        self._bound_state()["account_work_hours"] = supported
        self._account_work_hours_listed = supported

    # -- internals --------------------------------------------------------

    def _bind_state(self) -> None:
        self._state = self._state_provider()
        self.detection.bind(self._state)
        self._previous_open = {int(i) for i in self._state.get("open_ticket_ids", [])}
        self._pending_children = {int(i) for i in self._state.get("pending_children_ids", [])}

    def _bound_state(self) -> MutableMapping[str, Any]:
        if self._state is None:
            raise RuntimeError("the plan has no state before list_tickets()")
        return self._state

    def _require_listing(self) -> list[dict]:
        if self._listed is None:
            raise RuntimeError("the plan has no tickets before list_tickets()")
        return self._listed

    def _list(self) -> list[dict]:
        state = self._bound_state()
        self.report.watermark_before = as_utc(state.get("watermark"))
        in_progress = state.get("full_sync")
        if self.full_refresh or in_progress or self.report.watermark_before is None:
            pages = self._full_sync_pages(in_progress)
        else:
            pages = self._modified_pages(self.report.watermark_before)
        by_id: dict[int, dict] = {}
        for page in pages:
            self._first_page = self._first_page or page
            for ticket in page.items:
                # pages that shift while we read them repeat a ticket: keep the last copy
                by_id[int(ticket["TicketID"])] = ticket
            if self.progress:
                self.progress("tickets", len(by_id), 0)
        self.report.tickets_listed = len(by_id)
        self.report.api_shape = self.api_shape()
        tickets = list(by_id.values())
        self._check_values(tickets)
        return tickets

    def _survey(self, tickets: list[dict]) -> list[dict]:
        """Ask change detection which children to fetch; the extra ticket rows to load."""
        server_time = self._first_page.server_time if self._first_page else None
        shape = self.api_shape()
        if self.report.mode == "full":
            first_chunk = self._chunk_first_page == 1
            self.detection.survey_full_chunk(shape, tickets, server_time, first_chunk, self.overlap)
            return []
        watermark = self.report.watermark_before
        assert watermark is not None  # an incremental sync has one
        return self.detection.survey_changes(
            shape, tickets, self._previous_open, self._pending_children, server_time, watermark
        )

    def _modified_pages(self, watermark: datetime) -> Iterator[Page]:
        self.report.mode = "incremental"
        self.report.modified_after = watermark
        endpoint = self.incremental_endpoint
        if endpoint == "auto":
            endpoint = SHAPES[self.api_shape()].incremental_endpoint
        self.report.incremental_endpoint = endpoint
        return self.client.iter_modified_ticket_pages(watermark, endpoint)

    def _full_sync_pages(self, in_progress: Any) -> Iterator[Page]:
        """This chunk of a full sync: up to full_sync_chunk_pages pages from where it stopped."""
        self.report.mode = "full"
        first = int(in_progress["next_page"]) if isinstance(in_progress, dict) else 1
        self._chunk_first_page = first
        last_seen = first - 1
        self.report.full_sync_done = False
        for page in self.client.iter_ticket_pages(first, self.full_sync_chunk_pages):
            last_seen = page.number
            if page.last:
                self.report.full_sync_done = True
            yield page
        self.report.full_sync_pages = (first, max(first, last_seen))
        self._next_page = last_seen + 1

    def _check_values(self, tickets: list[dict]) -> None:
        """Record values outside the documented ones; the rows are loaded as sent."""
        for ticket in tickets:
            for field_name, allowed in (
                ("TicketStatus", TICKET_STATUSES),
                ("TicketPriority", TICKET_PRIORITIES),
            ):
                value = ticket.get(field_name)
                if value is not None and value not in allowed:
                    self.report.problems.append(
                        f"ticket {ticket.get('TicketID')}: {field_name} {value!r} is not one "
                        f"of {', '.join(allowed)} (loaded as sent)"
                    )
        for problem in self.report.problems[:20]:
            logger.warning("%s", problem)

    def _advance_state(self, tickets: list[dict]) -> None:
        state = self._bound_state()
        started_at, source = self._run_start(tickets)
        self.report.server_time = started_at
        self.report.server_time_source = source
        if self.report.mode == "full":
            self._advance_full_sync(started_at)
        elif started_at is not None:
            self._set_watermark(started_at)
        else:
            self.report.new_watermark = self.report.watermark_before

        chunk_continues = self.report.mode == "full" and self._chunk_first_page > 1
        keep_previous = self.report.mode == "incremental" or chunk_continues
        open_ids = set(self._previous_open) if keep_previous else set()
        for ticket in tickets:
            ticket_id = int(ticket["TicketID"])
            if ticket.get("TicketStatus") == CLOSED_STATUS:
                open_ids.discard(ticket_id)
            else:
                open_ids.add(ticket_id)
        state["open_ticket_ids"] = sorted(open_ids)
        self.detection.keep_only(open_ids)
        if self.report.mode == "incremental":
            state["pending_children_ids"] = []  # fetched by this run
        state["api_shape"] = self.api_shape()
        state.pop("api_flavor", None)
        self.report.open_tickets = len(open_ids)

    def _advance_full_sync(self, started_at: datetime | None) -> None:
        state = self._bound_state()
        in_progress = state.get("full_sync")
        first_start = as_utc(in_progress.get("started_at")) if in_progress else None
        first_start = first_start or started_at
        if self.report.full_sync_done:
            state.pop("full_sync", None)
            if first_start is not None:
                self._set_watermark(first_start)
                # a complete listing is as good as a reconciliation
                state["last_reconcile_at"] = first_start.isoformat()
            else:
                self.report.new_watermark = self.report.watermark_before
            return
        state["full_sync"] = {
            "next_page": self._next_page,
            "started_at": first_start.isoformat() if first_start else None,
        }
        self.report.new_watermark = self.report.watermark_before

    def _set_watermark(self, started_at: datetime) -> None:
        state = self._bound_state()
        watermark = started_at - self.overlap
        state["last_run_started_at"] = started_at.isoformat()
        state["watermark"] = watermark.isoformat()
        self.report.new_watermark = watermark

    def _run_start(self, tickets: list[dict]) -> tuple[datetime | None, str]:
        """The server's time when this load started: its first Date header, else the data."""
        server_time = self._first_page.server_time if self._first_page else None
        if server_time is not None:
            skew = (datetime.now(UTC) - server_time).total_seconds()
            if abs(skew) > CLOCK_SKEW_WARNING_SECONDS:
                logger.warning(
                    "this machine's clock is %+.0f s off the server's; the watermark "
                    "follows the server's clock",
                    skew,
                )
            return server_time, "server Date header"
        stamps = [as_utc(t.get("LastActivityDate")) for t in tickets]
        known = [s for s in stamps if s is not None]
        if known:
            logger.warning("the server sent no Date header: the watermark follows the data")
            return max(known), "latest LastActivityDate"
        logger.warning("no server time known: the watermark stays where it was")
        return None, "unchanged"


def _remembered_shape(state: MutableMapping[str, Any]) -> str | None:
    """The shape an earlier sync saw (`api_shape`, or the old `api_flavor` seed/v3)."""
    remembered = state.get("api_shape") or DEPRECATED_NAMES.get(str(state.get("api_flavor")))
    return remembered if remembered in SHAPES else None
