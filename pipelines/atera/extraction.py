"""What the resources of one extraction share: the client, the plan, the shape, the problems.

The resources in `pipelines.atera.resources` are module-level functions; each
receives the `Extraction` of the current load and asks it for the tickets to
load, for the API shape, and to fetch per-ticket children concurrently.
"""

from __future__ import annotations

import logging
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import tzinfo
from typing import Any

from pipelines.atera.client import AteraClient
from pipelines.atera.errors import NotFoundError
from pipelines.atera.fingerprints import BILLABLE, COMMENTS, WORK_HOURS
from pipelines.atera.plan import ProgressCallback, SyncPlan
from pipelines.atera.privacy import Privacy
from pipelines.atera.records import Problems, normalize_record
from pipelines.atera.shapes import SHAPES, ApiShape

logger = logging.getLogger("atera_sync.source")

BATCH_ROWS = 1000
"""Rows handed to dlt at a time by the per-ticket resources."""

Rows = list[dict]

STAGE_KINDS = {"comments": COMMENTS, "work hours": WORK_HOURS, "billable duration": BILLABLE}
"""The kind of child (see `pipelines.atera.fingerprints`) each per-ticket stage fetches."""


class Extraction:
    """The shared context of one dlt extraction of the Atera source.

    Args:
        client: the Atera client.
        plan: decides what this load fetches and keeps the state.
        naive_zone: the zone of timestamps sent without an offset.
        progress: optional progress(stage, done, total) callback.
        privacy: columns to hash or drop before rows reach dlt.
    """

    def __init__(
        self,
        client: AteraClient,
        plan: SyncPlan,
        naive_zone: tzinfo,
        progress: ProgressCallback | None = None,
        privacy: Privacy | None = None,
    ) -> None:
        self.client = client
        self.privacy = privacy
        self.plan = plan
        self.naive_zone = naive_zone
        self.progress = progress
        self.problems = Problems(plan.report.problems)
        self.bulk_billable_supported: bool | None = None
        """Whether the bulk billable-duration endpoint answered (None: not tried yet)."""
        self._tickets: list[dict] | None = None
        self._lock = threading.Lock()
        self._done: Counter[str] = Counter()

    def tickets(self) -> list[dict]:
        """The tickets this load lists (the plan lists them on the first call, over HTTP)."""
        with self._lock:
            if self._tickets is None:
                self._tickets = self.plan.list_tickets()
            return self._tickets

    def shape(self) -> ApiShape:
        """The API shape this load speaks (known once the tickets are listed)."""
        self.tickets()
        return SHAPES[self.plan.api_shape()]

    def rows(self, ticket_id: int | None, records: list[dict]) -> Rows:
        """Records as rows: dates parsed, and the ticket id added where a record lacks one."""
        extra = {} if ticket_id is None else {"TicketID": ticket_id}
        return [
            normalize_record(
                record,
                self.naive_zone,
                problems=self.problems,
                privacy=self.privacy,
                **({} if _names_ticket(record) else extra),
            )
            for record in records
        ]

    def per_ticket(
        self, stage: str, ticket_ids: list[int], fetch: Callable[[int], list[dict]]
    ) -> Iterator[Rows]:
        """Call `fetch(ticket_id)` for every ticket concurrently; yield their rows in batches.

        A ticket that answers 404 has been deleted since it was listed: it is
        skipped, reported, and not fetched by later syncs.
        """

        kind = STAGE_KINDS[stage]

        def fetch_rows(ticket_id: int) -> Rows:
            try:
                records = fetch(ticket_id)
                self.plan.detection.observe(kind, ticket_id, records)
                return self.rows(ticket_id, records)
            except NotFoundError:
                logger.warning("ticket %s vanished (404) while syncing; skipped", ticket_id)
                self.plan.forget_ticket(ticket_id)
                return []

        return self.concurrently(stage, ticket_ids, fetch_rows)

    def concurrently(
        self, stage: str, keys: list[int], fetch: Callable[[int], Rows]
    ) -> Iterator[Rows]:
        """Run `fetch(key)` for every key on the client's workers; yield rows in batches."""
        batch: Rows = []
        for _, rows in self.client.map_concurrently(fetch, keys):
            batch.extend(rows)
            self._advance(stage)
            if len(batch) >= BATCH_ROWS:
                yield batch
                batch = []
        if batch:
            yield batch

    def _advance(self, stage: str) -> None:
        self._done[stage] += 1
        done = self._done[stage]
        total = self.plan.report.child_targets
        if self.progress and (done % 25 == 0 or done == total):
            self.progress(stage, done, total)


def _names_ticket(record: dict[str, Any]) -> bool:
    """Whether a record already names its ticket (`TicketID`, or the published `ticketId`)."""
    return record.get("TicketID") is not None or record.get("ticketId") is not None
