"""SQL text for the tables atera-sync keeps on a server (its run history), per engine.

The columns are those of the DuckDB file's `atera_meta.sync_runs`
(`pipelines.warehouse.HISTORY_DDL`); only type names differ between engines.
"""

from __future__ import annotations

HISTORY_COLUMNS: tuple[tuple[str, str], ...] = (
    ("run_id", "varchar"),
    ("started_at", "timestamptz"),
    ("finished_at", "timestamptz"),
    ("status", "varchar"),
    ("mode", "varchar"),
    ("api_calls", "bigint"),
    ("retries", "bigint"),
    ("rows_loaded", "bigint"),
    ("rows_per_table", "json"),
    ("watermark_before", "timestamptz"),
    ("watermark_after", "timestamptz"),
    ("server_time", "timestamptz"),
    ("missing_ticket_ids", "json"),
    ("problems", "json"),
    ("error", "varchar"),
    ("code_version", "varchar"),
    ("child_fetches_skipped", "bigint"),
    ("safety_net", "boolean"),
    ("change_detection_missed", "bigint"),
)

_TYPES: dict[str, dict[str, str]] = {
    "bigquery": {
        "varchar": "string",
        "timestamptz": "timestamp",
        "bigint": "int64",
        "json": "json",
        "boolean": "bool",
    },
    "snowflake": {"timestamptz": "timestamp_tz", "json": "variant"},
}


def column_type(destination: str, kind: str) -> str:
    """The engine's name of a generic column type."""
    return _TYPES.get(destination, {}).get(kind, kind)


def history_ddl(destination: str) -> list[str]:
    """Statements that create `atera_meta.sync_runs` or add the columns it lacks."""
    columns = ", ".join(
        f"{name} {column_type(destination, kind)}" for name, kind in HISTORY_COLUMNS
    )
    return [
        "create schema if not exists atera_meta",
        f"create table if not exists atera_meta.sync_runs ({columns})",
        *(
            f"alter table atera_meta.sync_runs add column if not exists {name} "
            f"{column_type(destination, kind)}"
            for name, kind in HISTORY_COLUMNS[15:]
        ),
    ]
