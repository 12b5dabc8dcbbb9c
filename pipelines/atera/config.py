"""The `[sources.atera]` configuration, resolved through dlt's config providers.

Values come, in this order, from environment variables
(`SOURCES__ATERA__API_KEY`, `SOURCES__ATERA__BASE_URL`, ...),
`.dlt/secrets.toml` and `.dlt/config.toml` in the working directory, and
finally the defaults below (in code, so that no `.dlt/` folder is needed).
"""

from __future__ import annotations

from typing import Optional

from dlt.common.configuration import configspec, resolve_configuration
from dlt.common.configuration.specs import BaseConfiguration
from dlt.common.typing import TSecretStrValue

from pipelines.atera import settings
from pipelines.atera.shapes import shape_name


@configspec
class AteraConfiguration(BaseConfiguration):
    """Settings of the Atera source; see `.dlt/config.toml` for their meaning."""

    api_key: Optional[TSecretStrValue] = None  # noqa: UP045 (dlt resolves typing.Optional)
    base_url: str = settings.DEFAULT_BASE_URL
    rate_limit_per_minute: int = settings.RATE_LIMIT_PER_MINUTE
    """This project's share of the account's limit (Atera: 700 a minute for all integrations)."""
    rate_limit_patience_seconds: float = settings.RATE_LIMIT_PATIENCE_SECONDS
    """How long a request keeps retrying while others' traffic gets it HTTP 429."""
    concurrency: int = settings.CONCURRENCY
    timeout_seconds: float = settings.TIMEOUT_SECONDS
    max_attempts: int = settings.MAX_ATTEMPTS
    backoff_initial_seconds: float = settings.BACKOFF_INITIAL_SECONDS
    backoff_max_seconds: float = settings.BACKOFF_MAX_SECONDS
    page_size: int = settings.PAGE_SIZE
    overlap_seconds: int = settings.WATERMARK_OVERLAP_SECONDS
    reconcile_every_days: int = settings.RECONCILE_EVERY_DAYS
    """List every ticket id this often to find deleted tickets (0: only `atera-sync reconcile`)."""
    safety_net_every_days: int = settings.SAFETY_NET_EVERY_DAYS
    """Fetch every open ticket's children this often to check change detection (0: never)."""
    work_hours_lookback_days: int = settings.WORK_HOURS_LOOKBACK_DAYS
    """How far before the watermark the published API's work-hour listing looks."""
    full_sync_chunk_pages: int = settings.FULL_SYNC_CHUNK_PAGES
    """A full sync commits after this many pages of tickets (50 each) and their children."""
    incremental_endpoint: str = "auto"
    """statusmodified (seed), lastmodified (published v3), or auto: follow the API's shape."""
    auth_scheme: str = "auto"
    """x-api-key, bearer, or auto: Bearer for JWT-shaped keys, X-API-KEY otherwise."""
    api_shape: str = "auto"
    """contract (the ticket contract), published (Atera's published API), or auto:
    recognised from the first listing's envelope."""
    api_flavor: Optional[str] = None  # noqa: UP045
    """Deprecated name of api_shape (values seed and v3)."""
    timezone: Optional[str] = None  # noqa: UP045
    """IANA zone for timestamps sent without an offset (default: UTC)."""

    def resolved_api_shape(self) -> str:
        """`api_shape`, or the deprecated `api_flavor` when only that one is set."""
        if self.api_flavor and self.api_shape in (None, "", "auto"):
            return shape_name(self.api_flavor, "[sources.atera] api_flavor")
        return shape_name(self.api_shape)


def load_atera_configuration() -> AteraConfiguration:
    """Resolve `[sources.atera]` from the environment, `.dlt/` files and defaults."""
    return resolve_configuration(AteraConfiguration(), sections=("sources", "atera"))
