"""How the sandbox writes the timestamps it sends.

Atera has been seen sending dates in several ways, so a client must read them
all; the sandbox can serve each one (the same instants every time):

``iso`` (default)
    What each API shape sends natively: ``2026-05-30T09:00:00Z`` (contract) or
    ``2026-05-30T09:00:00.0000000`` (published, no offset, meaning UTC).
``iso7``
    Seven fractional digits and no offset, the instant in UTC:
    ``2026-05-30T09:00:00.0000000``.
``dotnet``
    A .NET JSON date, milliseconds since the Unix epoch: ``/Date(1780131600000)/``.
``dotnet-offset``
    The same with the sender's offset, which does not change the instant:
    ``/Date(1780131600000+0100)/`` (always ``+0100`` here).

The routes build payloads in the ``iso`` form; :func:`restamp` rewrites the
timestamp fields of a payload into another format just before it is sent.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import UTC, datetime, timedelta
from typing import Any

from pipelines.sandbox.data import parse_iso

ISO = "iso"
ISO7 = "iso7"
DOTNET = "dotnet"
DOTNET_OFFSET = "dotnet-offset"
#: Every timestamp format, the default first.
TIMESTAMP_FORMATS = (ISO, ISO7, DOTNET, DOTNET_OFFSET)
#: The sender's offset written by ``dotnet-offset``.
DOTNET_SENDER_OFFSET = "+0100"

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MILLISECOND = timedelta(milliseconds=1)


def normalize_timestamp_format(value: str) -> str:
    """Check a timestamp format name.

    Returns:
        ``value``, one of :data:`TIMESTAMP_FORMATS`.

    Raises:
        ValueError: When it is none of them, naming the allowed values.
    """
    if value not in TIMESTAMP_FORMATS:
        allowed = ", ".join(TIMESTAMP_FORMATS)
        raise ValueError(f"timestamp_format must be one of {allowed} (got {value!r})")
    return value


def format_instant(instant: datetime, timestamp_format: str) -> str:
    """Write an instant in a non-``iso`` format (``iso`` depends on the API shape).

    Args:
        instant: An aware datetime.
        timestamp_format: ``iso7``, ``dotnet`` or ``dotnet-offset``.

    Returns:
        E.g. ``2026-05-30T09:00:00.0000000``, ``/Date(1780131600000)/`` or
        ``/Date(1780131600000+0100)/``.
    """
    utc = instant.astimezone(UTC)
    if timestamp_format == ISO7:
        return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond:06d}0"
    millis = (utc - _EPOCH) // _MILLISECOND
    if timestamp_format == DOTNET:
        return f"/Date({millis})/"
    if timestamp_format == DOTNET_OFFSET:
        return f"/Date({millis}{DOTNET_SENDER_OFFSET})/"
    raise ValueError(f"cannot write instants as {timestamp_format!r}")


def restamp(data: Any, fields: Collection[str], timestamp_format: str) -> Any:
    """Rewrite the timestamp fields of a JSON payload into ``timestamp_format``.

    Args:
        data: A JSON-like value (dicts, lists, scalars) with ISO 8601 timestamps.
        fields: The keys whose values are timestamps, at any depth.
        timestamp_format: One of :data:`TIMESTAMP_FORMATS`.

    Returns:
        ``data`` itself for ``iso``, else a rewritten copy (nulls stay null).
    """
    if timestamp_format == ISO:
        return data
    return _restamp(data, fields, timestamp_format)


def _restamp(data: Any, fields: Collection[str], timestamp_format: str) -> Any:
    if isinstance(data, list):
        return [_restamp(item, fields, timestamp_format) for item in data]
    if not isinstance(data, dict):
        return data
    return {
        key: (
            format_instant(parse_iso(value), timestamp_format)
            if key in fields and isinstance(value, str)
            else _restamp(value, fields, timestamp_format)
        )
        for key, value in data.items()
    }
