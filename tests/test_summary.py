"""The end-of-run summary, rendered into a 120-column console as a scheduler's log would get it."""

from __future__ import annotations

import io
import math
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest
from rich.console import Console

from pipelines.atera.plan import SyncReport
from pipelines.atera.reconcile import ReconcileReport
from pipelines.summary import print_compliance, print_sync_summary
from pipelines.sync import SyncResult

WIDTH = 120
STARTED = datetime(2024, 3, 1, 2, 15, 7, tzinfo=UTC)
LONG_URL = (
    "https://app.atera.com/api/v3/tickets/48213/comments?page=3&itemsInPage=50"
    "&sort=CommentDate&order=desc"
)


def render(draw: object, *args: object) -> str:
    """What `draw(console, *args)` prints into a plain 120-column console."""
    buffer = io.StringIO()
    console = Console(file=buffer, width=WIDTH, color_system=None, force_terminal=False)
    draw(console, *args)  # type: ignore[operator]
    return buffer.getvalue()


def sync_result(**report_changes: object) -> SyncResult:
    """An incremental run with figures that are easy to recognise in the output."""
    report = SyncReport(
        mode="incremental",
        watermark_before=STARTED - timedelta(days=1),
        server_time=STARTED,
        server_time_source="Date header",
        new_watermark=STARTED - timedelta(minutes=10),
        tickets_listed=1234,
        child_targets=456,
        open_tickets=789,
        problems=["ticket 7: TicketStatus 'Waiting' is not one of Open, Closed (loaded as sent)"],
    )
    for name, value in report_changes.items():
        setattr(report, name, value)
    return SyncResult(
        duckdb_path=Path("data") / "atera.duckdb",
        started_at=STARTED,
        duration_s=83.46,
        rows={"tickets": 1234, "comments": 56789, "work_hours": 12, "deleted_tickets": 3},
        api_calls=2345,
        retries=17,
        report=report,
        step_seconds={"extract": 70.0, "normalize": 2.5, "load": 10.9},
    )


def assert_fits(output: str) -> None:
    for line in output.splitlines():
        assert len(line) <= WIDTH, f"wider than the console ({len(line)}): {line!r}"


def says(output: str, phrase: str) -> bool:
    """`phrase` is in `output`, wherever the console wrapped it."""
    return " ".join(phrase.split()) in " ".join(output.split())


def table_row(output: str, label: str) -> list[str]:
    """The cells of the table row that starts with `label`."""
    for line in output.splitlines():
        cells = [c.strip() for c in re.split(r"[│┃|]", line) if c.strip()]
        if cells and cells[0] == label:
            return cells
    raise AssertionError(f"no row {label!r} in:\n{output}")


# --- print_sync_summary ------------------------------------------------------------------


def test_the_summary_shows_the_rows_loaded_per_table() -> None:
    output = render(print_sync_summary, sync_result())
    assert table_row(output, "tickets") == ["tickets", "1,234"]
    assert table_row(output, "comments") == ["comments", "56,789"]
    assert table_row(output, "work_hours") == ["work_hours", "12"]
    # raw tables without rows this run are listed with 0; other tables after them
    assert table_row(output, "billable_durations") == ["billable_durations", "0"]
    assert table_row(output, "deleted_tickets") == ["deleted_tickets", "3"]
    assert output.index("ticket_status_snapshots") < output.index("deleted_tickets")


def test_the_summary_shows_mode_calls_timing_and_watermark() -> None:
    output = render(print_sync_summary, sync_result())
    assert "Incremental sync into " in output
    assert "atera.duckdb" in output
    assert "tickets changed: 1,234   per-ticket fetches: 456   open backlog: 789" in output
    assert says(
        output,
        "API calls: 2,345   retries: 17   duration: 83.5 s (extract 70.0 s, normalize 2.5 s, "
        "load 10.9 s, 4,331 rows/s normalized and loaded)",
    )
    assert (
        "watermark: 2024-02-29T02:15:07Z -> 2024-03-01T02:05:07Z"
        "   (server time 2024-03-01T02:15:07Z, from Date header)"
    ) in output
    assert_fits(output)


def test_the_summary_of_a_first_run_has_no_watermark_before() -> None:
    output = render(print_sync_summary, sync_result(mode="full", watermark_before=None))
    assert "Full sync into " in output
    assert "watermark: - -> 2024-03-01T02:05:07Z" in output


def test_the_summary_lists_the_first_five_problems_and_the_count() -> None:
    problems = [f"ticket {i}: TicketPriority 'P{i}' is not one of Low, High" for i in range(8)]
    output = render(print_sync_summary, sync_result(problems=problems))
    assert "problems: 8 (see atera_meta.sync_runs)" in output
    for shown in problems[:5]:
        assert f"  {shown}" in output
    for hidden in problems[5:]:
        assert hidden not in output


def test_the_summary_without_problems_says_nothing_about_them() -> None:
    output = render(print_sync_summary, sync_result(problems=[]))
    assert "problems" not in output


def test_the_summary_names_tickets_that_vanished_and_what_reconciliation_found() -> None:
    result = sync_result(missing_ticket_ids={31, 7, 12})
    result.reconcile = ReconcileReport(listed=2847, deleted={1, 2}, restored={3}, missed=set())
    output = render(print_sync_summary, result)
    assert "tickets that vanished during the sync (404, skipped): 7, 12, 31" in output
    assert "reconciled: 2,847 tickets listed, 2 newly deleted, 1 restored, 0 missed" in output


