"""The business-hours calendar: weekends, holidays and daylight-saving changes."""

from __future__ import annotations

import random
from datetime import date, timedelta
from pathlib import Path

import pytest

from pipelines.models import BusinessHours, ModelSettings, ModelSettingsError, run_models
from pipelines.models.business_calendar import ALWAYS_OPEN, open_intervals, open_minutes
from pipelines.models.settings import parse_opening_hours
from tests.models import RawDatabase, ts

OFFICE = BusinessHours()  # Monday to Friday, 09:00-17:00


def test_calendar_minutes_are_one_interval() -> None:
    assert open_intervals(None, "UTC", date(2024, 1, 1), date(2024, 1, 2)) == [ALWAYS_OPEN]


def test_office_hours_keep_eight_hours_across_a_dst_change() -> None:
    # Europe/Amsterdam moves to summer time on Sunday 2024-03-31.
    intervals = open_intervals(OFFICE, "Europe/Amsterdam", date(2024, 3, 29), date(2024, 4, 1))
    assert intervals == [
        (ts("2024-03-29 08:00"), ts("2024-03-29 16:00")),  # Friday, CET (UTC+1)
        (ts("2024-04-01 07:00"), ts("2024-04-01 15:00")),  # Monday, CEST (UTC+2)
    ]


def test_a_whole_day_on_a_dst_change_is_23_or_25_hours() -> None:
    always = BusinessHours.from_config({day: "00:00-24:00" for day in ("saturday", "sunday")})
    spring = open_intervals(always, "Europe/Amsterdam", date(2024, 3, 31), date(2024, 3, 31))
    autumn = open_intervals(always, "Europe/Amsterdam", date(2024, 10, 27), date(2024, 10, 27))
    assert open_minutes(spring, *spring[0]) == 23 * 60
    assert open_minutes(autumn, *autumn[0]) == 25 * 60


def test_holidays_and_split_days() -> None:
    hours = BusinessHours.from_config(
        {"monday": "08:00-12:00, 13:00-17:00", "tuesday": "closed"}, holidays=["2024-01-03"]
    )
    intervals = open_intervals(hours, "UTC", date(2024, 1, 1), date(2024, 1, 4))
    assert intervals == [
        (ts("2024-01-01 08:00"), ts("2024-01-01 12:00")),
        (ts("2024-01-01 13:00"), ts("2024-01-01 17:00")),
        (ts("2024-01-04 09:00"), ts("2024-01-04 17:00")),  # Wednesday 3rd is a holiday
    ]


@pytest.mark.parametrize("text", ["9-17", "17:00-09:00", "09:00-25:00", "09:60-10:00"])
def test_unreadable_opening_hours_are_rejected(text: str) -> None:
    with pytest.raises(ModelSettingsError):
        parse_opening_hours(text)


def test_overlapping_ranges_are_merged() -> None:
    assert parse_opening_hours(["08:00-12:00", "11:00-13:00", ""]) == ((480, 780),)


def _sla(tmp_path: Path, tickets: list[dict], as_of, settings: ModelSettings) -> dict:
    db = RawDatabase(tmp_path / "bh.duckdb")
    rows = [
        {"ticket_status": "Open", "customer_id": 1, "end_user_id": 500, **row} for row in tickets
    ]
    db.table("tickets", rows)
    run_models(db.con, as_of=as_of, settings=settings)
    return db.sla()


def test_a_weekend_does_not_count(tmp_path: Path) -> None:
    settings = ModelSettings(time_zone="Europe/Amsterdam", business_hours=OFFICE)
    friday_1630 = ts("2024-01-05 15:30")  # 16:30 in Amsterdam (CET)
    sla = _sla(
        tmp_path,
        [
            # answered Monday 12:00 local: 30 + 180 = 210 business minutes
            {
                "ticket_id": 1,
                "ticket_priority": "High",
                "ticket_created_date": friday_1630,
                "first_response_date": ts("2024-01-08 11:00"),
            },
            # unanswered; Monday 09:30 local is 60 business minutes later
            {"ticket_id": 2, "ticket_priority": "High", "ticket_created_date": friday_1630},
            # created on Saturday: the clock starts on Monday 09:00
            {
                "ticket_id": 3,
                "ticket_priority": "Critical",
                "ticket_created_date": ts("2024-01-06 10:00"),
                "first_response_date": ts("2024-01-08 09:00"),  # Monday 10:00 local
            },
        ],
        as_of=ts("2024-01-08 08:30"),
        settings=settings,
    )
    assert sla[1]["response_minutes"] == 210.0
    assert sla[1]["sla_status"] == "met"
    assert sla[1]["due_at"] == ts("2024-01-08 11:30")  # Monday 12:30 local
    assert sla[2]["elapsed_minutes"] == 60.0
    assert sla[2]["sla_status"] == "pending"
    assert sla[3]["response_minutes"] == 60.0
    assert sla[3]["sla_status"] == "met"
    assert sla[3]["due_at"] == ts("2024-01-08 09:00")


def test_the_same_tickets_in_calendar_minutes(tmp_path: Path) -> None:
    sla = _sla(
        tmp_path,
        [
            {
                "ticket_id": 1,
                "ticket_priority": "High",
                "ticket_created_date": ts("2024-01-05 15:30"),
                "first_response_date": ts("2024-01-08 11:00"),
            }
        ],
        as_of=ts("2024-01-08 12:00"),
        settings=ModelSettings(),
    )
    assert sla[1]["response_minutes"] == 4050.0  # 2 days 19.5 hours
    assert sla[1]["sla_status"] == "breached"


