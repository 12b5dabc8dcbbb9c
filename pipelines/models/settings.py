"""What the SQL models can be told: SLA targets, the business-hours calendar, pauses.

Defaults live here, in code; `pipelines.models.config.load_model_settings`
overrides them from the dlt config section `[models]`.
"""

from __future__ import annotations

import csv
import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from types import MappingProxyType
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pipelines.models.dbt_build import sql_dir
from pipelines.models.errors import ModelSettingsError

KNOWN_PRIORITIES: tuple[str, ...] = ("Critical", "High", "Medium", "Low")
"""Atera's priorities, most urgent first; this is also the report order."""

UNKNOWN_PRIORITY = "Unknown"
"""Where tickets with no priority, or one without a target, are counted."""


def _seed_rows() -> list[dict[str, str]]:
    path = sql_dir() / "seeds" / "sla_targets.csv"
    with path.open(encoding="utf-8", newline="") as handle:
        return [
            row
            for row in csv.DictReader(handle)
            if not (row.get("customer_id") or "").strip()
            and not (row.get("contract_id") or "").strip()
        ]


def _seeded_targets() -> Mapping[str, float]:
    """The first-response targets by priority of the dbt seed `sql/seeds/sla_targets.csv`."""
    return MappingProxyType(
        {row["ticket_priority"]: float(row["target_minutes"]) for row in _seed_rows()}
    )


DEFAULT_SLA_TARGETS: Mapping[str, float] = _seeded_targets()
"""First-response targets in minutes, from the ticket contract's 'Typical SLA' (the seed)."""

TARGETS_SOURCES: tuple[str, ...] = ("priority", "atera")
"""Where due times come from: the target tables, or Atera's own due dates where sent."""

SCOPES: tuple[str, ...] = ("customer", "contract")
"""What a scoped target is for: one customer id, or one contract id."""

WEEKDAYS: tuple[str, ...] = (
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
    "sunday",
)

DEFAULT_OPENING_HOURS = "09:00-17:00"
"""Monday to Friday, when business hours are enabled and a weekday is not configured."""

MINUTES_PER_DAY = 24 * 60

OpeningRange = tuple[int, int]
"""Minutes after local midnight: (start, end), end up to 1440 (`24:00`)."""

_RANGE = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")
_CLOSED = frozenset({"", "closed", "none", "-"})


def normalize_priority(value: str) -> str:
    """Spell a priority like the staging models do: trimmed, first letter upper case.

    Args:
        value: a priority as configured or sent by Atera, e.g. ` critical`.
    """
    text = value.strip()
    return text[:1].upper() + text[1:].lower()


def parse_opening_hours(value: str | Iterable[str] | None) -> tuple[OpeningRange, ...]:
    """Read one weekday's opening hours.

    Args:
        value: `"09:00-17:00"`, `"08:00-12:00, 13:00-17:00"`, a list of such
            ranges, or `""` / `"closed"` / None for a closed day. `24:00` ends a day.

    Returns:
        Sorted, merged (start, end) ranges in minutes after local midnight.

    Raises:
        ModelSettingsError: a range is not `HH:MM-HH:MM` or does not end after it starts.
    """
    if value is None:
        return ()
    parts = value.split(",") if isinstance(value, str) else list(value)
    ranges: list[OpeningRange] = []
    for part in parts:
        if str(part).strip().lower() in _CLOSED:
            continue
        match = _RANGE.match(str(part))
        if match is None:
            raise ModelSettingsError(
                f"opening hours {part!r} are not HH:MM-HH:MM (e.g. '09:00-17:00')"
            )
        start_h, start_m, end_h, end_m = (int(g) for g in match.groups())
        start, end = start_h * 60 + start_m, end_h * 60 + end_m
        if start_m > 59 or end_m > 59 or not 0 <= start < end <= MINUTES_PER_DAY:
            raise ModelSettingsError(
                f"opening hours {part!r} must start before they end, within 00:00-24:00"
            )
        ranges.append((start, end))
    merged: list[OpeningRange] = []
    for start, end in sorted(ranges):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return tuple(merged)


def _parse_holiday(value: date | str) -> date:
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value).strip())
    except ValueError as exc:
        raise ModelSettingsError(f"holiday {value!r} is not a date like 2025-12-25") from exc


@dataclass(frozen=True)
class BusinessHours:
    """Opening hours per weekday (local time) and holidays (whole local days closed).

    Attributes:
        weekly: weekday (0 = Monday) -> opening ranges in minutes after local midnight.
        holidays: local dates on which nothing is open.
    """

    weekly: Mapping[int, tuple[OpeningRange, ...]] = field(
        default_factory=lambda: {
            day: parse_opening_hours(DEFAULT_OPENING_HOURS if day < 5 else None) for day in range(7)
        }
    )
    holidays: frozenset[date] = frozenset()

    def __post_init__(self) -> None:
        weekly = {day: tuple(self.weekly.get(day, ())) for day in range(7)}
        object.__setattr__(self, "weekly", MappingProxyType(weekly))
        object.__setattr__(self, "holidays", frozenset(_parse_holiday(d) for d in self.holidays))
        if not any(weekly.values()):
            raise ModelSettingsError(
                "business hours are enabled but no weekday has opening hours; "
                "set e.g. [models.business_hours] monday = '09:00-17:00'"
            )

    @classmethod
    def from_config(
        cls,
        days: Mapping[str, str | Iterable[str] | None] | None = None,
        holidays: Iterable[date | str] = (),
    ) -> BusinessHours:
        """Build from weekday names; days not given keep the default (Mon-Fri 09:00-17:00).

        Args:
            days: e.g. `{"monday": "08:00-12:00, 13:00-17:00", "saturday": "10:00-14:00"}`.
            holidays: ISO dates, e.g. `["2025-12-25"]`.

        Raises:
            ModelSettingsError: an unknown weekday name or unreadable hours or dates.
        """
        weekly = dict(cls().weekly)
        for name, value in (days or {}).items():
            key = name.strip().lower()
            if key not in WEEKDAYS:
                raise ModelSettingsError(
                    f"unknown weekday {name!r} in business hours; use one of {', '.join(WEEKDAYS)}"
                )
            weekly[WEEKDAYS.index(key)] = parse_opening_hours(value)
        return cls(weekly=weekly, holidays=frozenset(_parse_holiday(d) for d in holidays))

    def opening_ranges(self, day: date) -> tuple[OpeningRange, ...]:
        """Opening ranges of one local date (none on holidays)."""
        if day in self.holidays:
            return ()
        return self.weekly[day.weekday()]


