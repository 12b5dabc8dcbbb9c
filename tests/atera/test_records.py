"""Timestamps in every shape Atera sends become UTC datetimes."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from pipelines.atera.records import normalize_record, parse_timestamp

NINE_UTC = datetime(2024, 2, 15, 9, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    "text",
    [
        "2024-02-15T09:00:00Z",
        "2024-02-15T10:00:00+01:00",
        "2024-02-15T04:00:00-05:00",
        "2024-02-15T09:00:00",
        "2024-02-15T09:00:00.0000000",
        "2024-02-15T09:00:00.000Z",
    ],
)
def test_timestamps_in_every_shape_become_utc(text):
    assert parse_timestamp(text) == NINE_UTC


def test_fractional_seconds_beyond_microseconds_are_truncated():
    parsed = parse_timestamp("2024-02-15T09:00:00.1234567Z")
    assert parsed == datetime(2024, 2, 15, 9, 0, 0, 123456, tzinfo=UTC)


def test_unreadable_values_are_kept_as_sent():
    assert parse_timestamp("next tuesday") == "next tuesday"
    assert parse_timestamp(None) is None
    assert parse_timestamp("") == ""


def test_normalize_record_parses_known_date_fields_only():
    row = normalize_record(
        {"TicketID": 1, "TicketCreatedDate": "2024-02-15T09:00:00Z", "TicketTitle": "2024-02-15"},
        observed_at=NINE_UTC,
    )
    assert row == {
        "TicketID": 1,
        "TicketCreatedDate": NINE_UTC,
        "TicketTitle": "2024-02-15",
        "observed_at": NINE_UTC,
    }


def test_seed_comments_are_keyed_by_their_id():
    from pipelines.atera.records import comment_keys

    assert comment_keys(7, [{"CommentID": 11}, {"CommentID": 12}]) == ["11", "12"]


def test_id_less_comments_get_stable_distinct_keys():
    from pipelines.atera.records import comment_keys

    hello = {"Date": "2024-02-15T09:00:00", "Comment": "hello", "TechnicianContactID": 3}
    bye = {**hello, "Comment": "bye"}
    first = comment_keys(7, [hello, bye, hello])
    assert len(set(first)) == 3  # an exact repeat stays a separate row
    assert comment_keys(7, [hello, bye, hello]) == first  # stable across syncs
    assert comment_keys(8, [hello])[0] != first[0]  # the ticket is part of the key
    internal = {**hello, "IsInternal": True}
    assert comment_keys(7, [internal])[0] != first[0]


def test_naive_timestamps_can_be_read_in_the_account_zone():
    from zoneinfo import ZoneInfo

    parsed = parse_timestamp("2024-07-01T10:00:00", ZoneInfo("Europe/Amsterdam"))
    assert parsed == datetime(2024, 7, 1, 8, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    "text",
    [
        "/Date(1707987600000)/",
        "/Date(1707987600000+0100)/",  # the suffix is the sender's offset, not a shift
        "/Date(1707987600000-0500)/",
        "\\/Date(1707987600000)\\/",  # as escaped in JSON text
        "2024-02-15T09:00:00.1234567",
        "2024-02-15T10:00:00.0000000+01:00",
    ],
)
def test_dotnet_dates_and_seven_digit_fractions_are_instants(text):
    assert parse_timestamp(text).replace(microsecond=0) == NINE_UTC


def test_dates_before_the_epoch_and_naive_zones():
    from zoneinfo import ZoneInfo

    assert parse_timestamp("/Date(-86400000)/") == datetime(1969, 12, 31, tzinfo=UTC)
    paris = ZoneInfo("Europe/Paris")
    assert parse_timestamp("2024-02-15T10:00:00", paris) == NINE_UTC
    # a .NET date is an instant whatever the account's zone
    assert parse_timestamp("/Date(1707987600000)/", paris) == NINE_UTC


def test_unreadable_dates_are_kept_and_reported():
    from pipelines.atera.records import Problems

    problems = Problems()
    row = normalize_record(
        {"TicketID": 7, "TicketCreatedDate": "/Date(soon)/", "StartWorkHour": "yesterday"},
        problems=problems,
    )
    assert row["TicketCreatedDate"] == "/Date(soon)/"
    assert row["StartWorkHour"] == "yesterday"
    assert len(problems.items) == 2
    assert "ticket 7: TicketCreatedDate" in problems.items[0]
    assert "ticket_created_date__v_text" in problems.items[0]


def test_date_fields_of_both_shapes_come_from_the_raw_schema():
    row = normalize_record(
        {
            "StartWorkHour": "/Date(1707987600000)/",
            "Date": "2024-02-15T09:00:00Z",
            "LastEndUserCommentTimestamp": "2024-02-15T09:00:00",
            "Comment": "2024-02-15T09:00:00Z",
        }
    )
    assert row["StartWorkHour"] == row["Date"] == row["LastEndUserCommentTimestamp"] == NINE_UTC
    assert row["Comment"] == "2024-02-15T09:00:00Z"  # text that looks like a date stays text
