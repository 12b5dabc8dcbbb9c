"""The two shapes of Atera's ticket API, one object each.

* `contract`: the ticket contract this project was specified from: paging
  with `totalItems`, changes from `statusmodified?modifiedAfter=`, comments
  with a `CommentID`, work hours at `/tickets/{id}/workhours`, billable
  duration per ticket.
* `published`: Atera's published OpenAPI v3: paging with `totalItemCount`
  and `nextLink`, changes from `lastmodified?date=`, comments without ids,
  work-hour records at `/tickets/{id}/workhoursrecords` (`WorkHoursID`) and
  account-wide at `/workhours`, billable durations 50 tickets per `POST`.

Each shape says how to list changes and fetch a ticket's children; the
resources ask the shape and never test which one they have. The shape is
configured (`[sources.atera] api_shape`), remembered from the first sync, or
recognised from the first listing's envelope (`detect_shape`).
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Iterator
from itertools import chain
from typing import TYPE_CHECKING, ClassVar

from pipelines.atera import settings
from pipelines.atera.errors import ApiResponseError, ConfigurationError
from pipelines.atera.records import comment_keys

if TYPE_CHECKING:
    from pipelines.atera.extraction import Extraction

logger = logging.getLogger("atera_sync.shapes")

CONTRACT = "contract"
PUBLISHED = "published"
API_SHAPES = (CONTRACT, PUBLISHED)

DEPRECATED_NAMES = {"seed": CONTRACT, "v3": PUBLISHED}
"""Names used before 0.2 for the same shapes; still read from settings and state."""

BULK_UNSUPPORTED_STATUSES = frozenset({400, 403, 404, 405, 501})
"""Answers to a bulk endpoint that mean "not here": fall back to per-ticket calls."""

Rows = list[dict]


def shape_name(value: str | None, setting: str = "[sources.atera] api_shape") -> str:
    """`auto`, `contract` or `published` from a configured value (old names still accepted).

    Raises:
        ConfigurationError: for an unknown value.
    """
    name = (value or "auto").strip().lower()
    if name in DEPRECATED_NAMES:
        warnings.warn(
            f"{setting} {value!r} is deprecated: use {DEPRECATED_NAMES[name]!r}",
            DeprecationWarning,
            stacklevel=2,
        )
        logger.warning("%s %r is deprecated: use %r", setting, value, DEPRECATED_NAMES[name])
        return DEPRECATED_NAMES[name]
    if name not in ("auto", *API_SHAPES):
        raise ConfigurationError(
            f"{setting} {value!r} is unknown: use auto, {CONTRACT} (the ticket contract) or "
            f"{PUBLISHED} (Atera's published API)"
        )
    return name


def detect_shape(envelope: frozenset[str]) -> str | None:
    """The shape a listing's top-level keys reveal, or None when they say nothing."""
    if "totalItemCount" in envelope:
        return PUBLISHED
    if "totalItems" in envelope:
        return CONTRACT
    return None


class ApiShape:
    """How one API shape lists changes and serves a ticket's children.

    Attributes:
        name: `contract` or `published`.
        incremental_endpoint: `statusmodified` or `lastmodified`, unless configured.
    """

    name: ClassVar[str]
    incremental_endpoint: ClassVar[str]

    def comments(self, run: Extraction, ticket_ids: list[int]) -> Iterator[Rows]:
        """The comments of these tickets that change detection asks for, with `CommentKey`s."""
        ticket_ids = run.plan.detection.wanted("comments", ticket_ids)

        def fetch(ticket_id: int) -> Rows:
            records = run.client.get_comments(ticket_id)
            keys = comment_keys(ticket_id, records)
            return [{**r, "CommentKey": k} for r, k in zip(records, keys, strict=True)]

        return run.per_ticket("comments", ticket_ids, fetch)

    def work_hours(self, run: Extraction, ticket_ids: list[int]) -> Iterator[Rows]:
        """The work-hour records of these tickets, keyed by `WorkHourID`."""
        raise NotImplementedError

    def billable_durations(self, run: Extraction, ticket_ids: list[int]) -> Iterator[Rows]:
        """The billable duration of each of these tickets that change detection asks for."""
        ticket_ids = run.plan.detection.wanted("billable_durations", ticket_ids)
        return self._billable_per_ticket(run, ticket_ids)

    def _billable_per_ticket(self, run: Extraction, ticket_ids: list[int]) -> Iterator[Rows]:
        return run.per_ticket(
            "billable duration", ticket_ids, lambda i: [run.client.get_billable_duration(i)]
        )