def test_a_holiday_does_not_count(tmp_path: Path) -> None:
    hours = BusinessHours.from_config(holidays=["2024-01-08"])
    sla = _sla(
        tmp_path,
        [
            {
                "ticket_id": 1,
                "ticket_priority": "High",
                "ticket_created_date": ts("2024-01-05 15:30"),
                "first_response_date": ts("2024-01-09 11:00"),  # Tuesday 12:00 local
            }
        ],
        as_of=ts("2024-01-10 00:00"),
        settings=ModelSettings(time_zone="Europe/Amsterdam", business_hours=hours),
    )
    assert sla[1]["response_minutes"] == 210.0


def test_business_minutes_across_the_spring_dst_change(tmp_path: Path) -> None:
    # America/New_York moves to daylight time on Sunday 2024-03-10.
    sla = _sla(
        tmp_path,
        [
            {
                "ticket_id": 1,
                "ticket_priority": "High",
                "ticket_created_date": ts("2024-03-08 21:00"),  # Friday 16:00 EST
                "first_response_date": ts("2024-03-11 14:00"),  # Monday 10:00 EDT
            }
        ],
        as_of=ts("2024-03-12 00:00"),
        settings=ModelSettings(time_zone="America/New_York", business_hours=OFFICE),
    )
    assert sla[1]["response_minutes"] == 120.0
    assert sla[1]["due_at"] == ts("2024-03-11 16:00")  # Monday 12:00 EDT


def test_due_time_across_the_autumn_dst_change(tmp_path: Path) -> None:
    # Europe/Amsterdam moves back to winter time on Sunday 2024-10-27.
    sla = _sla(
        tmp_path,
        [
            {
                "ticket_id": 1,
                "ticket_priority": "Low",  # 1440 minutes = three 8-hour days
                "ticket_created_date": ts("2024-10-25 07:00"),  # Friday 09:00 CEST
            }
        ],
        as_of=ts("2024-10-28 16:00"),  # Monday 17:00 CET: 960 minutes
        settings=ModelSettings(time_zone="Europe/Amsterdam", business_hours=OFFICE),
    )
    assert sla[1]["elapsed_minutes"] == 960.0
    assert sla[1]["sla_status"] == "pending"
    assert sla[1]["due_at"] == ts("2024-10-29 16:00")  # Tuesday 17:00 CET


def test_a_24_hour_desk_counts_23_hours_on_the_spring_dst_day(tmp_path: Path) -> None:
    always = BusinessHours.from_config(
        {day: "00:00-24:00" for day in ("monday", "saturday", "sunday")}
    )
    sla = _sla(
        tmp_path,
        [
            {
                "ticket_id": 1,
                "ticket_priority": "Low",
                "ticket_created_date": ts("2024-03-30 23:00"),  # Sunday 00:00 CET
                "first_response_date": ts("2024-03-31 22:00"),  # Monday 00:00 CEST
            }
        ],
        as_of=ts("2024-04-02 00:00"),
        settings=ModelSettings(time_zone="Europe/Amsterdam", business_hours=always),
    )
    assert sla[1]["response_minutes"] == 23 * 60
    assert sla[1]["sla_status"] == "met"


def _reference_due(intervals, created, target_minutes):
    counted = 0.0
    for opens, closes in intervals:
        start = max(opens, created)
        if closes <= start:
            continue
        minutes = (closes - start).total_seconds() / 60
        if counted + minutes >= target_minutes:
            return start + timedelta(minutes=target_minutes - counted)
        counted += minutes
    return None


def test_sql_clock_agrees_with_the_python_reference(tmp_path: Path) -> None:
    rng = random.Random(20240331)
    hours = BusinessHours.from_config(
        {"monday": "08:00-12:00, 13:00-18:00", "saturday": "10:00-12:00"},
        holidays=["2024-03-29", "2024-04-01"],
    )
    start = ts("2024-03-20 00:00")  # spans the change to summer time on 2024-03-31
    targets = {"Critical": 60, "High": 240, "Medium": 480, "Low": 1440}
    tickets = []
    for ticket_id in range(80):
        created = start + timedelta(minutes=rng.randrange(0, 60 * 24 * 20))
        answered = rng.random() < 0.7
        tickets.append(
            {
                "ticket_id": ticket_id,
                "ticket_priority": rng.choice(list(targets)),
                "ticket_created_date": created,
                "first_response_date": (
                    created + timedelta(minutes=rng.randrange(0, 60 * 24 * 6)) if answered else None
                ),
            }
        )
    as_of = start + timedelta(days=22)
    sla = _sla(
        tmp_path,
        tickets,
        as_of=as_of,
        settings=ModelSettings(time_zone="Europe/Amsterdam", business_hours=hours),
    )
    intervals = open_intervals(hours, "Europe/Amsterdam", date(2024, 3, 1), date(2024, 12, 31))
    for ticket in tickets:
        row = sla[ticket["ticket_id"]]
        created = ticket["ticket_created_date"]
        end = ticket["first_response_date"] or as_of
        assert row["elapsed_minutes"] == pytest.approx(open_minutes(intervals, created, end))
        target = targets[ticket["ticket_priority"]]
        assert row["due_at"] == _reference_due(intervals, created, target)
