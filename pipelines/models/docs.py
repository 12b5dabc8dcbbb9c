"""The dbt docs site: every model, column, test and the lineage graph, as one HTML file.

`atera-sync docs` (and `make docs`) writes `site/dbt-docs/index.html`, dbt's
static docs page with the catalog of a real warehouse: column types come from
the database, descriptions from the project's YAML files. Like every file this
project writes, the page is readable by its owner only (0600; a missing folder
is created 0700): share it on purpose, with `chmod`.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import duckdb

from pipelines.models.dbt_build import DUCKDB_PATH_ENV, dbt_environment, invoke_dbt
from pipelines.models.runner import run_models
from pipelines.private_files import copy_private, ensure_private_dir, report_tightened, tighten

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
        with dbt_environment({DUCKDB_PATH_ENV: str(duckdb_path)}):
            invoke_dbt(["docs", "generate", "--static"], work)
        # a folder that exists may be the user's (e.g. a web root): leave its mode alone
        ensure_private_dir(out_dir, tighten_existing=False)
        page = out_dir / "index.html"
        report_tightened(tighten([page]), out_dir)
        copy_private(work / "target" / "static_index.html", page)
    return page