def _minutes(where: str, priority: str, minutes: object) -> float:
    try:
        value = float(minutes)  # type: ignore[arg-type]
    except (TypeError, ValueError) as exc:
        raise ModelSettingsError(
            f"[{where}] {priority} = {minutes!r} is not a number of minutes"
        ) from exc
    if not (value > 0 and math.isfinite(value)):
        raise ModelSettingsError(
            f"[{where}] {priority} = {minutes!r} must be a number of minutes above 0"
        )
    return value


def _priority_name(where: str, name: object) -> str:
    priority = normalize_priority(str(name))
    if not priority or priority == UNKNOWN_PRIORITY:
        raise ModelSettingsError(
            f"{name!r} cannot be a priority in [{where}]: "
            f"'{UNKNOWN_PRIORITY}' is reserved for tickets without a target"
        )
    return priority


def priority_minutes(where: str, table: Mapping[str, object]) -> dict[str, float]:
    """Validate a `priority -> minutes` table (e.g. `[models.resolution_targets]`).

    Raises:
        ModelSettingsError: a priority is empty or `Unknown`, or minutes are not above 0.
    """
    return {_priority_name(where, name): _minutes(where, name, m) for name, m in table.items()}


@dataclass(frozen=True)
class ScopedTargets:
    """Targets for one customer or contract, which win over the targets by priority.

    Attributes:
        scope: `customer` or `contract`.
        scope_id: Atera's customer or contract id.
        first_response: priority -> first-response target in minutes.
        resolution: priority -> resolution target in minutes.
    """

    scope: str
    scope_id: int
    first_response: Mapping[str, float] = field(default_factory=dict)
    resolution: Mapping[str, float] = field(default_factory=dict)

    def rows(self) -> list[dict[str, object]]:
        """The dbt var rows (`scoped_sla_targets`) of these targets."""
        priorities = list(self.first_response) + [
            p for p in self.resolution if p not in self.first_response
        ]
        return [
            {
                "scope": self.scope,
                "scope_id": self.scope_id,
                "ticket_priority": priority,
                "target_minutes": self.first_response.get(priority),
                "resolution_target_minutes": self.resolution.get(priority),
            }
            for priority in priorities
        ]


@dataclass(frozen=True)
class ModelSettings:
    """Everything the SQL models can be configured with.

    Attributes:
        sla_targets: priority -> first-response target in minutes. Critical, High,
            Medium and Low are always present (defaults from the contract); any
            extra priority is reported after them.
        pause_sla_when_pending: do not count the minutes a ticket spent in Pending
            before its first response (needs the status snapshots).
        time_zone: IANA zone of the business-hours calendar and of calendar months.
        business_hours: None counts calendar minutes (24/7); otherwise only the
            minutes in these opening hours count.
        resolution_targets: priority -> resolution target in minutes; none by
            default (no resolution SLA until targets are set).
        scoped_targets: targets per customer or contract (the most specific wins).
        targets_source: `priority` (the tables) or `atera` (Atera's own due dates,
            where a ticket has them).
    """

    sla_targets: Mapping[str, float] = field(default_factory=lambda: dict(DEFAULT_SLA_TARGETS))
    pause_sla_when_pending: bool = False
    time_zone: str = "UTC"
    business_hours: BusinessHours | None = None
    resolution_targets: Mapping[str, float] = field(default_factory=dict)
    scoped_targets: tuple[ScopedTargets, ...] = ()
    targets_source: str = "priority"

    def __post_init__(self) -> None:
        targets: dict[str, float] = dict(DEFAULT_SLA_TARGETS)
        targets.update(priority_minutes("models.sla_targets", self.sla_targets))
        object.__setattr__(self, "sla_targets", MappingProxyType(targets))
        resolution = priority_minutes("models.resolution_targets", self.resolution_targets)
        object.__setattr__(self, "resolution_targets", MappingProxyType(resolution))
        object.__setattr__(self, "scoped_targets", tuple(self.scoped_targets))
        source = str(self.targets_source).strip().lower()
        if source not in TARGETS_SOURCES:
            raise ModelSettingsError(
                f"[models] targets_source = {self.targets_source!r} must be "
                + " or ".join(repr(s) for s in TARGETS_SOURCES)
            )
        object.__setattr__(self, "targets_source", source)
        try:
            ZoneInfo(self.time_zone)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ModelSettingsError(
                f"[models] time_zone = {self.time_zone!r} is not an IANA time zone "
                "such as 'Europe/Amsterdam' (is the tz database installed?)"
            ) from exc

    def ranked_targets(self) -> list[tuple[str, float, int]]:
        """(priority, target minutes, rank): the known four first, then extras as configured."""
        names = list(KNOWN_PRIORITIES) + [p for p in self.sla_targets if p not in KNOWN_PRIORITIES]
        return [(name, self.sla_targets[name], rank) for rank, name in enumerate(names, start=1)]
