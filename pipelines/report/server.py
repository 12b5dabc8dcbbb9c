"""`atera-sync report --destination postgres`: the SLA report of a server warehouse.

The report's queries are DuckDB SQL (`pipelines.report.data`). Rather than a
second dialect of each, the few relations the report reads (`RELATIONS`: the
marts, not the raw data) are copied from one read-only snapshot of the server
into an in-memory DuckDB under the same schema names, and the same code writes
the same page. The copy is small whatever the account's size except for the
per-ticket fact (one row per ticket, a few dozen columns).
"""

from __future__ import annotations

import time
from datetime import datetime
from pathlib import Path

import duckdb

from pipelines.models.warehouse_schemas import AS_OF_SCHEMA, MARTS_SCHEMA
from pipelines.report.build import (
    DEFAULT_REPORT_FILE,
    ReportError,
    ReportSource,
    WrittenReport,
    write_report_from,
)
from pipelines.report.data import RELATIONS
from pipelines.server_reader import ServerUnreachable, Snapshot, read_snapshot
from pipelines.server_warehouse import ServerWarehouse
from pipelines.sql_text import quote_identifier as _quote
from pipelines.sql_text import quote_literal as _literal


def write_server_report(
    warehouse: ServerWarehouse,
    out: Path = DEFAULT_REPORT_FILE,
    *,
    time_zone: str,
    as_of: datetime | None = None,
) -> WrittenReport:
    """Write the SLA report of the marts in the server warehouse (see `write_report`).

    Raises:
        ReportError: the server cannot be read (exit code 1), or it has no marts, or
            point-in-time marts of another instant (exit code 2).
    """
    started = time.monotonic()
    schema = MARTS_SCHEMA if as_of is None else AS_OF_SCHEMA
    source = ReportSource(
        warehouse.label, f"--destination {warehouse.destination}", warehouse.label
    )
    with duckdb.connect() as con:
        try:
            with read_snapshot(warehouse) as snapshot:
                copy_marts(snapshot, con, schema)
        except ServerUnreachable as exc:
            raise ReportError(f"{exc}: check the server and its credentials", 1) from None
        return write_report_from(
            con, source, out, time_zone=time_zone, as_of=as_of, started=started
        )


def copy_marts(snapshot: Snapshot, con: duckdb.DuckDBPyConnection, schema: str) -> list[str]:
    """Copy the relations the report reads from `schema` on the server into `con`
    (same schema and names); return those copied. Missing ones stay missing, so that
    the report says which."""
    listed = ", ".join(_literal(name) for name in RELATIONS)
    found = [
        str(name)
        for (name,) in snapshot.rows(
            "select table_name from information_schema.tables "
            f"where table_schema = {_literal(schema)} and table_name in ({listed})"
        )
    ]
    con.execute(f"create schema if not exists {_quote(schema)}")
    for name in found:
        data = snapshot.arrow(f"select * from {_quote(schema)}.{_quote(name)}")
        con.register("server_mart", data)
        try:
            con.execute(
                f"create table {_quote(schema)}.{_quote(name)} as select * from server_mart"
            )
        finally:
            con.unregister("server_mart")
    return found
