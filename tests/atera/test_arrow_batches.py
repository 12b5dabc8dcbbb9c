"""Row batches become typed Arrow tables only when every value fits its declared column."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pyarrow as pa

from pipelines.atera.arrow_batches import arrow_batches, arrow_schema, as_arrow
from pipelines.atera.schema import COMMENTS, TICKETS, WORK_HOURS

WHEN = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)


def comment(**fields: object) -> dict:
    row: dict = {
        "CommentKey": "501",
        "TicketID": 7,
        "CommentID": 501,
        "CommentText": "Rebooted the gateway",
        "CommentDate": WHEN,
        "IsInternal": False,
    }
    row.update(fields)
    return row


def test_rows_of_declared_columns_become_a_table_of_every_declared_column() -> None:
    rows = [comment(), comment(CommentKey="502", CommentID=502, CommentText=None)]

    table = as_arrow(COMMENTS, rows)

    assert isinstance(table, pa.Table)
    assert table.schema == arrow_schema(COMMENTS)
    assert table.column_names == [c.name for c in COMMENTS.columns]
    assert table.column("comment_key").to_pylist() == ["501", "502"]
    assert table.column("comment_text").to_pylist() == ["Rebooted the gateway", None]
    assert table.column("comment_date").to_pylist() == [WHEN, WHEN]
    assert table.column("email").null_count == 2  # a field no row has is a column of nulls


def test_an_aware_time_in_another_zone_is_the_same_instant_in_utc() -> None:
    paris = timezone(timedelta(hours=1))
    table = as_arrow(COMMENTS, [comment(CommentDate=WHEN.astimezone(paris))])

    assert isinstance(table, pa.Table)
    assert table.column("comment_date").to_pylist() == [WHEN]


def test_a_double_column_takes_ints_and_floats() -> None:
    row = {"WorkHourID": 1, "TicketID": 7, "RateAmount": 120}
    table = as_arrow(WORK_HOURS, [row, {**row, "WorkHourID": 2, "RateAmount": 95.5}])

    assert isinstance(table, pa.Table)
    assert table.column("rate_amount").to_pylist() == [120.0, 95.5]


def test_batches_that_dlt_must_see_as_dicts_stay_dicts() -> None:
    odd_batches = {
        "a field the schema does not declare": [comment(Mood="happy")],
        "a date kept as text (a variant column)": [comment(CommentDate="31/02/2026")],
        "an id sent as text": [comment(TicketID="7")],
        "a bool for a bigint": [comment(CommentID=True)],
        "an int for a bool": [comment(IsInternal=1)],
        "a naive datetime": [comment(CommentDate=datetime(2026, 3, 1, 9, 30))],
        "two fields for one column": [comment(ticketId=7)],
        "a missing key": [comment(CommentKey=None)],
        "an int beyond 64 bits": [comment(CommentID=2**70)],
    }
    for reason, rows in odd_batches.items():
        assert as_arrow(COMMENTS, rows) is rows, reason


def test_one_odd_batch_does_not_turn_the_others_into_dicts() -> None:
    good = [{"TicketID": 1, "TicketTitle": "Printer"}]
    odd = [{"TicketID": 2, "TicketTitle": "VPN", "Unknown": 1}]

    out = list(arrow_batches(TICKETS, [good, [], odd, good]))

    assert [type(batch) for batch in out] == [pa.Table, list, pa.Table]
    assert out[1] is odd
