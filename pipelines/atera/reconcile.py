"""Reconciliation: find the tickets Atera no longer has, and any the syncs missed.

Incremental syncs only hear about tickets that changed; a deleted ticket never
changes again. A reconciliation lists every ticket id (one call per 50
tickets) and compares it with the warehouse:

* tickets in the warehouse that Atera no longer lists get a row in
  `atera_raw.deleted_tickets` with the time it was noticed (server clock);
  the SQL models leave them, their comments and their work hours out;
* a ticket marked deleted that is listed again is restored (`deleted_at` null);
* listed tickets the warehouse lacks are loaded, and their comments, work
  hours and billable duration are fetched by the next sync.

It runs as `atera-sync reconcile`, and by itself every `reconcile_every_days`.
It shares the source name `atera`, hence the schema and the state, with the sync.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, tzinfo

import dlt
from dlt.sources import DltResource

from pipelines.atera.client import AteraClient
from pipelines.atera.privacy import Privacy
from pipelines.atera.records import in_batches, normalize_record
from pipelines.atera.schema import DELETED_TICKETS, TICKETS, dlt_columns

logger = logging.getLogger("atera_sync.reconcile")


@dataclass
class ReconcileReport:
    """What a reconciliation found."""

    listed: int = 0
    deleted: set[int] = field(default_factory=set)
    restored: set[int] = field(default_factory=set)
    missed: set[int] = field(default_factory=set)
    noticed_at: datetime | None = None


@dlt.source(name="atera", max_table_nesting=0)
def atera_reconcile_source(
    client: AteraClient,
    known_ticket_ids: set[int],
    deleted_ticket_ids: set[int],
    naive_zone: tzinfo = UTC,
    report_sink: Callable[[ReconcileReport], None] | None = None,
    privacy: Privacy | None = None,
) -> list[DltResource]:
    """List every ticket and mark the warehouse's tickets that Atera no longer has.

    Args:
        client: the Atera client.
        known_ticket_ids: the ticket ids in `atera_raw.tickets`.
        deleted_ticket_ids: the ids already marked deleted.
        naive_zone: the zone of timestamps sent without an offset.
        report_sink: receives the ReconcileReport.
        privacy: columns to hash or drop before rows reach dlt.
    """
    report = ReconcileReport()
    if report_sink is not None:
        report_sink(report)
    listing: list[dict] = []

    def listed() -> list[dict]:
        if not listing:
            server_time = None
            for page in client.iter_ticket_pages():
                server_time = server_time or page.server_time
                listing.extend(page.items)
            _settle(listing, server_time or datetime.now(UTC))
        return listing

    def _settle(tickets: list[dict], noticed_at: datetime) -> None:
        ids = {int(t["TicketID"]) for t in tickets}
        report.listed = len(ids)
        report.noticed_at = noticed_at
        report.deleted = (known_ticket_ids - deleted_ticket_ids) - ids
        report.restored = deleted_ticket_ids & ids
        report.missed = ids - known_ticket_ids
        state = dlt.current.source_state()
        open_ids = set(state.get("open_ticket_ids", [])) - report.deleted
        state["open_ticket_ids"] = sorted(open_ids)
        pending = set(state.get("pending_children_ids", [])) | report.missed
        state["pending_children_ids"] = sorted(pending - report.deleted)
        state["last_reconcile_at"] = report.noticed_at.isoformat()
        if report.deleted:
            logger.warning(
                "%d tickets are no longer in Atera and are marked deleted: %s",
                len(report.deleted),
                ", ".join(str(i) for i in sorted(report.deleted)[:20]),
            )

    @dlt.resource(
        name="tickets",
        primary_key="ticket_id",
        write_disposition="merge",
        columns=dlt_columns(TICKETS),
    )
    def tickets() -> Iterator[list[dict]]:
        yield from in_batches([normalize_record(t, naive_zone, privacy=privacy) for t in listed()])

    @dlt.resource(
        name="deleted_tickets",
        primary_key="ticket_id",
        write_disposition="merge",
        columns=dlt_columns(DELETED_TICKETS),
    )
    def deleted_tickets() -> Iterator[list[dict]]:
        listed()
        rows = [{"ticket_id": i, "deleted_at": report.noticed_at} for i in sorted(report.deleted)]
        rows += [{"ticket_id": i, "deleted_at": None} for i in sorted(report.restored)]
        if rows:
            yield rows

    return [tickets, deleted_tickets]
