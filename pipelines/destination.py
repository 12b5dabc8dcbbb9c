"""Which warehouse a run writes to: the DuckDB file (default) or a server through dlt.

`--destination NAME` on the command line, else `[pipeline] destination` in
`.dlt/config.toml` (or `PIPELINE__DESTINATION`), else `duckdb`. Credentials
are dlt's: `[destination.postgres] credentials = "postgresql://..."` in
`.dlt/secrets.toml`, or `DESTINATION__POSTGRES__CREDENTIALS`, and the same
pattern for the others (see docs/destinations.md).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Final

from pipelines.atera.errors import ConfigurationError

DUCKDB: Final = "duckdb"
DEFAULT_DUCKDB_PATH: Final = Path("data/atera.duckdb")
"""The DuckDB warehouse file, and where a server's local folders go, unless `--duckdb`."""
POSTGRES: Final = "postgres"
DESTINATIONS: Final = (DUCKDB, POSTGRES, "motherduck", "bigquery", "snowflake")
"""Every destination `--destination` accepts; DuckDB is the default."""

SERVER_DESTINATIONS: Final = DESTINATIONS[1:]
"""Destinations that are a database server rather than a file beside the run."""

VERIFIED_DESTINATIONS: Final = (DUCKDB, POSTGRES)
"""Destinations whose load, models and guarantees the tests prove on a real engine."""

CONFIG_KEY: Final = "pipeline.destination"
ENV_VARIABLE: Final = "PIPELINE__DESTINATION"


def resolve_destination(option: str | None) -> str:
    """The destination of this command: the option, else the configuration, else DuckDB.

    Raises:
        ConfigurationError: the name is not one of `DESTINATIONS`.
    """
    name = option or os.environ.get(ENV_VARIABLE) or _configured()
    name = (name or DUCKDB).strip().lower()
    if name not in DESTINATIONS:
        raise ConfigurationError(
            f"destination {name!r} is not one of {', '.join(DESTINATIONS)}: set "
            "--destination or [pipeline] destination in .dlt/config.toml"
        )
    return name


def _configured() -> str | None:
    import dlt

    try:
        value = dlt.config.get(CONFIG_KEY, str)
    except Exception:  # a value dlt cannot read as text: say so through the check above
        return None
    return str(value) if value else None
