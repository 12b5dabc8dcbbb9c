"""Build the SQL models in one transaction and run the data tests.

A run: create the `raw_contract` views over `atera_raw`, the `model_inputs`
tables (as_of, targets, business calendar), then every model in dependency
order (`create or replace view|table <schema>.<name> as <file>`), then the
data tests. Everything happens in one DuckDB transaction that is committed
only when every test passes, so readers see either the previous build or the
new one, never a half-built or failing one. Running twice gives the same result.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pandas as pd

from pipelines.models.config import load_model_settings
from pipelines.models.contracts import create_contract_views
from pipelines.models.data_tests import run_data_tests
from pipelines.models.errors import ModelBuildError
from pipelines.models.inputs import create_inputs
from pipelines.models.project import MODEL_SCHEMAS, Model, load_project
from pipelines.models.settings import ModelSettings

logger = logging.getLogger("atera_sync.models")

COMPLIANCE_RELATION = "analytics.sla_first_response_by_priority"


@dataclass
class ModelsResult:
    """What one `run_models` call built.

    Attributes:
        models: relations built, in build order (`schema.name`).
        tests_passed: data tests that returned zero rows (all of them).
        duration_s: wall-clock seconds of the run.
        as_of: the instant the SLA clock of unanswered tickets was read at (UTC).
        compliance_by_priority: `analytics.sla_first_response_by_priority`, in report order.
        raw_tables: raw table -> whether it existed in `atera_raw`.
    """

    models: list[str]
    tests_passed: int
    duration_s: float
    as_of: datetime
    compliance_by_priority: pd.DataFrame = field(repr=False)
    raw_tables: dict[str, bool] = field(default_factory=dict)


def normalize_as_of(as_of: datetime | None) -> datetime:
    """Return `as_of` as an aware UTC datetime; None means now; naive values are UTC."""
    if as_of is None:
        return datetime.now(UTC)
    if as_of.tzinfo is None:
        return as_of.replace(tzinfo=UTC)
    return as_of.astimezone(UTC)


def _existing_kind(con: duckdb.DuckDBPyConnection, schema: str, name: str) -> str | None:
    row = con.execute(
        """
        select table_type
        from information_schema.tables
        where table_catalog = current_database() and table_schema = ? and table_name = ?
        """,
        [schema, name],
    ).fetchone()
    if row is None:
        return None
    return "view" if row[0] == "VIEW" else "table"


def build_model(con: duckdb.DuckDBPyConnection, model: Model) -> None:
    """Create or replace one model's relation.

    Raises:
        ModelBuildError: DuckDB rejected the statement; the message names the file.
    """
    try:
        existing = _existing_kind(con, model.schema, model.name)
        if existing is not None and existing != model.materialization:
            con.execute(f"drop {existing} {model.relation}")
        con.execute(f"create or replace {model.materialization} {model.relation} as\n{model.sql}")
    except duckdb.Error as exc:
        raise ModelBuildError(model.relation, _display_path(model.path), exc) from exc


def _display_path(path: Path) -> str:
    return f"sql/{path.parent.name}/{path.name}"


def run_models(
    con: duckdb.DuckDBPyConnection,
    *,
    as_of: datetime | None = None,
    settings: ModelSettings | None = None,
) -> ModelsResult:
    """Build staging, intermediate and analytics, then run the data tests.

    Args:
        con: an open DuckDB connection with no transaction in progress; the raw
            data is read from its `atera_raw` schema (which may lack tables).
        as_of: the instant unanswered tickets are judged at (default: now);
            pass the same value again to reproduce a report. Naive means UTC.
        settings: targets, business hours and options (default: `load_model_settings()`).

    Returns:
        What was built, and the compliance by priority as a DataFrame.

    Raises:
        DataTestFailed: a data test returned rows; nothing was committed.
        ModelBuildError: a model failed to build; nothing was committed.
        ModelProjectError: the SQL files reference something missing or form a cycle.
        ModelSettingsError: the `[models]` configuration is invalid.
    """
    if settings is None:
        settings = load_model_settings()
    as_of = normalize_as_of(as_of)
    project = load_project()
    started = time.perf_counter()

    con.begin()
    try:
        try:
            raw_tables = create_contract_views(con)
            calendar_intervals = create_inputs(con, settings, as_of)
        except duckdb.Error as exc:
            # e.g. a raw column whose type cannot be unified with the contract's
            raise ModelBuildError("raw_contract and model_inputs", "atera_raw", exc) from exc
        for schema in MODEL_SCHEMAS:
            con.execute(f"create schema if not exists {schema}")
        for model in project.models:
            build_model(con, model)
        tests_passed = run_data_tests(con, project.tests)
        con.commit()
    except BaseException:
        try:
            con.rollback()
        except duckdb.Error:  # the transaction is already gone; keep the original error
            logger.warning("rollback after a failed models run failed", exc_info=True)
        raise

    compliance = con.execute(f"select * from {COMPLIANCE_RELATION} order by priority_rank").df()
    duration = time.perf_counter() - started
    logger.debug(
        "built %d models and passed %d data tests in %.2fs (as of %s, %d calendar intervals)",
        len(project.models),
        tests_passed,
        duration,
        as_of.isoformat(),
        calendar_intervals,
    )
    return ModelsResult(
        models=[model.relation for model in project.models],
        tests_passed=tests_passed,
        duration_s=duration,
        as_of=as_of,
        compliance_by_priority=compliance,
        raw_tables=raw_tables,
    )