class ContractShape(ApiShape):
    """The ticket contract: one call per ticket for each kind of child."""

    name = CONTRACT
    incremental_endpoint = "statusmodified"

    def work_hours(self, run: Extraction, ticket_ids: list[int]) -> Iterator[Rows]:
        ticket_ids = run.plan.detection.wanted("work_hours", ticket_ids)
        return run.per_ticket("work hours", ticket_ids, run.client.get_work_hours)


class PublishedShape(ApiShape):
    """Atera's published API: bulk endpoints where it has them, per ticket otherwise."""

    name = PUBLISHED
    incremental_endpoint = "lastmodified"

    def work_hours(self, run: Extraction, ticket_ids: list[int]) -> Iterator[Rows]:
        # a full sync takes every record from one paged account-wide listing instead of
        # a call per ticket; records logged after it are caught by the next sync
        if run.plan.account_work_hours_listed():
            return
        ticket_ids = run.plan.detection.wanted("work_hours", ticket_ids)
        if run.plan.account_work_hours_due():
            pages = self._account_work_hour_pages(run)
            # settled before the first yield: dlt interleaves the batches' generators,
            # and the next batch must see that this listing covers it
            run.plan.remember_account_work_hours(pages is not None)
            if pages is not None:
                for page in pages:
                    run.plan.detection.observe_account_work_hours(page)
                    yield [with_work_hour_id(row) for row in run.rows(None, page)]
                run.plan.detection.account_work_hours_done()
                return
        fetch = run.client.get_work_hours_records
        for rows in run.per_ticket("work hours", ticket_ids, fetch):
            yield [with_work_hour_id(row) for row in rows]

    def _account_work_hour_pages(self, run: Extraction) -> Iterator[list[dict]] | None:
        """The pages of GET /workhours, its first page read; None when the server lacks it."""
        pages = run.client.iter_account_work_hours()
        try:
            first = next(pages, None)
        except ApiResponseError as exc:
            if not _bulk_endpoint_missing(exc, "GET /workhours", "work hours"):
                raise
            return None
        return chain([first] if first else [], pages)

    def billable_durations(self, run: Extraction, ticket_ids: list[int]) -> Iterator[Rows]:
        ticket_ids = run.plan.detection.wanted("billable_durations", ticket_ids)
        prefetched = run.plan.detection.take_prefetched(ticket_ids)
        if prefetched:  # change detection fetched them in bulk already
            yield run.rows(None, prefetched)
            done = {int(r.get("ticketId") or r["TicketID"]) for r in prefetched}
            ticket_ids = [i for i in ticket_ids if i not in done]
        if run.bulk_billable_supported is False:
            yield from self._billable_per_ticket(run, ticket_ids)
            return
        size = settings.BULK_BILLABLE_MAX_IDS
        chunks = [ticket_ids[i : i + size] for i in range(0, len(ticket_ids), size)]
        if not chunks:
            return

        def fetch_chunk(index: int) -> Rows:
            records = run.client.get_billable_durations(chunks[index])
            by_ticket = {r.get("ticketId") or r.get("TicketID"): r for r in records}
            observe = run.plan.detection.observe
            for ticket_id in chunks[index]:
                if ticket_id in by_ticket:
                    observe("billable_durations", ticket_id, [by_ticket[ticket_id]])
            return run.rows(None, records)

        try:
            first = fetch_chunk(0)
        except ApiResponseError as exc:
            if not _bulk_endpoint_missing(
                exc, "POST /tickets/billableduration", "billable durations"
            ):
                raise
            run.bulk_billable_supported = False
            yield from self._billable_per_ticket(run, ticket_ids)
            return
        run.bulk_billable_supported = True
        yield first
        yield from run.concurrently("billable duration", list(range(1, len(chunks))), fetch_chunk)


def _bulk_endpoint_missing(exc: ApiResponseError, endpoint: str, what: str) -> bool:
    """Whether an error says the bulk endpoint does not exist here (then: per ticket)."""
    if exc.status_code not in BULK_UNSUPPORTED_STATUSES:
        return False
    logger.warning(
        "%s answered HTTP %s: fetching %s ticket by ticket", endpoint, exc.status_code, what
    )
    return True


def with_work_hour_id(row: dict) -> dict:
    """The published API's records say `WorkHoursID`; the key column is `work_hour_id`."""
    if row.get("WorkHourID") is None and row.get("WorkHoursID") is not None:
        row["WorkHourID"] = row["WorkHoursID"]
    return row


SHAPES: dict[str, ApiShape] = {CONTRACT: ContractShape(), PUBLISHED: PublishedShape()}
"""The shape objects by name."""
