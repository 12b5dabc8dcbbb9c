"""Endpoints, paging and client defaults for the Atera source.

Defaults live here, in code, so that `atera-sync` works from any working
directory; `.dlt/config.toml` (section `[sources.atera]`) only overrides them.
"""

from __future__ import annotations

DEFAULT_BASE_URL = "https://app.atera.com"
API_PREFIX = "/api/v3"

TICKETS_PATH = "/tickets"
STATUS_MODIFIED_PATH = "/tickets/statusmodified"
TICKET_PATH = "/tickets/{ticket_id}"
COMMENTS_PATH = "/tickets/{ticket_id}/comments"
WORK_HOURS_PATH = "/tickets/{ticket_id}/workhours"
BILLABLE_DURATION_PATH = "/tickets/{ticket_id}/billableduration"

PAGE_SIZE = 50
"""Atera caps itemsInPage at 50."""

MAX_PAGES = 100_000
"""Hard stop for any paged listing: no account has five million tickets."""

RATE_LIMIT_PER_MINUTE = 700
"""Atera answers 429 past 700 requests a minute."""

CONCURRENCY = 8
"""Parallel requests for per-ticket calls; the rate limiter is shared by all of them."""

TIMEOUT_SECONDS = 30.0
MAX_ATTEMPTS = 6
"""Attempts per request (the first try plus retries) on 429, 5xx and network errors."""

BACKOFF_INITIAL_SECONDS = 1.0
BACKOFF_MAX_SECONDS = 60.0

WATERMARK_OVERLAP_SECONDS = 600
"""The next run asks for changes since the last run's start minus this overlap."""

CLOSED_STATUS = "Closed"

USER_AGENT = "atera-sync/0.1 (+dlt)"
