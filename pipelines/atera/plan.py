"""What one sync fetches, and the state it leaves for the next one.

The first sync lists every ticket. Later syncs ask `statusmodified` for the
tickets changed since the watermark, and fetch comments, work hours and
billable duration for those tickets and for every ticket that was not Closed
at the last sync (a new comment need not change a ticket's status). Closed
tickets are final and are not fetched again.

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
* `api_flavor`: `seed` or `v3`, the API shape seen by the first sync; it
  picks the incremental endpoint (`statusmodified?modifiedAfter=` for the
  seed, `lastmodified?date=` for Atera's published API) unless configured.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, MutableMapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from pipelines.atera import settings
from pipelines.atera.client import AteraClient
from pipelines.atera.errors import ConfigurationError
from pipelines.atera.records import parse_timestamp

logger = logging.getLogger("atera_sync.plan")

ProgressCallback = Callable[[str, int, int], None]
"""progress(stage, done, total): called as per-ticket calls complete."""


@dataclass
class SyncReport:
    """What the plan decided and saw, for the run summary."""

    mode: str = "full"
    flavor: str = ""
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


class SyncPlan:
    """Lists the tickets to load and the tickets whose children to fetch.

    Args:
        client: the shared Atera client.
        state: returns dlt's source state; called only once extraction starts,
            after dlt has restored the state from the warehouse.
        overlap_seconds: how far before the last run's start the next one looks.
        full_refresh: ignore the watermark and list every ticket.
        api_flavor: `seed`, `v3` or `auto` (remembered from the first sync).
        incremental_endpoint: `statusmodified`, `lastmodified` or `auto` (by flavor).
        full_sync_chunk_pages: ticket pages per load during a full sync.
        progress: optional progress callback.
    """

    def __init__(
        self,
        client: AteraClient,
        state: Callable[[], MutableMapping[str, Any]],
        *,
        overlap_seconds: int = settings.WATERMARK_OVERLAP_SECONDS,
        full_refresh: bool = False,
        api_flavor: str = "auto",
        incremental_endpoint: str = "auto",
        full_sync_chunk_pages: int = settings.FULL_SYNC_CHUNK_PAGES,
        progress: ProgressCallback | None = None,
    ) -> None:
        if api_flavor not in ("auto", *settings.FLAVORS):
            raise ConfigurationError(
                f"[sources.atera] api_flavor {api_flavor!r} is unknown: use auto, seed or v3"
            )
        if incremental_endpoint not in ("auto", *settings.INCREMENTAL_ENDPOINTS):
            raise ConfigurationError(
                f"incremental endpoint {incremental_endpoint!r} is unknown: use auto, "
                "statusmodified or lastmodified"
            )
        self.api_flavor = api_flavor
        self.incremental_endpoint = incremental_endpoint
        self.client = client
        self._state_provider = state
        self._state: MutableMapping[str, Any] | None = None
        self.overlap = timedelta(seconds=overlap_seconds)
        self.full_refresh = full_refresh
        self.full_sync_chunk_pages = max(1, full_sync_chunk_pages)
        self.progress = progress
        self.report = SyncReport()
        self._tickets: list[dict] | None = None
        self._previous_open: set[int] = set()
        self._pending_children: set[int] = set()
        self._chunk_first_page = 1
        self._next_page = 1

    @property
    def state(self) -> MutableMapping[str, Any]:
        """The source state, bound on first use (inside dlt's extract step)."""
        if self._state is None:
            self._state = self._state_provider()
            self._previous_open = {int(i) for i in self._state.get("open_ticket_ids", [])}
            self._pending_children = {int(i) for i in self._state.get("pending_children_ids", [])}
        return self._state

    @property
    def tickets(self) -> list[dict]:
        """The changed tickets (every ticket on a full sync), fetched once."""
        if self._tickets is None:
            self._tickets = self._list_tickets()
            self._advance_state(self._tickets)
        return self._tickets

    @property
    def flavor(self) -> str:
        """`seed` or `v3`: configured, else remembered, else seen on this run's listing."""
        if self.api_flavor != "auto":
            return self.api_flavor
        remembered = self.state.get("api_flavor")
        if remembered in settings.FLAVORS:
            return remembered
        return self.client.detected_flavor or settings.FLAVOR_SEED

    @property
    def account_work_hours(self) -> bool | None:
        """Whether the server has the account-wide GET /workhours (None: not tried yet)."""
        value = self.state.get("account_work_hours")
        return value if isinstance(value, bool) else None

    @account_work_hours.setter
    def account_work_hours(self, supported: bool) -> None:
        self.state["account_work_hours"] = supported

    @property
    def listed(self) -> bool:
        """Whether this plan's tickets were listed (dlt extracted the source)."""
        return self._tickets is not None

    @property
    def first_chunk(self) -> bool:
        """Whether this load starts a full sync at page 1."""
        return self.report.mode == "full" and self._chunk_first_page == 1

    def child_targets(self) -> list[int]:
        """Ticket ids whose comments, work hours and billable duration to fetch.

        A full sync's chunk fetches them for its own tickets; an incremental
        sync for the changed tickets and every ticket open at the last sync.
        """
        changed = {int(t["TicketID"]) for t in self.tickets}
        if self.report.mode == "full":
            targets = sorted(changed)
        else:
            targets = sorted(changed | self._previous_open | self._pending_children)
        self.report.child_targets = len(targets)
        return targets

    def forget_ticket(self, ticket_id: int) -> None:
        """Record a ticket that vanished (404) so later syncs stop fetching it."""
        self.report.missing_ticket_ids.add(ticket_id)
        open_ids = set(self.state.get("open_ticket_ids", []))
        if ticket_id in open_ids:
            open_ids.discard(ticket_id)
            self.state["open_ticket_ids"] = sorted(open_ids)

    # -- internals --------------------------------------------------------

    def _list_tickets(self) -> list[dict]:
        watermark = parse_timestamp(self.state.get("watermark"))
        self.report.watermark_before = watermark if isinstance(watermark, datetime) else None
        in_progress = self.state.get("full_sync")
        if self.full_refresh or in_progress or self.report.watermark_before is None:
            pages = self._full_sync_pages(in_progress)
        else:
            pages = self._modified_pages(self.report.watermark_before)
        by_id: dict[int, dict] = {}
        for page in pages:
            for ticket in page:
                # pages that shift while we read them repeat a ticket: keep the last copy
                by_id[int(ticket["TicketID"])] = ticket
            if self.progress:
                self.progress("tickets", len(by_id), 0)
        self.report.tickets_listed = len(by_id)
        self.report.flavor = self.flavor
        tickets = list(by_id.values())
        self._check_values(tickets)
        return tickets

    def _modified_pages(self, watermark: datetime) -> Iterator[list[dict]]:
        self.report.mode = "incremental"
        self.report.modified_after = watermark
        endpoint = self.incremental_endpoint
        if endpoint == "auto":
            v3 = self.flavor == settings.FLAVOR_V3
            endpoint = "lastmodified" if v3 else "statusmodified"
        self.report.incremental_endpoint = endpoint
        return self.client.iter_modified_tickets(watermark, endpoint)

    def _full_sync_pages(self, in_progress: Any) -> Iterator[list[dict]]:
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
            if page.items:
                yield page.items
        self.report.full_sync_pages = (first, max(first, last_seen))
        self._next_page = last_seen + 1

    def _check_values(self, tickets: list[dict]) -> None:
        """Record values outside the documented ones; the rows are loaded as sent."""
        for ticket in tickets:
            for field_name, allowed in (
                ("TicketStatus", settings.TICKET_STATUSES),
                ("TicketPriority", settings.TICKET_PRIORITIES),
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
            if ticket.get("TicketStatus") == settings.CLOSED_STATUS:
                open_ids.discard(ticket_id)
            else:
                open_ids.add(ticket_id)
        self.state["open_ticket_ids"] = sorted(open_ids)
        if self.report.mode == "incremental":
            self.state["pending_children_ids"] = []  # fetched by this run
        self.state["api_flavor"] = self.flavor
        self.report.open_tickets = len(open_ids)

    def _advance_full_sync(self, started_at: datetime | None) -> None:
        in_progress = self.state.get("full_sync")
        first_start = parse_timestamp(in_progress.get("started_at")) if in_progress else None
        if not isinstance(first_start, datetime):
            first_start = started_at
        if self.report.full_sync_done:
            self.state.pop("full_sync", None)
            if first_start is not None:
                self._set_watermark(first_start)
                # a complete listing is as good as a reconciliation
                self.state["last_reconcile_at"] = first_start.isoformat()
            else:
                self.report.new_watermark = self.report.watermark_before
            return
        self.state["full_sync"] = {
            "next_page": self._next_page,
            "started_at": first_start.isoformat() if first_start else None,
        }
        self.report.new_watermark = self.report.watermark_before

    def _set_watermark(self, started_at: datetime) -> None:
        watermark = started_at - self.overlap
        self.state["last_run_started_at"] = started_at.isoformat()
        self.state["watermark"] = watermark.isoformat()
        self.report.new_watermark = watermark

    def _run_start(self, tickets: list[dict]) -> tuple[datetime | None, str]:
        """The server's time when this run started: its Date header, else the data."""
        if self.client.first_server_time is not None:
            local = datetime.now(UTC)
            skew = (local - self.client.first_server_time).total_seconds()
            if abs(skew) > 300:
                logger.warning(
                    "this machine's clock is %+.0f s off the server's; the watermark "
                    "follows the server's clock",
                    skew,
                )
            return self.client.first_server_time, "server Date header"
        stamps = [parse_timestamp(t.get("LastActivityDate")) for t in tickets]
        stamps = [s for s in stamps if isinstance(s, datetime)]
        if stamps:
            logger.warning("the server sent no Date header: the watermark follows the data")
            return max(stamps), "latest LastActivityDate"
        logger.warning("no server time known: the watermark stays where it was")
        return None, "unchanged"
