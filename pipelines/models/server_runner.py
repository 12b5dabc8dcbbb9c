"""Build the SQL models in a server warehouse (PostgreSQL), as `run_models` does in DuckDB.

The same dbt project, the same vars and the same steps: complete `atera_raw`,
build staging and intermediate in place and the marts in the shadow schema
`analytics__build`, run every data test there, and only then swap the marts
into `analytics` (or a point-in-time schema) in one transaction
(`pipelines.models.server_marts`). A failed model or test leaves `analytics`
as it was, and the shadow schema is removed.
"""

from __future__ import annotations

import logging
import time
from datetime import datetime
from typing import Any

import pandas as pd

from pipelines.atera.schema import RAW_TABLES
from pipelines.models.config import load_model_settings
from pipelines.models.dbt_build import DbtOutcome, NodeFailure, run_dbt_build
from pipelines.models.errors import DataTestFailed, DataTestFailure, ModelBuildError
from pipelines.models.runner import (
    AS_OF_CLOCK,
    AS_OF_GIVEN,
    AS_OF_LAST_SYNC,
    COMPLIANCE_MART,
    SAMPLE_ROWS,
    ModelsResult,
    _published_name,
    marts_schema_for,
    model_vars,
    normalize_as_of,
)
from pipelines.models.server_marts import remove_stale_marts, swap_in
from pipelines.models.server_profiles import server_profile
from pipelines.models.settings import ModelSettings
from pipelines.models.warehouse_schemas import BUILD_SCHEMA
from pipelines.raw_tables import complete_raw_tables
from pipelines.server_warehouse import ServerWarehouse
from pipelines.sql_text import quote_identifier as _quote

logger = logging.getLogger("atera_sync.models")


class _QmarkCursor:
    """`execute(sql, params).fetchone()` with DuckDB's `?` placeholders, on dlt's SQL client
    (for `model_vars`, which asks the data's date range in the DuckDB way)."""

    def __init__(self, client: Any) -> None:
        self.client = client
        self.rows: list[Any] = []

    def execute(self, sql: str, params: list[Any] | None = None) -> _QmarkCursor:
        self.rows = list(self.client.execute_sql(sql.replace("?", "%s"), *(params or [])) or [])
        return self

    def fetchone(self) -> Any:
        return self.rows[0] if self.rows else None

    def fetchall(self) -> list[Any]:
        return self.rows


def last_sync_time_on_server(client: Any) -> datetime | None:
    """The server time of the last sync whose data landed (`atera_meta.sync_runs`)."""
    exists = client.execute_sql(
        "select count(*) from information_schema.tables "
        "where table_schema = 'atera_meta' and table_name = 'sync_runs'"
    )
    if not exists or not exists[0][0]:
        return None
    rows = client.execute_sql(
        "select max(server_time) from atera_meta.sync_runs where watermark_after is not null"
    )
    value = rows[0][0] if rows else None
    return normalize_as_of(value) if value is not None else None


