"""Options that several commands share, in one place (the commands live in several modules)."""

from __future__ import annotations

import click

from pipelines.destination import DESTINATIONS

destination_option = click.option(
    "--destination",
    type=click.Choice(DESTINATIONS),
    default=None,
    help="The warehouse: the DuckDB file (default), or a server configured the dlt way "
    "(DESTINATION__POSTGRES__CREDENTIALS, ...). Default: [pipeline] destination.",
)
