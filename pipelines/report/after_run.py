"""The report written after a successful `atera-sync run`, when `[report] enabled = true`.

A report that cannot be written never fails the sync: it is a warning.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

from pipelines.models import load_model_settings
from pipelines.report.build import write_report
from pipelines.report.settings import load_report_settings
from pipelines.server_warehouse import ServerWarehouse

logger = logging.getLogger("atera_sync.report")


def write_report_after_run(
    duckdb_path: Path, notice: Callable[[str], None], server: ServerWarehouse | None = None
) -> Path | None:
    """Write the report if `[report] enabled`; return its path, or None (not enabled or
    failed, with a warning). `notice` prints the line that says where it went. With
    `server`, the report of its marts goes beside `duckdb_path` (or to `[report] path`)."""
    try:
        settings = load_report_settings()
        if not settings.enabled:
            return None
        out = settings.path_for(duckdb_path)
        zone = load_model_settings().time_zone
        if server is not None:
            from pipelines.report.server import write_server_report

            written = write_server_report(server, out, time_zone=zone)
        else:
            written = write_report(duckdb_path, out, time_zone=zone)
    except Exception as exc:  # the sync succeeded: a report failure is only a warning
        logger.warning("the SLA report was not written (the sync itself succeeded): %s", exc)
        return None
    notice(f"report: {written.path} ({written.bytes / 1024:,.0f} KB in {written.seconds:.1f} s)")
    return written.path
