"""The dbt sources list exactly the raw columns that the raw schema declares."""

from __future__ import annotations

import yaml

from pipelines.atera.schema import RAW_TABLES, sql_columns
from pipelines.models.dbt_build import sql_dir


def test_sources_yml_lists_the_declared_raw_columns_and_types() -> None:
    sources = yaml.safe_load((sql_dir() / "models" / "sources.yml").read_text(encoding="utf-8"))
    raw = next(source for source in sources["sources"] if source["name"] == "atera_raw")
    listed = {
        table["name"]: {column["name"]: column["data_type"] for column in table["columns"]}
        for table in raw["tables"]
    }
    declared = {name: sql_columns(table) for name, table in RAW_TABLES.items()}
    assert listed == declared