def run_models_on_server(
    warehouse: ServerWarehouse,
    *,
    as_of: datetime | None = None,
    settings: ModelSettings | None = None,
    point_in_time: bool = False,
    schema: str | None = None,
    data_as_of: datetime | None = None,
) -> ModelsResult:
    """Build and test the models in the server warehouse; see `run_models` for the arguments.

    Raises:
        DataTestFailed: a data test failed; `analytics` is unchanged.
        ModelBuildError: a model failed to build (or a user's view blocks a changed mart);
            `analytics` is unchanged.
        ModelProjectError: dbt could not read the project.
        ModelSettingsError: the `[models]` configuration is invalid.
    """
    settings = settings or load_model_settings()
    target = marts_schema_for(point_in_time, schema)
    started = time.perf_counter()
    with warehouse.sql() as client:
        basis = AS_OF_GIVEN
        if as_of is None:
            as_of = data_as_of or last_sync_time_on_server(client)
            basis = AS_OF_LAST_SYNC if as_of is not None else AS_OF_CLOCK
        as_of = normalize_as_of(as_of)
        added = complete_raw_tables(client.execute_sql)
        client.execute_sql(f"drop schema if exists {_quote(BUILD_SCHEMA)} cascade")
        variables = model_vars(_QmarkCursor(client), settings, as_of)  # type: ignore[arg-type]
    variables["point_in_time"] = point_in_time
    outcome = run_dbt_build(
        None, variables, {"ATERA_AS_OF": as_of.isoformat()}, server=server_profile(warehouse)
    )
    with warehouse.sql() as client:
        if outcome.failures:
            error = _failure(client, outcome)
            client.execute_sql(f"drop schema if exists {_quote(BUILD_SCHEMA)} cascade")
            raise error
        try:
            swap_in(client, BUILD_SCHEMA, target)
        except Exception:
            # the swap rolled back: analytics keeps its build, and no shadow schema lingers
            client.execute_sql(f"drop schema if exists {_quote(BUILD_SCHEMA)} cascade")
            raise
        if point_in_time:
            _record_point_in_time_build(client, target, as_of)
        built = [_published_name(relation, target) for relation in outcome.relations]
        remove_stale_marts(
            client,
            [name.split(".", 1)[1] for name in built if name.startswith(f"{target}.")],
            target,
        )
        compliance = _frame(
            client, f"select * from {_quote(target)}.{COMPLIANCE_MART} order by priority_rank"
        )
        current = 0
        if point_in_time:
            rows = client.execute_sql(
                f"select count(*) from {_quote(target)}.fct_ticket_first_response_sla "
                "where attributes_source = 'current'"
            )
            current = int(rows[0][0]) if rows else 0
    return ModelsResult(
        models=built,
        tests_passed=outcome.tests_passed,
        duration_s=time.perf_counter() - started,
        as_of=as_of,
        compliance_by_priority=compliance,
        raw_tables={table: table not in added for table in RAW_TABLES},
        added_raw_columns=[name for name in added if "." in name],
        dbt_seconds=outcome.seconds,
        schema=target,
        point_in_time=point_in_time,
        as_of_basis=basis,
        current_attribute_tickets=current,
    )


def _frame(client: Any, sql: str) -> pd.DataFrame:
    with client.execute_query(sql) as cursor:
        columns = [column[0] for column in cursor.description or []]
        return pd.DataFrame(cursor.fetchall(), columns=columns)


def _record_point_in_time_build(client: Any, schema: str, as_of: datetime) -> None:
    client.execute_sql("create schema if not exists atera_meta")
    client.execute_sql(
        "create table if not exists atera_meta.point_in_time_builds ("
        "schema_name varchar primary key, as_of timestamptz not null, "
        "built_at timestamptz not null)"
    )
    with client.begin_transaction():
        client.execute_sql(
            "delete from atera_meta.point_in_time_builds where schema_name = %s", schema
        )
        client.execute_sql(
            "insert into atera_meta.point_in_time_builds values (%s, %s, current_timestamp)",
            schema,
            as_of,
        )


def _failure(client: Any, outcome: DbtOutcome) -> Exception:
    tests = [f for f in outcome.failures if f.kind == "test"]
    if tests and len(tests) == len(outcome.failures):
        return DataTestFailed([_sampled(client, f) for f in tests])
    first = next(f for f in outcome.failures if f.kind != "test")
    return ModelBuildError(first.relation or first.name, first.path, first.message)


def _sampled(client: Any, failure: NodeFailure) -> DataTestFailure:
    columns: list[str] = []
    rows: list[tuple[Any, ...]] = []
    if failure.compiled_sql:
        try:
            frame = _frame(
                client,
                f"select * from (\n{failure.compiled_sql}\n) as failing limit {SAMPLE_ROWS}",
            )
            columns = list(frame.columns)
            rows = [tuple(row) for row in frame.itertuples(index=False)]
        except Exception:  # the message alone still names the test
            logger.debug("could not sample the rows of %s", failure.name, exc_info=True)
    return DataTestFailure(failure.name, failure.path, failure.message, columns, rows)
