"""The audited SLA rules end to end: the sandbox's audit tickets and a reopened ticket,
synced over HTTP on both API shapes, judged by the marts."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import duckdb
import pytest

from pipelines.models import run_models
from pipelines.sandbox import AteraSandbox
from pipelines.sync import run_sync
from tests.conftest import TEST_API_KEY, config_for


def facts(path: Path, mart: str = "fct_ticket_first_response_sla") -> dict[int, dict]:
    with duckdb.connect(str(path)) as con:
        cursor = con.execute(f"select * from analytics.{mart}")
        names = [c[0] for c in cursor.description]
        return {row[0]: dict(zip(names, row, strict=True)) for row in cursor.fetchall()}


def build(path: Path) -> None:
    with duckdb.connect(str(path)) as con:
        run_models(con)


@pytest.mark.parametrize("api_shape", ["contract", "published"])
def test_audit_tickets_and_a_reopened_ticket(tmp_path: Path, api_shape: str) -> None:
    path = tmp_path / "atera.duckdb"
    with AteraSandbox(
        api_key=TEST_API_KEY,
        tickets=40,
        seed=3,
        rate_limit=None,
        api_shape=api_shape,
        sla_audit_tickets=True,
    ) as sandbox:
        ids = sandbox.sla_audit_ids
        config = config_for(sandbox)
        # a Critical ticket resolved after 20 minutes, seen so by a sync ...
        created = sandbox.store.create_ticket(
            {
                "TicketTitle": "printer on fire",
                "TicketPriority": "Critical",
                "CustomerID": sandbox.store.customers and next(iter(sandbox.store.customers)),
            }
        )
        reopened = created["TicketID"]
        sandbox.advance(20 * 60)
        sandbox.store.update_ticket(reopened, {"TicketStatus": "Resolved"})
        sandbox.advance(5 * 60)
        run_sync(config, path)
        # ... reopened the next day and resolved again the day after
        sandbox.advance(86_400)
        sandbox.store.update_ticket(reopened, {"TicketStatus": "Open"})
        sandbox.advance(600)
        run_sync(config, path)
        sandbox.advance(86_400)
        sandbox.store.update_ticket(reopened, {"TicketStatus": "Resolved"})
        sandbox.advance(600)
        run_sync(config, path)
        build(path)

    sla = facts(path)
    # resolved at +10, answered at +90: met at the resolution
    row = sla[ids["resolved_in_time"]]
    assert (row["sla_status"], row["fulfilled_by"], row["response_minutes"]) == (
        "met",
        "resolution",
        10.0,
    )
    # the comment at +30 counts, not the field at +300
    row = sla[ids["late_first_response_field"]]
    assert (row["first_response_source"], row["response_minutes"]) == ("technician_comment", 30.0)
    assert row["sla_status"] == "met"
    # the field 15 minutes before creation is the earliest response, and listed
    row = sla[ids["first_response_before_creation"]]
    assert row["response_minutes"] == 0.0
    with duckdb.connect(str(path)) as con:
        anomalies = dict(
            con.execute(
                "select ticket_id, reason from analytics.dq_first_response_anomalies"
            ).fetchall()
        )
    assert anomalies[ids["late_first_response_field"]] == "api_field_after_public_comment"
    assert anomalies[ids["first_response_before_creation"]] == "api_field_before_creation"
    # judged at its first resolution (+20 minutes), not at the one two days later
    row = sla[reopened]
    assert row["fulfilled_by"] == "resolution"
    assert row["response_minutes"] == pytest.approx(20.0, abs=0.1)
    assert row["sla_status"] == "met"
    resolution = facts(path, "fct_ticket_resolution_sla")[reopened]
    assert resolution["reopen_count"] == 1
    assert resolution["resolved_at"] - resolution["first_resolved_at"] > timedelta(days=1)
