"""Progress display for long syncs: a live bar on a terminal, log lines otherwise.

A nightly job's output goes to a log file, where a redrawn bar is noise; there
the reporter logs one line per stage every few seconds instead.
"""

from __future__ import annotations

import logging
import sys
import time
from types import TracebackType

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)

logger = logging.getLogger("atera_sync.progress")

LOG_EVERY_SECONDS = 10.0


class ProgressReporter:
    """Callable progress(stage, done, total) that renders to a terminal or the log.

    Args:
        console: where to draw the bar (stderr by default).
        interactive: force the bar on or off; default: on when stderr is a terminal.
    """

    def __init__(self, console: Console | None = None, interactive: bool | None = None) -> None:
        self.console = console or Console(stderr=True)
        self.interactive = sys.stderr.isatty() if interactive is None else interactive
        self._progress: Progress | None = None
        self._tasks: dict[str, TaskID] = {}
        self._last_log: dict[str, float] = {}

    def __enter__(self) -> ProgressReporter:
        if self.interactive:
            self._progress = Progress(
                TextColumn("{task.description:<18}"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                console=self.console,
                transient=True,
            )
            self._progress.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._progress is not None:
            self._progress.stop()

    def __call__(self, stage: str, done: int, total: int) -> None:
        if self._progress is not None:
            task = self._tasks.get(stage)
            if task is None:
                task = self._progress.add_task(stage, total=total or None)
                self._tasks[stage] = task
            self._progress.update(task, completed=done, total=total or None)
            return
        now = time.monotonic()
        finished = bool(total) and done >= total
        if finished or now - self._last_log.get(stage, 0.0) >= LOG_EVERY_SECONDS:
            self._last_log[stage] = now
            extra = {"stage": stage, "counts": {"done": done, "total": total or None}}
            if total:
                pct = 100 * done / total
                logger.info("%s: %d/%d tickets (%.0f%%)", stage, done, total, pct, extra=extra)
            else:
                logger.info("%s: %d listed", stage, done, extra=extra)
