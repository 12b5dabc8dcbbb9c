"""dlt source for Atera tickets, comments, work hours, billable durations, customers, contracts.

`atera_source` composes the resources of `pipelines.atera.resources` around
one `Extraction` (client, plan, API shape). Where the pieces live:

* `client.py`: HTTP: auth, paging, retries, the rate limiter, concurrency;
* `plan.py`: what a load fetches, the watermark and the state between syncs;
* `shapes.py`: the ticket contract and Atera's published API, one object each;
* `schema.py`: the raw tables and their typed columns, declared once;
* `records.py`, `timestamps.py`: rows for loading, dates in every format Atera sends;
* `privacy.py`: `[privacy]`: columns hashed or dropped before anything is written;
* `accounts.py`: customers and contracts, listed whole;
* `change_detection.py`, `fingerprints.py`: which children a sync fetches;
* `reconcile.py`: deleted tickets; `errors.py`, `settings.py`, `config.py`.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, tzinfo

import dlt
from dlt.sources import DltResource

from pipelines.atera import resources, settings
from pipelines.atera.accounts import fetch_account_tables
from pipelines.atera.client import AteraClient
from pipelines.atera.extraction import Extraction
from pipelines.atera.plan import ProgressCallback, SyncPlan
from pipelines.atera.privacy import Privacy

__all__ = ["atera_source"]


@dlt.source(name="atera", max_table_nesting=0)
def atera_source(
    client: AteraClient,
    overlap_seconds: int = settings.WATERMARK_OVERLAP_SECONDS,
    full_refresh: bool = False,
    full_sync_chunk_pages: int = settings.FULL_SYNC_CHUNK_PAGES,
    api_shape: str = "auto",
    incremental_endpoint: str = "auto",
    naive_zone: tzinfo = UTC,
    progress: ProgressCallback | None = None,
    plan_sink: Callable[[SyncPlan], None] | None = None,
    privacy: Privacy | None = None,
    account_tables: bool = True,
    safety_net_every_days: int = settings.SAFETY_NET_EVERY_DAYS,
    work_hours_lookback_days: int = settings.WORK_HOURS_LOOKBACK_DAYS,
) -> list[DltResource]:
    """The Atera source: tickets, status snapshots, ticket versions, comments, work hours,
    billable durations, and (with `account_tables`) customers and contracts.

    Args:
        client: the Atera client (the runner builds it from `[sources.atera]`).
        overlap_seconds: how far before the last run's start to look for changes.
        full_refresh: list every ticket again instead of the changes.
        full_sync_chunk_pages: ticket pages per load while a full sync runs.
        api_shape: `contract`, `published` or `auto` (recognised on the first sync).
        incremental_endpoint: `statusmodified`, `lastmodified` or `auto` (by shape).
        naive_zone: the zone of timestamps sent without an offset.
        progress: optional callback(stage, done, total).
        plan_sink: receives the SyncPlan, so the caller can read its report.
        privacy: columns to hash or drop before rows reach dlt (`[privacy]`).
        account_tables: list the customers and contracts now (HTTP calls before the
            extraction) and replace their tables in this load; a table whose listing
            is not available to this account is left out, so it keeps its rows.
        safety_net_every_days: how often to fetch every open ticket's children anyway.
        work_hours_lookback_days: the published work-hour listing's look-back.
    """
    plan = SyncPlan(
        client,
        dlt.current.source_state,
        overlap_seconds=overlap_seconds,
        full_refresh=full_refresh,
        full_sync_chunk_pages=full_sync_chunk_pages,
        api_shape=api_shape,
        incremental_endpoint=incremental_endpoint,
        progress=progress,
        safety_net_every_days=safety_net_every_days,
        work_hours_lookback_days=work_hours_lookback_days,
        naive_zone=naive_zone,
    )
    if plan_sink is not None:
        plan_sink(plan)
    run = Extraction(client, plan, naive_zone, progress, privacy)
    listed = (
        fetch_account_tables(client, run.problems, naive_zone, privacy) if account_tables else {}
    )
    accounts = [ACCOUNT_RESOURCES[name](rows) for name, rows in listed.items()]
    children = resources.child_ticket_ids(run)
    return [
        resources.tickets(run),
        children,  # not loaded: listed here so its batches feed all three transformers
        resources.ticket_status_snapshots(run),
        resources.ticket_versions(run),
        children | resources.comments(run=run),
        children | resources.work_hours(run=run),
        children | resources.billable_durations(run=run),
        *accounts,
    ]


ACCOUNT_RESOURCES = {"customers": resources.customers, "contracts": resources.contracts}
"""Account table name -> the resource that loads its listed rows."""
