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
from collections.abc import Generator, Iterator
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
        """The comments of these tickets, each with its `CommentKey`."""

        def fetch(ticket_id: int) -> Rows:
            records = run.client.get_comments(ticket_id)
            keys = comment_keys(ticket_id, records)
            return [{**r, "CommentKey": k} for r, k in zip(records, keys, strict=True)]

        return run.per_ticket("comments", ticket_ids, fetch)

    def work_hours(self, run: Extraction, ticket_ids: list[int]) -> Iterator[Rows]:
        """The work-hour records of these tickets, keyed by `WorkHourID`."""
        raise NotImplementedError

    def billable_durations(self, run: Extraction, ticket_ids: list[int]) -> Iterator[Rows]:
        """The billable duration of each of these tickets."""
        return run.per_ticket(
            "billable duration", ticket_ids, lambda i: [run.client.get_billable_duration(i)]
        )


class ContractShape(ApiShape):
    """The ticket contract: one call per ticket for each kind of child."""

    name = CONTRACT
    incremental_endpoint = "statusmodified"

    def work_hours(self, run: Extraction, ticket_ids: list[int]) -> Iterator[Rows]:
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
        if run.plan.account_work_hours_due():
            supported = yield from self._account_work_hours(run)
            run.plan.remember_account_work_hours(supported)
            if supported:
                return
        fetch = run.client.get_work_hours_records
        for rows in run.per_ticket("work hours", ticket_ids, fetch):
            yield [with_work_hour_id(row) for row in rows]

    def _account_work_hours(self, run: Extraction) -> Generator[Rows, None, bool]:
        """Every work-hour record via GET /workhours; False when the server lacks it."""
        pages = run.client.iter_account_work_hours()
        try:
            first = next(pages, None)
        except ApiResponseError as exc:
            if not _bulk_endpoint_missing(exc, "GET /workhours", "work hours"):
                raise
            return False
        for page in chain([first] if first else [], pages):
            yield [with_work_hour_id(row) for row in run.rows(None, page)]
        return True

    def billable_durations(self, run: Extraction, ticket_ids: list[int]) -> Iterator[Rows]:
        if run.bulk_billable_supported is False:
            yield from super().billable_durations(run, ticket_ids)
            return
        size = settings.BULK_BILLABLE_MAX_IDS
        chunks = [ticket_ids[i : i + size] for i in range(0, len(ticket_ids), size)]
        if not chunks:
            return

        def fetch_chunk(index: int) -> Rows:
            return run.rows(None, run.client.get_billable_durations(chunks[index]))

        try:
            first = fetch_chunk(0)
        except ApiResponseError as exc:
            if not _bulk_endpoint_missing(
                exc, "POST /tickets/billableduration", "billable durations"
            ):
                raise
            run.bulk_billable_supported = False
            yield from super().billable_durations(run, ticket_ids)
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
