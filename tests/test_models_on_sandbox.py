"""The SLA marts on synced sandbox data equal the SLA definition computed in Python."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime

import duckdb
import pytest

from pipelines.atera.records import parse_timestamp
from pipelines.models import run_models
from pipelines.sandbox import AteraSandbox
from pipelines.sync import run_sync
from tests.conftest import TEST_API_KEY, config_for

TARGETS = {"Critical": 60, "High": 240, "Medium": 480, "Low": 1440}
PRIORITY_ORDER = ["Critical", "High", "Medium", "Low"]


def first_response(ticket: dict, comments: list[dict]) -> datetime | None:
    """The definition, on either API shape: the earliest of the API's field (seed:
    FirstResponseDate; published: TechnicianFirstCommentDate) and the earliest public
    comment by a technician (seed: CreatorContactID other than the ticket's end user;
    published: TechnicianContactID on the comment)."""
    api_value = ticket.get("FirstResponseDate") or ticket.get("TechnicianFirstCommentDate")

    def by_technician(comment: dict) -> bool:
        if "CreatorContactID" in comment:
            return comment["CreatorContactID"] != ticket["EndUserID"]
        return comment.get("TechnicianContactID") is not None

    candidates = [
        parse_timestamp(c.get("CommentDate") or c.get("Date"))
        for c in comments
        if c["TicketID"] == ticket["TicketID"] and not c["IsInternal"] and by_technician(c)
    ]
    if api_value:
        candidates.append(parse_timestamp(api_value))
    return min(candidates, default=None)


def expected_statuses(snapshot: dict, as_of: datetime) -> dict[str, Counter]:
    """The SLA definition (docs/sla.md), applied to the API's data of one sync: fulfilled
    at the earliest of the first response and the resolution."""
    by_priority: dict[str, Counter] = {}
    for ticket in snapshot["tickets"]:
        priority = ticket.get("TicketPriority")
        target = TARGETS.get(priority)
        bucket = by_priority.setdefault(priority if target else "Unknown", Counter())
        bucket["tickets"] += 1
        if target is None:
            continue
        created = parse_timestamp(ticket["TicketCreatedDate"])
        candidates = [
            first_response(ticket, snapshot["comments"]),
            parse_timestamp(ticket.get("TicketResolvedDate")),
        ]
        fulfilled = min((c for c in candidates if c is not None), default=None)
        if fulfilled is not None:
            minutes = (fulfilled - created).total_seconds() / 60
            bucket["met" if minutes <= target else "breached"] += 1
        elif (as_of - created).total_seconds() / 60 > target:
            bucket["breached"] += 1
        else:
            bucket["pending"] += 1
    return by_priority


@pytest.fixture(scope="module", params=["contract", "published"])
def synced(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory):
    duckdb_path = tmp_path_factory.mktemp("models") / "atera.duckdb"
    with AteraSandbox(
        api_key=TEST_API_KEY, tickets=400, seed=21, rate_limit=None, api_shape=request.param
    ) as sandbox:
        run_sync(config_for(sandbox), duckdb_path)
        yield duckdb_path, sandbox.snapshot()


def test_data_tests_pass_and_compliance_matches_the_definition(synced):
    duckdb_path, snapshot = synced
    as_of = datetime.now(UTC).replace(microsecond=0)
    with duckdb.connect(str(duckdb_path)) as con:
        result = run_models(con, as_of=as_of)
        assert result.tests_passed > 0
        rows = con.execute(
            "select ticket_priority, tickets, met, breached, pending, compliance_pct "
            "from analytics.sla_first_response_by_priority order by priority_rank"
        ).fetchall()
    expected = expected_statuses(snapshot, as_of)
    order = [p for p in PRIORITY_ORDER] + (["Unknown"] if "Unknown" in expected else [])
    assert [r[0] for r in rows] == order
    for priority, tickets, met, breached, pending, compliance in rows:
        want = expected.get(priority, Counter())
        assert (tickets, met, breached, pending) == (
            want["tickets"],
            want["met"],
            want["breached"],
            want["pending"],
        ), priority
        if met + breached:
            assert compliance == pytest.approx(100 * met / (met + breached), abs=0.1)
    # the sandbox's data is believable: neither perfect nor hopeless
    total_met = sum(r[2] for r in rows)
    total_breached = sum(r[3] for r in rows)
    assert 0.6 < total_met / (total_met + total_breached) < 0.97
