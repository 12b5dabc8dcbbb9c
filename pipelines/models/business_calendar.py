"""The SLA clock's calendar: the instants at which SLA minutes count, as UTC intervals.

With business hours, each local opening range of each local date is turned
into a UTC interval with zoneinfo, so an 09:00-17:00 day is eight hours on
either side of a daylight-saving change, and a 00:00-24:00 day is 23 or 25
hours on the day of the change. Without business hours the clock counts
every minute: the calendar is one interval covering every plausible date.

The SQL models measure elapsed SLA minutes by overlapping these intervals.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from pipelines.models.settings import BusinessHours

ALWAYS_OPEN = (
    datetime(1900, 1, 1, tzinfo=UTC),
    datetime(2300, 1, 1, tzinfo=UTC),
)
"""The calendar of calendar minutes: one interval, open all the time."""

Interval = tuple[datetime, datetime]


def _local_instant(day: date, minutes: int, zone: ZoneInfo) -> datetime:
    # 24:00 is midnight of the next day; the UTC conversion happens per instant,
    # which is what makes a range correct on a daylight-saving day.
    extra_days, minute_of_day = divmod(minutes, 24 * 60)
    local = datetime.combine(
        day + timedelta(days=extra_days),
        time(minute_of_day // 60, minute_of_day % 60),
        tzinfo=zone,
    )
    return local.astimezone(UTC)


def open_intervals(
    business_hours: BusinessHours | None,
    time_zone: str,
    first_day: date,
    last_day: date,
) -> list[Interval]:
    """List the UTC intervals in which the SLA clock runs.

    Args:
        business_hours: opening hours and holidays; None for calendar minutes.
        time_zone: IANA zone the opening hours and holidays are in.
        first_day: first local date to cover.
        last_day: last local date to cover (inclusive).

    Returns:
        Sorted, non-overlapping intervals (adjacent ones merged), start < end.
    """
    if business_hours is None:
        return [ALWAYS_OPEN]
    zone = ZoneInfo(time_zone)
    intervals: list[Interval] = []
    day = first_day
    while day <= last_day:
        for start, end in business_hours.opening_ranges(day):
            opens, closes = _local_instant(day, start, zone), _local_instant(day, end, zone)
            if closes <= opens:  # a range swallowed by a clock change
                continue
            if intervals and opens <= intervals[-1][1]:
                intervals[-1] = (intervals[-1][0], max(intervals[-1][1], closes))
            else:
                intervals.append((opens, closes))
        day += timedelta(days=1)
    return intervals


def open_minutes(intervals: list[Interval], start: datetime, end: datetime) -> float:
    """Minutes of `intervals` between two instants (a reference for tests and debugging).

    Args:
        intervals: as returned by `open_intervals`.
        start: aware datetime.
        end: aware datetime; before `start` gives 0.
    """
    seconds = 0.0
    for opens, closes in intervals:
        overlap = (min(closes, end) - max(opens, start)).total_seconds()
        if overlap > 0:
            seconds += overlap
    return seconds / 60