def test_a_long_problem_line_wraps_between_words_not_inside_its_url() -> None:
    problem = (
        f"ticket 48213: GET {LONG_URL} answered 500 Internal Server Error three times in a "
        "row; its comments were skipped and are fetched again by the next run"
    )
    assert len(problem) > WIDTH
    output = render(print_sync_summary, sync_result(problems=[problem]))
    assert_fits(output)
    lines = output.splitlines()
    first = next(i for i, line in enumerate(lines) if line.startswith("  ticket 48213: GET"))
    assert LONG_URL in lines[first] or LONG_URL in lines[first + 1]
    assert lines[first + 1].startswith("    ")  # continuation lines hang under the problem
    assert says(output, problem)  # every word, in order


def test_the_everyday_lines_fit_the_console() -> None:
    result = sync_result()
    result.step_seconds = {"extract": 1234.5, "normalize": 123.4, "load": 456.7}
    result.api_calls, result.retries = 123_456, 7_890
    output = render(print_sync_summary, result)
    assert_fits(output)
    assert "API calls: 123,456   retries: 7,890" in output
    assert says(output, "load 456.7 s, 100 rows/s normalized and loaded)")


def test_a_long_warehouse_path_wraps_before_the_path_not_inside_it() -> None:
    result = sync_result()
    result.duckdb_path = Path("/srv") / ("long-folder-name-" * 5) / "atera.duckdb"
    assert len(f"Incremental sync into {result.duckdb_path}") > WIDTH
    output = render(print_sync_summary, result)
    assert_fits(output)
    assert any(line.strip() == str(result.duckdb_path) for line in output.splitlines())


def test_a_word_longer_than_the_console_is_printed_whole() -> None:
    url = "https://app.atera.com/api/v3/tickets?" + "&".join(f"filter{i}=x" for i in range(12))
    assert len(url) > WIDTH
    output = render(print_sync_summary, sync_result(problems=[f"ticket 1: GET {url} failed"]))
    assert any(line.strip() == url for line in output.splitlines())


def test_problems_are_printed_as_sent_not_as_markup() -> None:
    problem = "ticket 9: TicketStatus '[/closed] :x: [bold]' is not one of Open (loaded as sent)"
    output = render(print_sync_summary, sync_result(problems=[problem]))
    assert f"  {problem}" in output


# --- print_compliance --------------------------------------------------------------------


def compliance_frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "ticket_priority": ["Critical", "High", "Medium", "Low"],
            "target_minutes": [15, 60, 240, 1440],
            "tickets": [12, 340, 1893, 602],
            "met": [11, 301, 1700, 590],
            "breached": [1, 39, 190, 10],
            "pending": [0, 0, 3, 2],
            "compliance_pct": [91.66666, 88.5294, 89.9471, 100.0],
            "median_response_minutes": [4.0, 22.5, 95.0, math.nan],
            "p90_response_minutes": [13.2, 58.0, 230.4, None],
        }
    )


def test_the_compliance_table_shows_each_priority() -> None:
    output = render(print_compliance, compliance_frame(), STARTED)
    assert "First-response SLA compliance by priority (as of 2024-03-01T02:15:07Z)" in output
    header = table_row(output, "priority")
    assert header == [
        "priority",
        "target min",
        "tickets",
        "met",
        "breached",
        "pending",
        "compliance %",
        "median min",
        "p90 min",
    ]
    assert table_row(output, "Critical") == [
        "Critical", "15", "12", "11", "1", "0", "91.7", "4", "13.2"
    ]  # fmt: skip
    assert table_row(output, "Medium")[:4] == ["Medium", "240", "1,893", "1,700"]
    assert table_row(output, "Low")[-3:] == ["100", "-", "-"]  # no response yet: "-"
    assert_fits(output)


def test_the_compliance_table_leaves_out_columns_the_frame_does_not_have() -> None:
    frame = compliance_frame()[["ticket_priority", "tickets", "compliance_pct"]]
    output = render(print_compliance, frame, STARTED)
    assert table_row(output, "priority") == ["priority", "tickets", "compliance %"]
    assert table_row(output, "High") == ["High", "340", "88.5"]


@pytest.mark.parametrize("as_of", [STARTED, STARTED.astimezone(tz=None)])
def test_the_compliance_title_is_in_utc(as_of: datetime) -> None:
    output = render(print_compliance, compliance_frame(), as_of)
    assert "(as of 2024-03-01T02:15:07Z)" in output


def test_the_summary_says_what_change_detection_skipped_and_the_safety_net_found() -> None:
    output = render(print_sync_summary, sync_result(child_fetches_skipped=2310))
    assert says(output, "child fetches skipped by change detection: 2,310")
    assert not says(output, "safety net")
    output = render(
        print_sync_summary,
        sync_result(safety_net=True, change_detection_missed=2, tickets_refreshed=4),
    )
    assert says(output, "open tickets refreshed: 4")
    assert says(output, "safety net: every open ticket's children fetched, 2 changes")
    assert_fits(output)
    full = render(print_sync_summary, sync_result(mode="full"))
    assert not says(full, "skipped by change detection")
