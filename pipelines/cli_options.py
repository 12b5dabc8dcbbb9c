"""Options that several commands share, in one place (the commands live in several modules)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from pipelines.destination import DEFAULT_DUCKDB_PATH, DESTINATIONS

destination_option = click.option(
    "--destination",
    type=click.Choice(DESTINATIONS),
    default=None,
    help="The warehouse: the DuckDB file (default), or a server configured the dlt way "
    "(DESTINATION__POSTGRES__CREDENTIALS, ...). Default: [pipeline] destination.",
)


def duckdb_option_with(text: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """`--duckdb PATH` (as `duckdb_path`), with `text` as its help."""
    return click.option(
        "--duckdb",
        "duckdb_path",
        type=click.Path(dir_okay=False, path_type=Path),
        default=DEFAULT_DUCKDB_PATH,
        show_default=True,
        help=text,
    )


duckdb_option = duckdb_option_with("The DuckDB warehouse file that analysts open.")
