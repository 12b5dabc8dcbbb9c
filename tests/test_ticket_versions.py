"""`atera_raw.ticket_versions`: each listed ticket as each sync saw it, never rewritten.

Against the real sandbox in both API shapes: a full sync stores one version of
every ticket, stamped with the sync's server time; a later sync that lists a
ticket whose priority changed adds a version with the new priority and keeps
the old one as it was.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import httpx
import pytest

from pipelines.sandbox import AteraSandbox
from pipelines.sync import run_sync
from tests.conftest import TEST_API_KEY, config_for
from tests.warehouse import expected_rows

VERSION_COLUMNS = (
    "ticket_id",
    "observed_at",
    "ticket_title",
    "ticket_priority",
    "ticket_status",
    "ticket_type",
    "ticket_impact",
    "ticket_source",
    "customer_id",
    "customer_name",
    "contract_id",
    "end_user_id",
    "technician_contact_id",
    "technician_full_name",
    "ticket_resolved_date",
    "first_response_date",
    "technician_first_comment_date",
    "first_response_due_date",
    "closed_ticket_due_date",
    "last_activity_date",
)
"""Written out here rather than read from the code, so that a renamed column fails."""


@pytest.fixture(params=["contract", "published"])
def sandbox(request: pytest.FixtureRequest) -> Iterator[AteraSandbox]:
    with AteraSandbox(
        api_key=TEST_API_KEY, tickets=30, seed=17, rate_limit=None, api_shape=request.param
    ) as server:
        yield server


def versions(duckdb_path: Path) -> list[dict[str, Any]]:
    """Every row of atera_raw.ticket_versions, with dlt's load id (to see rewrites)."""
    with duckdb.connect(str(duckdb_path), read_only=True) as con:
        con.execute("set TimeZone = 'UTC'")
        cursor = con.execute(
            f"select {', '.join(VERSION_COLUMNS)}, _dlt_load_id from atera_raw.ticket_versions"
        )
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def expected_versions(sandbox: AteraSandbox) -> dict[int, dict[str, Any]]:
    """What a version of each ticket the sandbox serves holds (declared columns only)."""
    rows = expected_rows(sandbox.snapshot()["tickets"])
    return {
        row["ticket_id"]: {c: row.get(c) for c in VERSION_COLUMNS if c != "observed_at"}
        for row in rows
    }


def raise_priority(sandbox: AteraSandbox) -> tuple[int, str, str]:
    """Change the priority of the newest ticket over the write API: (id, old, new)."""
    ticket = sandbox.snapshot()["tickets"][-1]
    old = ticket["TicketPriority"]
    new = "Low" if old == "Critical" else "Critical"
    with httpx.Client(base_url=sandbox.api_url, headers={"X-API-KEY": TEST_API_KEY}) as api:
        api.post(f"/tickets/{ticket['TicketID']}", json={"TicketPriority": new}).raise_for_status()
    return int(ticket["TicketID"]), old, new


def test_every_sync_adds_a_version_and_keeps_the_earlier_ones(
    sandbox: AteraSandbox, tmp_path: Path
) -> None:
    duckdb_path = tmp_path / "atera.duckdb"
    config = config_for(sandbox)

    first = run_sync(config, duckdb_path)
    before = versions(duckdb_path)
    served = expected_versions(sandbox)
    assert len(before) == 30
    assert {v["ticket_id"] for v in before} == set(served)
    assert {v["observed_at"] for v in before} == {first.report.server_time}
    for version in before:
        got = {c: version[c] for c in VERSION_COLUMNS if c != "observed_at"}
        assert got == served[version["ticket_id"]]
    if sandbox.api_shape == "published":  # both shapes' first-response fields land
        assert any(v["technician_first_comment_date"] for v in before)
        assert all(v["contract_id"] is not None for v in before)
    else:
        assert any(v["first_response_date"] for v in before)
        assert all(v["contract_id"] is None for v in before)  # the contract has no ContractID

    sandbox.advance(3600)
    ticket_id, old, new = raise_priority(sandbox)
    sandbox.advance(3600)  # out of the next sync's overlap window, so the third lists nothing
    second = run_sync(config, duckdb_path)
    after = versions(duckdb_path)

    # the earlier versions are still there, untouched (same values, same load)
    assert all(version in after for version in before)
    added = [v for v in after if v not in before]
    assert len(added) == second.report.tickets_listed > 0
    assert {v["observed_at"] for v in added} == {second.report.server_time}
    history = sorted(
        (v["observed_at"], v["ticket_priority"]) for v in after if v["ticket_id"] == ticket_id
    )
    assert history == [(first.report.server_time, old), (second.report.server_time, new)]

    # a sync that lists nothing adds nothing
    sandbox.advance(3600)
    third = run_sync(config, duckdb_path)
    assert third.report.tickets_listed == 0
    assert versions(duckdb_path) == after
