"""Customers and contracts: the account's small reference tables, listed whole by a sync.

`GET /customers` and `GET /contracts` are paged like the tickets (50 a page),
so each costs one call per 50 records (one call when there are none). They are
listed before the tickets, once per run, and replace `atera_raw.customers` and
`atera_raw.contracts` whole in the same load as the tickets.

An account whose API answers 403 or 404 (or 405, 501) for one of them, because
the key lacks the right or the endpoint does not exist there, still syncs: the
table is left out of the load, so it keeps the rows of the last sync that could
list it, and the run records a problem saying so. Any other failure fails the
run like a failed ticket listing: nothing lands and the watermark stays.

The API's `Default` flag of a contract lands as `is_default` (`default` is a
reserved word in SQL); every other field under its snake_case name.
"""

from __future__ import annotations

import logging
from datetime import tzinfo
from typing import Any

from pipelines.atera import settings
from pipelines.atera.client import AteraClient
from pipelines.atera.errors import ApiResponseError
from pipelines.atera.privacy import Privacy
from pipelines.atera.records import Problems, normalize_record
from pipelines.atera.schema import CONTRACTS, CUSTOMERS, RawTable

logger = logging.getLogger("atera_sync.accounts")

Rows = list[dict]

ACCOUNT_TABLES: tuple[tuple[RawTable, str], ...] = (
    (CUSTOMERS, settings.CUSTOMERS_PATH),
    (CONTRACTS, settings.CONTRACTS_PATH),
)
"""Each account table and the listing that fills it."""

UNAVAILABLE_STATUSES = frozenset({403, 404, 405, 501})
"""Answers that mean "not for this key or not on this server": skip the table, keep its rows."""

RENAMED_FIELDS = {"Default": "IsDefault"}
"""API field -> the field name it lands under (`Default` would be the column `default`)."""


def fetch_account_tables(
    client: AteraClient,
    problems: Problems,
    naive_zone: tzinfo,
    privacy: Privacy | None = None,
) -> dict[str, Rows]:
    """List the customers and contracts: table name -> rows, for each listing that answered.

    Args:
        client: the Atera client.
        problems: where a skipped table is recorded (the run's problems).
        naive_zone: the zone of dates sent without an offset.
        privacy: columns to hash or drop before rows reach dlt.

    Raises:
        ApiResponseError, TransportError: a failure other than "not available here".
    """
    fetched: dict[str, Rows] = {}
    for table, path in ACCOUNT_TABLES:
        try:
            records = client.list_all(path)
        except ApiResponseError as exc:
            if exc.status_code not in UNAVAILABLE_STATUSES:
                raise
            message = (
                f"GET {settings.API_PREFIX}{path} answered HTTP {exc.status_code}: "
                f"atera_raw.{table.name} was not refreshed and keeps the rows of the last sync "
                f"that could list them (give the API key access to {table.name} to load them)"
            )
            logger.warning("%s", message)
            problems.add(message)
            continue
        fetched[table.name] = [
            normalize_record(renamed(record), naive_zone, problems=problems, privacy=privacy)
            for record in records
        ]
    return fetched


def renamed(record: dict[str, Any]) -> dict[str, Any]:
    """A record with the fields of RENAMED_FIELDS under their new names, empty fields left
    out (declared columns exist anyway; an undeclared field that no record fills would
    only make dlt warn on every run)."""
    return {
        RENAMED_FIELDS.get(field, field): value
        for field, value in record.items()
        if value is not None
    }
