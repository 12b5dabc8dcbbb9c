"""dlt source for Atera tickets, comments, work hours and billable durations.

Resources (all merged on an explicit primary key into the dataset `atera_raw`):

* `tickets` (ticket_id): every ticket on the first sync, then the ones
  `statusmodified` reports as changed since the watermark.
* `comments` (comment_id), `work_hours` (work_hour_id), `billable_durations`
  (ticket_id): fetched concurrently for the changed tickets and for every
  ticket that was still open at the last sync.
* `ticket_status_snapshots` (ticket_id, observed_at): each fetched ticket's
  status as seen by this sync, so status history can be derived later.

See `pipelines.atera.plan` for the watermark and the state kept between syncs.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from typing import Any

import dlt
from dlt.sources import DltResource

from pipelines.atera import settings
from pipelines.atera.client import AteraClient
from pipelines.atera.errors import NotFoundError
from pipelines.atera.plan import ProgressCallback, SyncPlan
from pipelines.atera.records import (
    BILLABLE_DURATION_COLUMNS,
    COMMENT_COLUMNS,
    STATUS_SNAPSHOT_COLUMNS,
    TICKET_COLUMNS,
    WORK_HOUR_COLUMNS,
    normalize_record,
)

logger = logging.getLogger("atera_sync.source")

BATCH_ROWS = 1000
"""Rows handed to dlt at a time by the per-ticket resources."""


@dlt.source(name="atera", max_table_nesting=0)
def atera_source(
    client: AteraClient,
    overlap_seconds: int = settings.WATERMARK_OVERLAP_SECONDS,
    full_refresh: bool = False,
    progress: ProgressCallback | None = None,
    plan_sink: Callable[[SyncPlan], None] | None = None,
) -> list[DltResource]:
    """Build the Atera source around a configured client.

    Args:
        client: the Atera client (the runner builds it from `[sources.atera]`).
        overlap_seconds: how far before the last run's start to look for changes.
        full_refresh: list every ticket again instead of the changes.
        progress: optional callback(stage, done, total).
        plan_sink: receives the SyncPlan, so the caller can read its report.
    """
    plan = SyncPlan(
        client,
        dlt.current.source_state,
        overlap_seconds=overlap_seconds,
        full_refresh=full_refresh,
        progress=progress,
    )
    if plan_sink is not None:
        plan_sink(plan)

    @dlt.resource(
        name="tickets",
        primary_key="ticket_id",
        write_disposition="merge",
        columns=TICKET_COLUMNS,
    )
    def tickets() -> Iterator[list[dict]]:
        rows = [normalize_record(t) for t in plan.tickets]
        for start in range(0, len(rows), BATCH_ROWS):
            yield rows[start : start + BATCH_ROWS]

    @dlt.resource(
        name="ticket_status_snapshots",
        primary_key=("ticket_id", "observed_at"),
        write_disposition="merge",
        columns=STATUS_SNAPSHOT_COLUMNS,
    )
    def ticket_status_snapshots() -> Iterator[list[dict]]:
        observed_at = plan.report.server_time
        changed = plan.tickets
        if observed_at is None:
            return
        yield [
            normalize_record(
                {
                    "TicketID": t["TicketID"],
                    "TicketStatus": t.get("TicketStatus"),
                    "TicketPriority": t.get("TicketPriority"),
                    "LastActivityDate": t.get("LastActivityDate"),
                },
                observed_at=observed_at,
            )
            for t in changed
        ]

    def per_ticket(stage: str, fetch: Callable[[int], Any]) -> Iterator[list[dict]]:
        targets = plan.child_targets()
        batch: list[dict] = []
        pairs = client.map_concurrently(_skip_missing(fetch), targets)
        for done, (ticket_id, result) in enumerate(pairs, start=1):
            if result is _MISSING:
                plan.forget_ticket(ticket_id)
            else:
                batch.extend(
                    normalize_record(record, TicketID=record.get("TicketID", ticket_id))
                    for record in result
                )
            if progress and (done % 25 == 0 or done == len(targets)):
                progress(stage, done, len(targets))
            if len(batch) >= BATCH_ROWS:
                yield batch
                batch = []
        if batch:
            yield batch

    @dlt.resource(
        name="comments",
        primary_key="comment_id",
        write_disposition="merge",
        columns=COMMENT_COLUMNS,
    )
    def comments() -> Iterator[list[dict]]:
        yield from per_ticket("comments", client.get_comments)

    @dlt.resource(
        name="work_hours",
        primary_key="work_hour_id",
        write_disposition="merge",
        columns=WORK_HOUR_COLUMNS,
    )
    def work_hours() -> Iterator[list[dict]]:
        yield from per_ticket("work hours", client.get_work_hours)

    @dlt.resource(
        name="billable_durations",
        primary_key="ticket_id",
        write_disposition="merge",
        columns=BILLABLE_DURATION_COLUMNS,
    )
    def billable_durations() -> Iterator[list[dict]]:
        yield from per_ticket("billable duration", lambda i: [client.get_billable_duration(i)])

    return [tickets, ticket_status_snapshots, comments, work_hours, billable_durations]


_MISSING = object()


def _skip_missing(fetch: Callable[[int], Any]) -> Callable[[int], Any]:
    """Wrap a per-ticket fetch so a 404 (ticket deleted meanwhile) yields _MISSING."""

    def wrapped(ticket_id: int) -> Any:
        try:
            return fetch(ticket_id)
        except NotFoundError:
            logger.warning("ticket %s vanished (404) while syncing; skipped", ticket_id)
            return _MISSING

    return wrapped
