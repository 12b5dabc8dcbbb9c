"""The end-of-run summary printed by `atera-sync run`."""

from __future__ import annotations

import textwrap
from collections.abc import Mapping
from datetime import UTC, datetime

import pandas as pd
from rich.console import Console, JustifyMethod
from rich.table import Table

from pipelines.atera.plan import SyncReport
from pipelines.models.runner import AS_OF_CLOCK, AS_OF_LAST_SYNC, ModelsResult
from pipelines.sync import SyncResult

RAW_TABLES = ("tickets", "comments", "work_hours", "billable_durations", "ticket_status_snapshots")


def _stamp(value: datetime | None) -> str:
    if value is None:
        return "-"
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def print_sync_summary(console: Console, result: SyncResult) -> None:
    """Rows per table, API calls, retries, duration and the new watermark."""
    _print_wrapped(console, summary_title(result))
    table = Table()
    table.add_column("table (atera_raw)")
    table.add_column("rows loaded", justify="right")
    for name, count in rows_by_table(result).items():
        table.add_row(name, f"{count:,}")
    console.print(table)
    for line in summary_lines(result):
        _print_wrapped(console, line)


def print_rows_copied(
    console: Console,
    title: str,
    rows: Mapping[str, int],
    seconds: float,
    rows_per_second: float,
    ending: str,
    *,
    highlight: bool | None = None,
) -> None:
    """What a command that copies tables (export, migrate) did: the rows of each table
    under `title`, then `N rows in S s (R rows/s)` followed by `ending`."""
    table = Table(title=title, title_justify="left")
    table.add_column("table")
    table.add_column("rows", justify="right")
    for name, count in rows.items():
        table.add_row(name, f"{count:,}")
    console.print(table)
    console.print(
        f"{sum(rows.values()):,} rows in {seconds:.2f} s ({rows_per_second:,.0f} rows/s){ending}",
        soft_wrap=True,
        highlight=highlight,
    )


def summary_title(result: SyncResult) -> str:
    """`Incremental sync into PATH`."""
    where = result.warehouse_label or result.duckdb_path
    return f"{result.report.mode.capitalize()} sync into {where}"


def rows_by_table(result: SyncResult) -> dict[str, int]:
    """Rows loaded per raw table: the usual tables first (0 when none), then any other."""
    rows = {name: result.rows.get(name, 0) for name in RAW_TABLES}
    rows.update({name: n for name, n in sorted(result.rows.items()) if name not in RAW_TABLES})
    return rows


def summary_lines(result: SyncResult) -> list[str]:
    """The summary's lines after the table: tickets, API calls, watermark, problems."""
    report = result.report
    lines = [
        f"tickets changed: {report.tickets_listed:,}   per-ticket fetches: {report.child_targets:,}"
        f"   open backlog: {report.open_tickets:,}",
        f"API calls: {result.api_calls:,}   retries: {result.retries:,}"
        f"   duration: {result.duration_s:.1f} s ({_steps(result)})",
        f"watermark: {_stamp(report.watermark_before)} -> {_stamp(report.new_watermark)}"
        f"   (server time {_stamp(report.server_time)}, from {report.server_time_source or '-'})",
    ]
    if report.mode == "incremental":
        lines.append(_change_detection_line(report))
    if result.reconcile is not None:
        found = result.reconcile
        lines.append(
            f"reconciled: {found.listed:,} tickets listed, {len(found.deleted):,} newly deleted, "
            f"{len(found.restored):,} restored, {len(found.missed):,} missed earlier (loaded)"
        )
    if report.problems:
        lines.append(f"problems: {len(report.problems):,} (see atera_meta.sync_runs):")
        lines.extend(f"  {p}" for p in report.problems[:5])
    if report.missing_ticket_ids:
        ids = ", ".join(str(i) for i in sorted(report.missing_ticket_ids)[:10])
        lines.append(f"tickets that vanished during the sync (404, skipped): {ids}")
    return lines


