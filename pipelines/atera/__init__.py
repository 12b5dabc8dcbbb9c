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
from collections.abc import Callable, Generator, Iterator
from datetime import UTC, tzinfo
from itertools import chain

import dlt
from dlt.sources import DltResource

from pipelines.atera import settings
from pipelines.atera.client import AteraClient
from pipelines.atera.errors import ApiResponseError, NotFoundError
from pipelines.atera.plan import ProgressCallback, SyncPlan
from pipelines.atera.records import (
    BILLABLE_DURATION_COLUMNS,
    COMMENT_COLUMNS,
    STATUS_SNAPSHOT_COLUMNS,
    TICKET_COLUMNS,
    WORK_HOUR_COLUMNS,
    comment_keys,
    has_ticket_id,
    in_batches,
    normalize_record,
)

logger = logging.getLogger("atera_sync.source")

BATCH_ROWS = 1000

BULK_UNSUPPORTED_STATUSES = frozenset({400, 403, 404, 405, 501})
"""Answers to a bulk endpoint that mean "not here": fall back to per-ticket calls."""
"""Rows handed to dlt at a time by the per-ticket resources."""


@dlt.source(name="atera", max_table_nesting=0)
def atera_source(
    client: AteraClient,
    overlap_seconds: int = settings.WATERMARK_OVERLAP_SECONDS,
    full_refresh: bool = False,
    full_sync_chunk_pages: int = settings.FULL_SYNC_CHUNK_PAGES,
    api_flavor: str = "auto",
    incremental_endpoint: str = "auto",
    naive_zone: tzinfo = UTC,
    progress: ProgressCallback | None = None,
    plan_sink: Callable[[SyncPlan], None] | None = None,
) -> list[DltResource]:
    """Build the Atera source around a configured client.

    Args:
        client: the Atera client (the runner builds it from `[sources.atera]`).
        overlap_seconds: how far before the last run's start to look for changes.
        full_refresh: list every ticket again instead of the changes.
        full_sync_chunk_pages: ticket pages per load while a full sync runs.
        api_flavor: `seed`, `v3` or `auto` (detected on the first sync).
        incremental_endpoint: `statusmodified`, `lastmodified` or `auto` (by flavor).
        naive_zone: the zone of timestamps sent without an offset.
        progress: optional callback(stage, done, total).
        plan_sink: receives the SyncPlan, so the caller can read its report.
    """
    plan = SyncPlan(
        client,
        dlt.current.source_state,
        overlap_seconds=overlap_seconds,
        full_refresh=full_refresh,
        full_sync_chunk_pages=full_sync_chunk_pages,
        api_flavor=api_flavor,
        incremental_endpoint=incremental_endpoint,
        progress=progress,
    )
    if plan_sink is not None:
        plan_sink(plan)

    def rows_of(ticket_id: int | None, records: list[dict]) -> list[dict]:
        extra = {} if ticket_id is None else {"TicketID": ticket_id}
        return [
            normalize_record(r, naive_zone, **({} if has_ticket_id(r) else extra)) for r in records
        ]

    @dlt.resource(
        name="tickets",
        primary_key="ticket_id",
        write_disposition="merge",
        columns=TICKET_COLUMNS,
    )
    def tickets() -> Iterator[list[dict]]:
        yield from in_batches(rows_of(None, plan.tickets), BATCH_ROWS)

    @dlt.resource(
        name="ticket_status_snapshots",
        primary_key=("ticket_id", "observed_at"),
        write_disposition="merge",
        columns=STATUS_SNAPSHOT_COLUMNS,
    )
    def ticket_status_snapshots() -> Iterator[list[dict]]:
        changed = plan.tickets
        observed_at = plan.report.server_time
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
                naive_zone,
                observed_at=observed_at,
            )
            for t in changed
        ]

    def fan_out(
        stage: str, keys: list[int], fetch: Callable[[int], list[dict]]
    ) -> Iterator[list[dict]]:
        """Run fetch(key) for every key on the client's workers; yield rows in batches."""
        batch: list[dict] = []
        for done, (_, rows) in enumerate(client.map_concurrently(fetch, keys), start=1):
            batch.extend(rows)
            if progress and (done % 25 == 0 or done == len(keys)):
                progress(stage, done, len(keys))
            if len(batch) >= BATCH_ROWS:
                yield batch
                batch = []
        if batch:
            yield batch

    def per_ticket(fetch: Callable[[int], list[dict]]) -> Callable[[int], list[dict]]:
        """Wrap a per-ticket call: rows carry the ticket id; a 404 skips the ticket."""

        def fetch_rows(ticket_id: int) -> list[dict]:
            try:
                return rows_of(ticket_id, fetch(ticket_id))
            except NotFoundError:
                logger.warning("ticket %s vanished (404) while syncing; skipped", ticket_id)
                missing.append(ticket_id)
                return []

        return fetch_rows

    missing: list[int] = []

    def forget_missing() -> None:
        while missing:
            plan.forget_ticket(missing.pop())

    @dlt.resource(
        name="comments",
        primary_key="comment_key",
        merge_key="ticket_id",
        write_disposition="merge",
        columns=COMMENT_COLUMNS,
    )
    def comments() -> Iterator[list[dict]]:
        def fetch(ticket_id: int) -> list[dict]:
            records = client.get_comments(ticket_id)
            keys = comment_keys(ticket_id, records)
            return [{**r, "CommentKey": k} for r, k in zip(records, keys, strict=True)]

        yield from fan_out("comments", plan.child_targets(), per_ticket(fetch))
        forget_missing()

    @dlt.resource(
        name="work_hours",
        primary_key="work_hour_id",
        merge_key="ticket_id",
        write_disposition="merge",
        columns=WORK_HOUR_COLUMNS,
    )
    def work_hours() -> Iterator[list[dict]]:
        targets = plan.child_targets()
        if plan.flavor != settings.FLAVOR_V3:
            yield from fan_out("work hours", targets, per_ticket(client.get_work_hours))
            forget_missing()
            return
        if plan.report.mode == "full" and plan.account_work_hours is not False:
            # one paged account-wide listing instead of a call per ticket, in the first
            # chunk of a full sync; changes after it are caught by the next sync
            if not plan.first_chunk:
                return
            plan.account_work_hours = yield from account_work_hours()
            if plan.account_work_hours:
                return
        fetch = per_ticket(client.get_work_hours_records)
        for batch in fan_out("work hours", targets, fetch):
            yield [_with_work_hour_id(row) for row in batch]
        forget_missing()

    def account_work_hours() -> Generator[list[dict], None, bool]:
        """Every work-hour record via GET /workhours; False when the server lacks it."""
        pages = client.iter_account_work_hours()
        try:
            first = next(pages, None)
        except ApiResponseError as exc:
            if exc.status_code not in BULK_UNSUPPORTED_STATUSES:
                raise
            logger.warning(
                "GET /workhours answered HTTP %s: fetching work hours ticket by ticket",
                exc.status_code,
            )
            return False
        for page in chain([first] if first else [], pages):
            yield [_with_work_hour_id(row) for row in rows_of(None, page)]
        return True

    @dlt.resource(
        name="billable_durations",
        primary_key="ticket_id",
        write_disposition="merge",
        columns=BILLABLE_DURATION_COLUMNS,
    )
    def billable_durations() -> Iterator[list[dict]]:
        targets = plan.child_targets()
        if plan.flavor != settings.FLAVOR_V3:
            fetch = per_ticket(lambda ticket_id: [client.get_billable_duration(ticket_id)])
            yield from fan_out("billable duration", targets, fetch)
            forget_missing()
            return
        size = settings.BULK_BILLABLE_MAX_IDS
        chunks = [targets[i : i + size] for i in range(0, len(targets), size)]
        if not chunks:
            return

        def fetch_chunk(index: int) -> list[dict]:
            return rows_of(None, client.get_billable_durations(chunks[index]))

        try:
            first = fetch_chunk(0)
        except ApiResponseError as exc:
            if exc.status_code not in BULK_UNSUPPORTED_STATUSES:
                raise
            logger.warning(
                "POST /tickets/billableduration answered HTTP %s: fetching billable "
                "durations ticket by ticket",
                exc.status_code,
            )
            fetch = per_ticket(lambda ticket_id: [client.get_billable_duration(ticket_id)])
            yield from fan_out("billable duration", targets, fetch)
            forget_missing()
            return
        yield first
        yield from fan_out("billable duration", list(range(1, len(chunks))), fetch_chunk)

    return [tickets, ticket_status_snapshots, comments, work_hours, billable_durations]


def _with_work_hour_id(row: dict) -> dict:
    """v3 work-hour records say WorkHoursID; the shared key column is work_hour_id."""
    if row.get("WorkHourID") is None and row.get("WorkHoursID") is not None:
        row["WorkHourID"] = row["WorkHoursID"]
    return row
