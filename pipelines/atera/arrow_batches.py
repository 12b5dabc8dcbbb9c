"""Hand dlt typed Arrow tables instead of lists of dicts where the rows allow it.

dlt normalizes a list of dicts row by row in Python (about 25 µs a row: most
of a full sync's normalize step); an Arrow table it only checks and writes as
Parquet. A batch becomes an Arrow table, one column per declared column of its
raw table (`pipelines.atera.schema`, in that order, null where a row lacks the
field), when every value is exactly of its column's type: an int for `bigint`,
a str for `text`, an aware datetime for `timestamp`, a bool for `bool`, a float
or int for `double`, or None.

Any other batch is handed over as dicts, as before, so that dlt treats it as it
always did: a field the schema does not declare gets its own column, a date
kept as text goes to a variant column (`..._v_text`), a value of another type
is coerced by dlt. The warehouse is the same either way.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import Any, TypeAlias

import pyarrow as pa

from pipelines.atera.records import column_name
from pipelines.atera.schema import Column, RawTable

ARROW_TYPES: dict[str, pa.DataType] = {
    "bigint": pa.int64(),
    "text": pa.string(),
    "timestamp": pa.timestamp("us", tz="UTC"),
    "bool": pa.bool_(),
    "double": pa.float64(),
}
"""dlt data type -> the Arrow type of its column."""

_PYTHON_TYPES: dict[str, tuple[type, ...]] = {
    "bigint": (int,),
    "text": (str,),
    "timestamp": (datetime,),
    "bool": (bool,),
    "double": (float, int),
}
"""dlt data type -> the Python types a value of it may have (exactly, no subclass but datetime)."""

Batch: TypeAlias = list[dict[str, Any]] | pa.Table


def arrow_batches(table: RawTable, batches: Iterable[list[dict[str, Any]]]) -> Iterator[Batch]:
    """Each batch of rows as an Arrow table of `table`'s columns where it can be, else as is."""
    for rows in batches:
        if rows:
            yield as_arrow(table, rows)


def as_arrow(table: RawTable, rows: list[dict[str, Any]]) -> Batch:
    """One batch as an Arrow table of `table`'s declared columns, or the rows unchanged.

    The rows stay dicts when a field is not a declared column, when two fields
    land in the same column, or when a value is not exactly of its column's type.
    """
    columns = {column.name: column for column in table.columns}
    fields: dict[str, str] = {}  # API field -> column
    for row in rows:
        for field in row:
            if field not in fields:
                fields[field] = column_name(field)
    if len(set(fields.values())) != len(fields) or not set(fields.values()) <= columns.keys():
        return rows
    by_column = {column: field for field, column in fields.items()}
    arrays = []
    for column in table.columns:
        name = by_column.get(column.name)
        values = [row.get(name) for row in rows] if name else [None] * len(rows)
        array = _array(column, values)
        if array is None:
            return rows
        arrays.append(array)
    return pa.Table.from_arrays(arrays, schema=arrow_schema(table))


def arrow_schema(table: RawTable) -> pa.Schema:
    """The Arrow schema of a raw table's declared columns."""
    return pa.schema(
        [pa.field(c.name, ARROW_TYPES[c.data_type], nullable=c.nullable) for c in table.columns]
    )


def _array(column: Column, values: list[Any]) -> pa.Array | None:
    """The values as an Arrow array of the column's type; None if one does not fit exactly."""
    allowed = _PYTHON_TYPES[column.data_type]
    timestamp = column.data_type == "timestamp"
    for value in values:
        if value is None:
            if not column.nullable:
                return None
            continue
        if timestamp:
            if not isinstance(value, datetime) or value.tzinfo is None:
                return None
        elif type(value) not in allowed:
            return None
    try:
        return pa.array(values, type=ARROW_TYPES[column.data_type])
    except (pa.ArrowException, TypeError, ValueError, OverflowError):
        return None
