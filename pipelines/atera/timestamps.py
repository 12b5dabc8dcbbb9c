"""Read every date format Atera sends into an aware UTC datetime.

Seen in Atera's responses:

* ISO 8601 with `Z` or an offset: `2026-05-30T09:00:00Z`, `...+02:00`;
* ISO 8601 without an offset, read in the account's zone (UTC unless
  `[sources.atera] timezone` says otherwise), often with seven fractional
  digits from .NET: `2026-05-30T09:00:00.1234567`;
* .NET JSON dates: `/Date(1780130400000)/` (milliseconds since the epoch, UTC)
  and `/Date(1780130400000+0100)/`, whose suffix is the sender's offset for
  display only: the milliseconds already give the instant.

A value that is none of these is not a date: `parse_timestamp` raises
`UnreadableTimestamp`, and the caller keeps the value as sent and reports it.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, tzinfo

_FRACTION = re.compile(r"(\.\d{1,6})\d*")
_DOTNET = re.compile(r"^\\?/Date\((-?\d+)([+-]\d{4})?\)\\?/$")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class UnreadableTimestamp(ValueError):
    """A value in a date field that is not a date in any format Atera sends."""


def parse_timestamp(value: str, naive_zone: tzinfo = UTC) -> datetime:
    """Return the instant a date string from Atera names, as an aware UTC datetime.

    Args:
        value: an ISO 8601 string (with or without offset, up to 7 fractional
            digits) or a .NET JSON date.
        naive_zone: the zone of ISO values sent without an offset.

    Raises:
        UnreadableTimestamp: the value is not a date in any of those formats.
    """
    text = value.strip()
    dotnet = _DOTNET.match(text)
    if dotnet:
        return _EPOCH + timedelta(milliseconds=int(dotnet.group(1)))
    text = _FRACTION.sub(r"\1", text)
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise UnreadableTimestamp(f"{value!r} is not a date") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=naive_zone)
    return parsed.astimezone(UTC)
