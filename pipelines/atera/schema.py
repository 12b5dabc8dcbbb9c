"""The raw schema, declared once: every table `atera_raw` holds, its key and typed columns.

Both API shapes are covered: the ticket contract's fields and the fields of
Atera's published API (`technician_first_comment_date`, `work_hours_id`,
`billiable` [sic], ...) each have their own column, and the staging models
unify them. From this one declaration come

* the dlt column hints of every resource (`dlt_columns`): declared columns are
  created, typed, even when every value is null, so a column never goes
  missing because an account never filled it;
* the raw tables and columns created empty before the SQL models run
  (`pipelines.raw_tables`), and the columns of the dbt sources in
  `sql/models/sources.yml` (`sql_columns`; a test checks that they agree).

The documented ticket statuses and priorities live here too: a value outside
them is loaded as sent and reported as a problem.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from dlt.common.schema.typing import TTableSchemaColumns

DataType = Literal["bigint", "text", "timestamp", "bool", "double"]

SQL_TYPES: Mapping[str, str] = {
    "bigint": "bigint",
    "text": "varchar",
    "timestamp": "timestamptz",
    "bool": "boolean",
    "double": "double precision",
}
"""dlt data type -> the SQL type a warehouse column of it has."""

TICKET_STATUSES = ("Open", "Pending", "Resolved", "Closed")
CLOSED_STATUS = "Closed"
TICKET_PRIORITIES = ("Low", "Medium", "High", "Critical")


@dataclass(frozen=True)
class Column:
    """One raw column: its snake_case name, dlt data type and whether it may be null."""

    name: str
    data_type: DataType
    nullable: bool = True


@dataclass(frozen=True)
class RawTable:
    """One table of `atera_raw`.

    Attributes:
        name: the table name.
        primary_key: the columns a row is merged on.
        merge_key: rows whose merge key appears in a load are replaced whole
            (a ticket's comments and work hours), or None.
        columns: every column the loader declares and the models may read.
    """

    name: str
    primary_key: tuple[str, ...]
    columns: tuple[Column, ...]
    merge_key: str | None = None


def _columns(not_null: tuple[str, ...] = (), **types: DataType) -> tuple[Column, ...]:
    return tuple(Column(name, data_type, name not in not_null) for name, data_type in types.items())


TICKETS = RawTable(
    "tickets",
    primary_key=("ticket_id",),
    columns=_columns(
        ("ticket_id",),
        ticket_id="bigint",
        ticket_number="text",
        ticket_title="text",
        description="text",
        first_comment="text",
        ticket_priority="text",
        ticket_status="text",
        ticket_type="text",
        ticket_impact="text",
        ticket_source="text",
        customer_id="bigint",
        customer_name="text",
        contract_id="bigint",
        end_user_id="bigint",
        end_user_email="text",
        end_user_first_name="text",
        end_user_last_name="text",
        technician_contact_id="bigint",
        technician_full_name="text",
        technician_email="text",
        ticket_created_date="timestamp",
        ticket_resolved_date="timestamp",
        first_response_date="timestamp",
        technician_first_comment_date="timestamp",
        last_activity_date="timestamp",
        last_end_user_comment_timestamp="timestamp",
        last_technician_comment_timestamp="timestamp",
        due_date="timestamp",
        first_response_due_date="timestamp",
        closed_ticket_due_date="timestamp",
    ),
)

COMMENTS = RawTable(
    "comments",
    primary_key=("comment_key",),
    merge_key="ticket_id",
    columns=_columns(
        ("comment_key", "ticket_id"),
        comment_key="text",
        ticket_id="bigint",
        comment_id="bigint",
        comment_text="text",
        comment="text",
        comment_html="text",
        comment_date="timestamp",
        date="timestamp",
        creator_contact_id="bigint",
        end_user_id="bigint",
        technician_contact_id="bigint",
        email="text",
        first_name="text",
        last_name="text",
        is_internal="bool",
    ),
)

WORK_HOURS = RawTable(
    "work_hours",
    primary_key=("work_hour_id",),
    merge_key="ticket_id",
    columns=_columns(
        ("work_hour_id", "ticket_id"),
        work_hour_id="bigint",
        work_hours_id="bigint",
        ticket_id="bigint",
        technician_contact_id="bigint",
        start_date="timestamp",
        end_date="timestamp",
        start_work_hour="timestamp",
        end_work_hour="timestamp",
        duration="bigint",
        is_billable="bool",
        billiable="bool",
        on_customer_site="bool",
        rate_amount="double",
        notes="text",
    ),
)

BILLABLE_DURATIONS = RawTable(
    "billable_durations",
    primary_key=("ticket_id",),
    columns=_columns(
        ("ticket_id",),
        ticket_id="bigint",
        total_billable_duration="bigint",
        total_billable_hours="double",
    ),
)

TICKET_STATUS_SNAPSHOTS = RawTable(
    "ticket_status_snapshots",
    primary_key=("ticket_id", "observed_at"),
    columns=_columns(
        ("ticket_id", "observed_at"),
        ticket_id="bigint",
        ticket_status="text",
        ticket_priority="text",
        observed_at="timestamp",
        last_activity_date="timestamp",
    ),
)

TICKET_VERSIONS = RawTable(
    "ticket_versions",
    primary_key=("ticket_id", "observed_at"),
    columns=_columns(
        ("ticket_id", "observed_at"),
        ticket_id="bigint",
        observed_at="timestamp",
        ticket_title="text",
        ticket_priority="text",
        ticket_status="text",
        ticket_type="text",
        ticket_impact="text",
        ticket_source="text",
        customer_id="bigint",
        customer_name="text",
        contract_id="bigint",
        end_user_id="bigint",
        technician_contact_id="bigint",
        technician_full_name="text",
        ticket_resolved_date="timestamp",
        first_response_date="timestamp",
        technician_first_comment_date="timestamp",
        first_response_due_date="timestamp",
        closed_ticket_due_date="timestamp",
        last_activity_date="timestamp",
    ),
)
"""Each listed ticket as one sync saw it (its server time in `observed_at`): a ticket's
history of priority, status, technician, customer and contract, for as-of reports."""

CUSTOMERS = RawTable(
    "customers",
    primary_key=("customer_id",),
    columns=_columns(
        ("customer_id",),
        customer_id="bigint",
        customer_name="text",
        business_number="text",
        domain="text",
        city="text",
        state="text",
        country="text",
        created_on="timestamp",
        last_modified="timestamp",
    ),
)
"""Atera's customers (`GET /customers`), replaced whole by each sync."""

CONTRACTS = RawTable(
    "contracts",
    primary_key=("contract_id",),
    columns=_columns(
        ("contract_id",),
        contract_id="bigint",
        customer_id="bigint",
        customer_name="text",
        contract_name="text",
        contract_type="text",
        active="bool",
        is_default="bool",
        start_date="timestamp",
        end_date="timestamp",
    ),
)
"""Atera's contracts (`GET /contracts`; the API's `Default` is `is_default`), replaced
whole by each sync."""

DELETED_TICKETS = RawTable(
    "deleted_tickets",
    primary_key=("ticket_id",),
    columns=_columns(("ticket_id",), ticket_id="bigint", deleted_at="timestamp"),
)

RAW_TABLES: Mapping[str, RawTable] = {
    table.name: table
    for table in (
        TICKETS,
        COMMENTS,
        WORK_HOURS,
        BILLABLE_DURATIONS,
        TICKET_STATUS_SNAPSHOTS,
        TICKET_VERSIONS,
        CUSTOMERS,
        CONTRACTS,
        DELETED_TICKETS,
    )
}
"""Every table of `atera_raw`, by name."""

DLT_COLUMNS: Mapping[str, str] = {"_dlt_load_id": "varchar", "_dlt_id": "varchar"}
"""dlt's own columns on every table, as the SQL side sees them."""


def dlt_columns(table: RawTable) -> TTableSchemaColumns:
    """The dlt column hints of a table: typed, timestamps with time zone, keys not null."""
    hints: TTableSchemaColumns = {}
    for column in table.columns:
        hint: dict[str, Any] = {
            "name": column.name,
            "data_type": column.data_type,
            "nullable": column.nullable,
        }
        if column.data_type == "timestamp":
            hint["timezone"] = True
        hints[column.name] = hint  # type: ignore[assignment]
    return hints


def sql_columns(table: RawTable) -> dict[str, str]:
    """Declared column -> SQL type of a table (dlt's own columns are in `DLT_COLUMNS`)."""
    return {column.name: SQL_TYPES[column.data_type] for column in table.columns}