def _change_detection_line(report: SyncReport) -> str:
    line = f"child fetches skipped by change detection: {report.child_fetches_skipped:,}"
    if report.tickets_refreshed:
        line += f"   open tickets refreshed: {report.tickets_refreshed:,}"
    if report.safety_net:
        line += (
            "   safety net: every open ticket's children fetched, "
            f"{report.change_detection_missed or 0:,} changes change detection had missed"
        )
    return line


def _print_wrapped(console: Console, line: str) -> None:
    """Print `line` wrapped between words at the console's width, as plain text.

    Rich would fold a long word (a URL, a path) in the middle, or with
    `soft_wrap` not wrap at all; here a line breaks only at spaces, so URLs and
    paths stay whole and can be copied from a log. Only a single word longer
    than the console is wider than it. Continuation lines are indented two
    spaces more than the first. Markup and emoji codes are off: problems quote
    data sent by the API, in which `[/...]` or `:x:` is text.
    """
    indent = line[: len(line) - len(line.lstrip(" "))]
    pieces = textwrap.wrap(
        line,
        width=console.width,
        subsequent_indent=indent + "  ",
        break_long_words=False,
        break_on_hyphens=False,
    )
    for piece in pieces or [""]:
        console.print(piece, soft_wrap=True, highlight=False, markup=False, emoji=False)


def _steps(result: SyncResult) -> str:
    parts = [
        f"{name} {result.step_seconds[name]:.1f} s"
        for name in ("extract", "normalize", "load")
        if name in result.step_seconds
    ]
    if result.load_rows_per_second:
        parts.append(f"{result.load_rows_per_second:,.0f} rows/s normalized and loaded")
    return ", ".join(parts)


COMPLIANCE_COLUMNS = {
    "ticket_priority": "priority",
    "target_minutes": "target min",
    "tickets": "tickets",
    "met": "met",
    "breached": "breached",
    "pending": "pending",
    "compliance_pct": "compliance %",
    "median_response_minutes": "median min",
    "p90_response_minutes": "p90 min",
}


def as_of_note(result: ModelsResult) -> str:
    """One line on what the marts are true as of, and what an as-of build could not know."""
    stamp = _stamp(result.as_of)
    if result.point_in_time:
        note = f"point in time: only what was known at {stamp} counts"
        if result.current_attribute_tickets:
            note += (
                f"; {result.current_attribute_tickets:,} tickets have no recorded history "
                "before then and use today's priority, status and owner"
            )
        return note
    if result.as_of_basis == AS_OF_LAST_SYNC:
        return f"as of {stamp}: the server time of the last sync whose data landed"
    if result.as_of_basis == AS_OF_CLOCK:
        return (
            f"as of {stamp}: no sync history in this warehouse, so this machine's clock "
            "judges tickets nobody answered yet"
        )
    return f"as of {stamp}"


def print_compliance(console: Console, frame: pd.DataFrame, as_of: datetime) -> None:
    """The first-response SLA compliance table, one row per priority."""
    table = Table(title=compliance_title(as_of), title_justify="left")
    columns = [c for c in COMPLIANCE_COLUMNS if c in frame.columns]
    for column in columns:
        justify: JustifyMethod = "left" if column == "ticket_priority" else "right"
        table.add_column(COMPLIANCE_COLUMNS[column], justify=justify, no_wrap=True)
    for record in compliance_records(frame):
        table.add_row(*(_cell(record[c]) for c in columns))
    console.print(table)


def compliance_title(as_of: datetime) -> str:
    """The compliance table's title."""
    return f"First-response SLA compliance by priority (as of {_stamp(as_of)})"


def compliance_records(frame: pd.DataFrame) -> list[dict[str, object]]:
    """The compliance rows, with the summary's columns only, in report order."""
    columns = [c for c in COMPLIANCE_COLUMNS if c in frame.columns]
    return list(frame[columns].to_dict("records"))


def compliance_line(record: dict[str, object]) -> str:
    """One priority's compliance row as a plain line: `priority Critical, tickets 12, ...`."""
    return ", ".join(f"{COMPLIANCE_COLUMNS[k]} {_cell(v)}" for k, v in record.items())


def _cell(value: object) -> str:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return "-"
    if isinstance(value, float):
        return f"{value:,.0f}" if value.is_integer() else f"{value:,.1f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)
