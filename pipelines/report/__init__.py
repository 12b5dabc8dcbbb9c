"""The SLA report: one self-contained HTML page from the marts.

data.py runs the queries, charts.py and svg.py draw the charts, page.py writes the
page, build.py opens the warehouse read-only and writes the file, settings.py and
after_run.py write it after each run when `[report] enabled`.
"""

from pipelines.report.build import DEFAULT_REPORT_FILE, ReportError, WrittenReport, write_report

__all__ = ["DEFAULT_REPORT_FILE", "ReportError", "WrittenReport", "write_report"]
