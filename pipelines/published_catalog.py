"""The schemas a BI tool's catalog browser shows: the user-facing ones and nothing else.

The working copy holds what dlt and dbt need besides the data: dlt's merge
staging (`atera_raw_staging`), dbt's staging and intermediate models and its
build schema (`analytics__build`), and schemas an older version left
(`raw_contract`, `model_inputs`). None of it is for analysts, and dbt and dlt
rebuild all of it on the next run, so the published file leaves it out.
"""

from __future__ import annotations

import logging

import duckdb

from pipelines.live_marts import live_schemas
from pipelines.sql_text import quote_identifier as _quote

logger = logging.getLogger("atera_sync.warehouse")

DATA_SCHEMAS = ("atera_raw", "atera_meta")
"""Besides the marts (`live_marts.live_schemas`): the raw tables and the run history."""

DUCKDB_SCHEMAS = ("main", "information_schema", "pg_catalog")
"""DuckDB's own schemas, which every database has."""


def drop_internal_schemas(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Drop every schema of the current database that readers are not meant to see.

    Returns:
        The schemas dropped.
    """
    keep = {*live_schemas(con), *DATA_SCHEMAS, *DUCKDB_SCHEMAS}
    rows = con.execute(
        "select schema_name from duckdb_schemas() "
        "where database_name = current_database() and not internal order by schema_name"
    ).fetchall()
    dropped = [str(name) for (name,) in rows if str(name) not in keep]
    for name in dropped:
        con.execute(f"drop schema {_quote(name)} cascade")
    if dropped:
        logger.debug("left out of the published file: %s", ", ".join(dropped))
    return dropped
