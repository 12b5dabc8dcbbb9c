"""Where log records go, and how they look: a terminal, a log file, or a log shipper.

Three forms, chosen once per command:

* ``rich``: stderr is a terminal and the format is ``text``: coloured records
  beside the live progress bar, as a person watching a run wants them.
* ``plain``: stderr is not a terminal (cron, systemd, CI) and the format is
  ``text``: one record per line, ``time level stage: message``, never wrapped,
  without colour or box drawing, so that grep and alerting see whole lines.
* ``json``: ``--log-format json``: one JSON object per line with ``time``,
  ``level``, ``run_id``, ``stage``, ``message`` and ``counts``, for log shippers.

In every form the API key (and any other registered secret) is replaced by
``***`` before a record is written: in messages, arguments and tracebacks.
"""

from __future__ import annotations

import json
import logging
import os
import sys
from datetime import UTC, datetime
from typing import Any, TextIO

LOG_FORMATS = ("text", "json")
RICH, PLAIN, JSON = "rich", "plain", "json"
MASK = "***"
SECRET_ENVIRONMENT = ("SOURCES__ATERA__API_KEY", "PRIVACY__SALT")
MIN_SECRET_LENGTH = 4
"""Shorter values are not masked: they would blank out ordinary words."""

_secrets: set[str] = set()
_run_id: str | None = None


def register_secret(value: str | None) -> None:
    """Never write `value` in a log record or command output from now on."""
    if value and len(value) >= MIN_SECRET_LENGTH:
        _secrets.add(value)


def mask_secrets(text: str) -> str:
    """`text` with every registered secret replaced by ``***``."""
    for secret in sorted(_secrets, key=len, reverse=True):
        text = text.replace(secret, MASK)
    return text


def set_run_id(run_id: str | None) -> None:
    """The run that later records belong to (one run at a time per process)."""
    global _run_id
    _run_id = run_id


def current_run_id() -> str | None:
    """The run id set by the current run, if any."""
    return _run_id


def output_form(log_format: str, stream: TextIO | None = None) -> str:
    """``json``, else ``rich`` on a terminal and ``plain`` elsewhere."""
    if log_format == "json":
        return JSON
    stream = sys.stderr if stream is None else stream
    return RICH if _isatty(stream) else PLAIN


def stage_of(record: logging.LogRecord) -> str:
    """The record's stage: given with ``extra={"stage": ...}``, else its logger's last name."""
    stage = getattr(record, "stage", None)
    return str(stage) if stage else component_of(record)


def component_of(record: logging.LogRecord) -> str:
    """The part of the product (or the library) that wrote the record: its logger's last name."""
    name = record.name
    if name == "atera_sync":
        return "run"
    return name.rsplit(".", 1)[-1] if name.startswith("atera_sync.") else name.split(".")[0]


def one_line(text: str) -> str:
    """Lines joined with `` | ``: a record is one line in a log file."""
    return " | ".join(part.rstrip() for part in text.splitlines() if part.strip()) or text


class SecretMaskingFilter(logging.Filter):
    """Renders each record's message with the secrets masked, before any handler sees it."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        record.msg = mask_secrets(message)
        record.args = None
        if record.exc_text:
            record.exc_text = mask_secrets(record.exc_text)
        return True


class PlainFormatter(logging.Formatter):
    """``2026-05-04T02:15:07Z INFO sync: message``, on one line (the stage is in the message)."""

    def format(self, record: logging.LogRecord) -> str:
        stamp = datetime.fromtimestamp(record.created, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        text = record.getMessage()
        if record.exc_text:
            text = f"{text}\n{record.exc_text}"
        line = f"{stamp} {record.levelname} {component_of(record)}: {one_line(text)}"
        return mask_secrets(line)


class JsonFormatter(logging.Formatter):
    """One JSON object per record: time, level, run_id, stage, message, counts."""

    def format(self, record: logging.LogRecord) -> str:
        message = record.getMessage()
        if record.exc_text:
            message = f"{message}\n{record.exc_text}"
        return json_line(
            level=record.levelname,
            stage=stage_of(record),
            message=message,
            counts=getattr(record, "counts", None),
            created=record.created,
            logger=record.name,
        )


def json_line(
    *,
    level: str,
    stage: str,
    message: str,
    counts: dict[str, Any] | None = None,
    created: float | None = None,
    logger: str = "atera_sync",
    **fields: Any,
) -> str:
    """The JSON log line for one event (secrets masked)."""
    created = datetime.now(UTC).timestamp() if created is None else created
    record = {
        "time": datetime.fromtimestamp(created, UTC).isoformat(timespec="milliseconds"),
        "level": level,
        "run_id": _run_id,
        "stage": stage,
        "message": message,
        "counts": counts or {},
        "logger": logger,
        **fields,
    }
    return mask_secrets(json.dumps(record, default=str, ensure_ascii=False))


def configure_logging(verbose: bool, log_format: str) -> str:
    """Install the one handler for this command's form; return the form.

    Called again (another format given on a subcommand), it replaces the handler.
    """
    for name in SECRET_ENVIRONMENT:
        register_secret(os.environ.get(name))
    form = output_form(log_format)
    handler = _handler(form)
    handler.addFilter(SecretMaskingFilter())
    root = logging.getLogger()
    for old in list(root.handlers):
        if getattr(old, "_atera_sync", False):
            root.removeHandler(old)
    handler._atera_sync = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(logging.WARNING)
    logging.getLogger("atera_sync").setLevel(logging.DEBUG if verbose else logging.INFO)
    logging.getLogger("httpx").setLevel(logging.INFO if verbose else logging.WARNING)
    # library warnings (warnings.warn) become records too: in JSON, every line is JSON
    logging.captureWarnings(form != RICH)
    return form


def _handler(form: str) -> logging.Handler:
    if form == RICH:
        from rich.console import Console
        from rich.logging import RichHandler

        return RichHandler(console=Console(stderr=True), show_path=False, rich_tracebacks=False)
    handler = _StderrHandler()
    handler.setFormatter(JsonFormatter() if form == JSON else PlainFormatter())
    return handler


class _StderrHandler(logging.StreamHandler):
    """Writes to whatever `sys.stderr` is at the time of the record (tests swap it)."""

    def __init__(self) -> None:
        super().__init__(sys.stderr)

    @property
    def stream(self) -> TextIO:
        return sys.stderr

    @stream.setter
    def stream(self, value: TextIO) -> None:
        pass


def _isatty(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False
