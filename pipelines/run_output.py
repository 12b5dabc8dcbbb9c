"""What a command prints on stdout (notices, the summary, errors), in the form of its logs.

* ``rich``: today's tables and colours, for a terminal.
* ``plain``: the same facts as unwrapped lines, without colour or box drawing.
* ``json``: one JSON object per line, in the shape of the JSON log records
  (``stage`` is ``summary``, ``models`` or ``error``; figures under ``counts``).

Secrets are masked in every form (see :mod:`pipelines.log_output`).
"""

from __future__ import annotations

import math
import sys
from typing import Any, Protocol

import click
from rich.console import Console
from rich.markup import escape

from pipelines.log_output import JSON, PLAIN, json_line, mask_secrets, one_line
from pipelines.models import ModelsResult
from pipelines.summary import (
    as_of_note,
    compliance_line,
    compliance_records,
    compliance_title,
    print_compliance,
    print_sync_summary,
    rows_by_table,
    summary_lines,
    summary_title,
)
from pipelines.sync import SyncResult


class Output(Protocol):
    """Where a command's own messages go."""

    def notice(self, message: str, *, stage: str = "run") -> None:
        """A line for the user (e.g. that the demo sandbox is used)."""

    def sync_summary(self, result: SyncResult) -> None:
        """The end-of-sync summary."""

    def models_summary(self, result: ModelsResult) -> None:
        """What the SQL models built, and SLA compliance by priority."""

    def error(self, message: str) -> None:
        """The reason a command fails (on stderr)."""


def output_for(form: str) -> Output:
    """The output for a form of :func:`pipelines.log_output.output_form`."""
    if form == JSON:
        return JsonOutput()
    if form == PLAIN:
        return PlainOutput()
    return RichOutput()


def _models_line(result: ModelsResult) -> str:
    return (
        f"models: built {len(result.models)} relations, {result.tests_passed} "
        f"data tests passed in {result.duration_s:.1f} s; marts in {result.schema}"
    )


class RichOutput:
    """Tables and colour on a terminal."""

    def __init__(self) -> None:
        self.console = Console()

    def notice(self, message: str, *, stage: str = "run") -> None:
        self.console.print(escape(mask_secrets(message)), soft_wrap=True, highlight=False)

    def sync_summary(self, result: SyncResult) -> None:
        print_sync_summary(self.console, result)

    def models_summary(self, result: ModelsResult) -> None:
        self.console.print(_models_line(result), soft_wrap=True)
        self.console.print(as_of_note(result), soft_wrap=True)
        print_compliance(self.console, result.compliance_by_priority, result.as_of)

    def error(self, message: str) -> None:
        Console(stderr=True).print(
            f"[bold red]error:[/] {escape(mask_secrets(message))}", highlight=False
        )


class PlainOutput:
    """Whole lines for log files: never wrapped, no colour, no box drawing."""

    def _line(self, text: str, *, err: bool = False) -> None:
        click.echo(mask_secrets(one_line(text)), err=err, color=False)

    def notice(self, message: str, *, stage: str = "run") -> None:
        self._line(message)

    def sync_summary(self, result: SyncResult) -> None:
        self._line(summary_title(result))
        rows = ", ".join(f"{name} {count:,}" for name, count in rows_by_table(result).items())
        self._line(f"rows loaded (atera_raw): {rows}")
        for line in summary_lines(result):
            self._line(line)

    def models_summary(self, result: ModelsResult) -> None:
        self._line(_models_line(result))
        self._line(as_of_note(result))
        self._line(compliance_title(result.as_of))
        for record in compliance_records(result.compliance_by_priority):
            self._line(f"  {compliance_line(record)}")

    def error(self, message: str) -> None:
        self._line(f"error: {message}", err=True)


class JsonOutput:
    """One JSON object per line, like the JSON log records."""

    def _emit(self, line: str, *, err: bool = False) -> None:
        stream = sys.stderr if err else sys.stdout
        stream.write(line + "\n")
        stream.flush()

    def notice(self, message: str, *, stage: str = "run") -> None:
        self._emit(json_line(level="INFO", stage=stage, message=message))

    def sync_summary(self, result: SyncResult) -> None:
        report = result.report
        counts: dict[str, Any] = {
            **rows_by_table(result),
            "api_calls": result.api_calls,
            "retries": result.retries,
            "tickets_changed": report.tickets_listed,
            "per_ticket_fetches": report.child_targets,
            "open_backlog": report.open_tickets,
            "problems": len(report.problems),
        }
        self._emit(
            json_line(
                level="INFO",
                stage="summary",
                message=summary_title(result),
                counts=counts,
                mode=report.mode,
                duration_s=round(result.duration_s, 3),
                watermark_before=_iso(report.watermark_before),
                watermark_after=_iso(report.new_watermark),
                problems=report.problems[:5],
            )
        )

    def models_summary(self, result: ModelsResult) -> None:
        counts = {"relations": len(result.models), "tests_passed": result.tests_passed}
        self._emit(
            json_line(
                level="INFO",
                stage="models",
                message=_models_line(result),
                counts=counts,
                as_of=_iso(result.as_of),
                as_of_note=as_of_note(result),
                schema=result.schema,
                compliance_by_priority=[
                    {k: _json_value(v) for k, v in record.items()}
                    for record in compliance_records(result.compliance_by_priority)
                ],
            )
        )

    def error(self, message: str) -> None:
        self._emit(json_line(level="ERROR", stage="error", message=message), err=True)


def _json_value(value: Any) -> Any:
    """Plain JSON values: numpy numbers as Python numbers, NaN as null."""
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


def _iso(value: Any) -> str | None:
    return None if value is None else value.isoformat()
