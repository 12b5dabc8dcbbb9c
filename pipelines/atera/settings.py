"""Endpoints, paging and client defaults for the Atera source.

Defaults live here, in code, so that `atera-sync` works from any working
directory; `.dlt/config.toml` (section `[sources.atera]`) only overrides them.
"""

from __future__ import annotations

from pipelines import __version__

DEFAULT_BASE_URL = "https://app.atera.com"
API_PREFIX = "/api/v3"

TICKETS_PATH = "/tickets"
STATUS_MODIFIED_PATH = "/tickets/statusmodified"
"""Seed contract: `?modifiedAfter=ISO`, the tickets changed after that instant."""
LAST_MODIFIED_PATH = "/tickets/lastmodified"
"""Published v3: `?date=ISO` (UTC), the tickets changed after that instant."""
TICKET_PATH = "/tickets/{ticket_id}"
COMMENTS_PATH = "/tickets/{ticket_id}/comments"
WORK_HOURS_PATH = "/tickets/{ticket_id}/workhours"
"""Seed: the work-hour records. Published v3: a billable/non-billable summary only."""
WORK_HOURS_RECORDS_PATH = "/tickets/{ticket_id}/workhoursrecords"
"""Published v3: the work-hour records of one ticket (paged)."""
ACCOUNT_WORK_HOURS_PATH = "/workhours"
"""Published v3: every work-hour record of the account (paged)."""
BILLABLE_DURATION_PATH = "/tickets/{ticket_id}/billableduration"
BULK_BILLABLE_DURATION_PATH = "/tickets/billableduration"
"""Published v3: POST a JSON array of up to 50 ticket ids."""
BULK_BILLABLE_MAX_IDS = 50
CUSTOMERS_PATH = "/customers"
"""The account's customers (paged), listed whole by every sync."""
CONTRACTS_PATH = "/contracts"
"""The account's contracts (paged), listed whole by every sync."""

INCREMENTAL_ENDPOINTS = ("statusmodified", "lastmodified")
AUTH_SCHEMES = ("x-api-key", "bearer")

PAGE_SIZE = 50
"""Atera caps itemsInPage at 50."""

MAX_PAGES = 100_000
"""Hard stop for any paged listing: no account has five million tickets."""

ACCOUNT_RATE_LIMIT_PER_MINUTE = 700
"""Atera answers 429 past 700 requests a minute per account, all integrations together."""

RATE_LIMIT_PER_MINUTE = 350
"""This project's share of the account's limit: half, leaving the other half to the MSP's
other integrations (PSA sync, billing, automations)."""

RATE_WINDOW_MARGIN = 1.015
"""The client's window is this much longer than the limit's (98.5 % of the budget)."""

RATE_LIMIT_PATIENCE_SECONDS = 900.0
"""How long one request keeps retrying while the account is rate limited (HTTP 429)."""

CONCURRENCY = 8
"""Parallel requests for per-ticket calls; the rate limiter is shared by all of them."""

TIMEOUT_SECONDS = 30.0
MAX_ATTEMPTS = 6
"""Attempts per request (the first try plus retries) on 429, 5xx and network errors."""

BACKOFF_INITIAL_SECONDS = 1.0
BACKOFF_MAX_SECONDS = 60.0

WATERMARK_OVERLAP_SECONDS = 600
"""The next run asks for changes since the last run's start minus this overlap."""

RECONCILE_EVERY_DAYS = 7
"""A run reconciles (lists every ticket id, one call per 50 tickets) once a week."""

SAFETY_NET_EVERY_DAYS = 7
"""A run fetches the children of every open ticket once a week, to check change detection."""

WORK_HOURS_LOOKBACK_DAYS = 7
"""The published API's work-hour listing looks this far before the watermark (time logged late)."""

FULL_SYNC_CHUNK_PAGES = 100
"""A full sync commits every 100 pages (5,000 tickets with their children). Each commit
costs dlt about half a second to a second however small the chunk (normalize and load
start-up, a merge per table): at 20 pages that was most of a fast full sync's load time.
A killed sync redoes at most one chunk: about 45 minutes of calls at 350 a minute."""

USER_AGENT = f"atera-sync/{__version__} (+dlt)"
