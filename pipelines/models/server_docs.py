"""`atera-sync docs --destination postgres`: the dbt docs site from a server warehouse.

`dbt docs generate` with the server's profile (`pipelines.models.server_profiles`):
the catalog (column types) comes from the server's built models; where the models
were never built there, the page still lists every model, with descriptions but
without types. It only reads the server: no lock, no build. The models are not
compiled again (`--no-compile`: half the time on a server): the page shows each
model's SQL as written, and the lineage, columns and tests as on DuckDB.
"""

from __future__ import annotations

from pathlib import Path

from pipelines.models.dbt_build import dbt_environment, invoke_dbt
from pipelines.models.docs import DEFAULT_DOCS_DIR
from pipelines.models.server_profiles import server_profile
from pipelines.private_files import copy_private, ensure_private_dir, report_tightened, tighten
from pipelines.server_warehouse import ServerWarehouse


def generate_server_docs(warehouse: ServerWarehouse, out_dir: Path = DEFAULT_DOCS_DIR) -> Path:
    """Write the static docs page of the server warehouse into `out_dir`; its path.

    Raises:
        ModelProjectError: dbt could not read the project or the server's catalog.
    """
    profile = server_profile(warehouse)
    with dbt_environment(profile.environment):
        invoke_dbt(
            ["docs", "generate", "--static", "--no-compile"], profile.work_dir, profile=profile.text
        )
    # a folder that exists may be the user's (e.g. a web root): leave its mode alone
    ensure_private_dir(out_dir, tighten_existing=False)
    page = out_dir / "index.html"
    report_tightened(tighten([page]), out_dir)
    copy_private(profile.work_dir / "target" / "static_index.html", page)
    return page
