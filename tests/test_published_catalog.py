"""What a BI tool's catalog browser lists in the published file after a run."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from pipelines.sandbox import AteraSandbox
from pipelines.warehouse import Warehouse
from tests.bi_warehouse import sync_with_models
from tests.conftest import TEST_API_KEY


@pytest.fixture(scope="module")
def published(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    path = tmp_path_factory.mktemp("catalog") / "data" / "atera.duckdb"
    with AteraSandbox(api_key=TEST_API_KEY, tickets=25, seed=9, rate_limit=None) as sandbox:
        sync_with_models(sandbox, path)
    yield path


def listed(path: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(path), read_only=True) as con:
        return con.execute(sql).fetchall()


def test_a_catalog_browser_lists_the_marts_raw_tables_and_history_only(published: Path) -> None:
    # what JDBC's getSchemas() and most browsers read
    schemas = {
        name
        for (name,) in listed(
            published,
            "select schema_name from information_schema.schemata "
            "where catalog_name = current_database()",
        )
    }
    assert schemas - {"information_schema", "pg_catalog"} == {
        "analytics",
        "atera_meta",
        "atera_raw",
        "main",
    }
    # the working copy keeps what dbt and dlt need
    work_schemas = {
        name
        for (name,) in listed(
            Warehouse.at(published).work, "select schema_name from duckdb_schemas()"
        )
    }
    assert {"staging", "intermediate"} <= work_schemas


def test_deleted_tickets_exists_from_the_first_run(published: Path) -> None:
    columns = {
        name
        for (name,) in listed(
            published,
            "select column_name from information_schema.columns "
            "where table_schema = 'atera_raw' and table_name = 'deleted_tickets'",
        )
    }
    assert {"ticket_id", "deleted_at"} <= columns
    assert listed(published, "select count(*) from atera_raw.deleted_tickets") == [(0,)]


def test_the_marts_are_views_with_their_comments_and_main_is_empty(published: Path) -> None:
    kinds = set(
        listed(
            published,
            "select table_type from information_schema.tables where table_schema = 'analytics'",
        )
    )
    assert kinds == {("VIEW",)}
    comments = listed(
        published,
        "select count(*) from duckdb_columns() where schema_name = 'analytics' "
        "and comment is not null",
    )
    assert comments[0][0] > 20
    assert listed(published, "select count(*) from duckdb_tables() where schema_name = 'main'") == [
        (0,)
    ]


def test_sqlalchemy_with_duckdb_engine_lists_the_schemas_and_reads_a_mart(
    published: Path,
) -> None:
    """What Superset does: a read-only SQLAlchemy engine, its inspector, a query."""
    sqlalchemy = pytest.importorskip("sqlalchemy")
    pytest.importorskip("duckdb_engine")
    engine = sqlalchemy.create_engine(f"duckdb:///{published}", connect_args={"read_only": True})
    try:
        inspector = sqlalchemy.inspect(engine)
        # duckdb-engine names schemas `<database>.<schema>`; the database is the file's stem
        ours = {
            name.split(".", 1)[1]
            for name in inspector.get_schema_names()
            if name.startswith("atera.")
        }
        assert ours == {"analytics", "atera_raw", "atera_meta", "main"}
        views = inspector.get_view_names(schema="atera.analytics")
        assert "sla_first_response_by_priority" in views
        with engine.connect() as connection:
            total = connection.execute(
                sqlalchemy.text("select sum(tickets) from analytics.sla_first_response_by_priority")
            ).scalar()
    finally:
        engine.dispose()
    assert total == 25
