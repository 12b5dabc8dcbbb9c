"""The dlt resources of the Atera source, one per raw table.

* `tickets`: the tickets the plan lists (every ticket on a full sync, the
  changed ones later), merged on `ticket_id`.
* `ticket_status_snapshots`: each listed ticket's status as this sync saw it,
  merged on (`ticket_id`, `observed_at`), so status history can be derived.
* `ticket_versions`: each listed ticket as this sync saw it (priority, status,
  technician, customer, contract, the API's SLA dates), merged on
  (`ticket_id`, `observed_at`): a later sync adds a version and never rewrites
  an earlier one, so as-of reports can use the version valid at the time.
* `child_ticket_ids` (not loaded): the tickets whose children to fetch, in
  batches; it feeds the three transformers below.
* `comments`, `work_hours`: a ticket's records replace its earlier ones whole
  (merge key `ticket_id`), so edited and deleted records are right too.
* `billable_durations`: one row per ticket.
* `customers`, `contracts`: the account's customers and contracts, listed
  before the extraction (`pipelines.atera.accounts`) and replaced whole.

The API shape (`pipelines.atera.shapes`) decides which endpoints serve the
children; the columns come from the raw schema (`pipelines.atera.schema`).
"""

from __future__ import annotations

from collections.abc import Iterator

import dlt

from pipelines.atera.arrow_batches import Batch, arrow_batches
from pipelines.atera.extraction import BATCH_ROWS, Extraction, Rows
from pipelines.atera.records import column_name, in_batches, normalize_record
from pipelines.atera.schema import (
    BILLABLE_DURATIONS,
    COMMENTS,
    CONTRACTS,
    CUSTOMERS,
    TICKET_STATUS_SNAPSHOTS,
    TICKET_VERSIONS,
    TICKETS,
    WORK_HOURS,
    RawTable,
    dlt_columns,
)

CHILD_BATCH_TICKETS = 400
"""Tickets per batch handed to the child transformers (eight bulk calls of 50)."""

SNAPSHOT_FIELDS = ("TicketID", "TicketStatus", "TicketPriority", "LastActivityDate")

VERSION_COLUMNS = frozenset(c.name for c in TICKET_VERSIONS.columns) - {"observed_at"}
"""The ticket columns a version keeps; API fields of either shape whose snake_case name is
one of them are kept (`FirstResponseDate`, `TechnicianFirstCommentDate`, `ContractID`...)."""


def _merge_hints(table: RawTable) -> dict:
    hints: dict = {
        "name": table.name,
        "primary_key": list(table.primary_key),
        "write_disposition": "merge",
        "columns": dlt_columns(table),
    }
    if table.merge_key:
        hints["merge_key"] = table.merge_key
    return hints


def _replace_hints(table: RawTable) -> dict:
    return {
        "name": table.name,
        "primary_key": list(table.primary_key),
        "write_disposition": "replace",
        "columns": dlt_columns(table),
    }


@dlt.resource(**_merge_hints(TICKETS))
def tickets(run: Extraction) -> Iterator[Batch]:
    """The listed tickets, dates in UTC."""
    yield from arrow_batches(TICKETS, in_batches(run.rows(None, run.tickets()), BATCH_ROWS))


@dlt.resource(**_merge_hints(TICKET_STATUS_SNAPSHOTS))
def ticket_status_snapshots(run: Extraction) -> Iterator[Batch]:
    """Each listed ticket's status and priority, observed at the server's time."""
    listed = run.tickets()
    observed_at = run.plan.report.server_time
    if observed_at is None:  # no clock to stamp the snapshot with
        return
    records = [{key: ticket.get(key) for key in SNAPSHOT_FIELDS} for ticket in listed]
    rows = [
        normalize_record(
            record,
            run.naive_zone,
            problems=run.problems,
            privacy=run.privacy,
            observed_at=observed_at,
        )
        for record in records
    ]
    yield from arrow_batches(TICKET_STATUS_SNAPSHOTS, in_batches(rows, BATCH_ROWS))


@dlt.resource(**_merge_hints(TICKET_VERSIONS))
def ticket_versions(run: Extraction) -> Iterator[Batch]:
    """Each listed ticket's versioned fields, observed at the server's time."""
    listed = run.tickets()
    observed_at = run.plan.report.server_time
    if observed_at is None:  # no clock to stamp the version with
        return
    rows = [
        # unreadable dates were reported by the tickets resource already
        normalize_record(
            version_fields(ticket), run.naive_zone, privacy=run.privacy, observed_at=observed_at
        )
        for ticket in listed
    ]
    yield from arrow_batches(TICKET_VERSIONS, in_batches(rows, BATCH_ROWS))


def version_fields(ticket: dict) -> dict:
    """The fields of a ticket that `atera_raw.ticket_versions` keeps, as the API named them."""
    return {
        field: value for field, value in ticket.items() if column_name(field) in VERSION_COLUMNS
    }


@dlt.resource(name="child_ticket_ids", selected=False)
def child_ticket_ids(run: Extraction) -> Iterator[list[int]]:
    """Batches of the ticket ids whose comments, work hours and billable duration to fetch."""
    run.tickets()
    targets = run.plan.child_targets()
    for start in range(0, len(targets), CHILD_BATCH_TICKETS):
        yield targets[start : start + CHILD_BATCH_TICKETS]


@dlt.transformer(**_merge_hints(COMMENTS))
def comments(ticket_ids: list[int], run: Extraction) -> Iterator[Batch]:
    """The comments of a batch of tickets, keyed by `comment_key`."""
    yield from arrow_batches(COMMENTS, run.shape().comments(run, ticket_ids))


@dlt.transformer(**_merge_hints(WORK_HOURS))
def work_hours(ticket_ids: list[int], run: Extraction) -> Iterator[Batch]:
    """The work-hour records of a batch of tickets, keyed by `work_hour_id`."""
    yield from arrow_batches(WORK_HOURS, run.shape().work_hours(run, ticket_ids))


@dlt.transformer(**_merge_hints(BILLABLE_DURATIONS))
def billable_durations(ticket_ids: list[int], run: Extraction) -> Iterator[Batch]:
    """The billable duration of each ticket of a batch."""
    yield from arrow_batches(BILLABLE_DURATIONS, run.shape().billable_durations(run, ticket_ids))


@dlt.resource(**_replace_hints(CUSTOMERS))
def customers(rows: Rows) -> Iterator[Rows]:
    """The account's customers, listed whole (the table is replaced)."""
    yield from in_batches(rows, BATCH_ROWS)


@dlt.resource(**_replace_hints(CONTRACTS))
def contracts(rows: Rows) -> Iterator[Rows]:
    """The account's contracts, listed whole (the table is replaced); `Default` as `is_default`."""
    yield from in_batches(rows, BATCH_ROWS)
