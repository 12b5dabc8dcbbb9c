"""The dbt docs site: every model, column, test and the lineage graph, as one HTML file.

`atera-sync docs` (and `make docs`) writes `site/dbt-docs/index.html`, dbt's
static docs page with the catalog of a real warehouse: column types come from
the database, descriptions from the project's YAML files.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import duckdb

from pipelines.models.dbt_build import DUCKDB_PATH_ENV, invoke_dbt
from pipelines.models.runner import run_models

DEFAULT_DOCS_DIR = Path("site/dbt-docs")


def generate_docs(duckdb_path: Path | None, out_dir: Path = DEFAULT_DOCS_DIR) -> Path:
    """Write the static docs page for a warehouse (or an empty one) into `out_dir`.

    Args:
        duckdb_path: a warehouse file whose models are built (the working copy);
            None builds the models on an empty warehouse first.
        out_dir: where `index.html` goes.

    Returns:
        The path of the page.
    """
    with tempfile.TemporaryDirectory(prefix="atera-docs-") as tmp:
        work = Path(tmp)
        if duckdb_path is None:
            duckdb_path = work / "empty.duckdb"
            with duckdb.connect(str(duckdb_path)) as con:
                run_models(con)
        os.environ[DUCKDB_PATH_ENV] = str(duckdb_path)
        invoke_dbt(["docs", "generate", "--static"], work)
        out_dir.mkdir(parents=True, exist_ok=True)
        page = out_dir / "index.html"
        shutil.copyfile(work / "target" / "static_index.html", page)
    return page
