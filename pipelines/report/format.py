"""How the report writes numbers, durations and times."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo


def percent(value: float | None) -> str:
    return "–" if value is None else f"{value:.1f}%"


def hours(value: float) -> str:
    return f"{value:,.1f} h"


def minutes(value: float | None) -> str:
    """A duration for people: `45 min`, `4 h`, `1.5 d`."""
    if value is None:
        return "–"
    if value < 60:
        return f"{value:.0f} min" if value >= 10 else f"{value:.1f} min"
    if value < 48 * 60:
        return f"{value / 60:.1f} h".replace(".0 h", " h")
    return f"{value / 1440:.1f} d".replace(".0 d", " d")


def short_minutes(value: float) -> str:
    """An axis label: `15m`, `2h`, `1d`."""
    if value < 60:
        return f"{value:g}m"
    if value < 1440:
        return f"{value / 60:g}h"
    return f"{value / 1440:g}d"


def month_name(first_day: date) -> str:
    return first_day.strftime("%B %Y")


def local_time(value: datetime | None, zone: str) -> str:
    """`2026-11-30 14:15` in the report's time zone; `–` when unknown."""
    if value is None:
        return "–"
    return value.astimezone(ZoneInfo(zone)).strftime("%Y-%m-%d %H:%M")
