"""Seeded data: determinism, realistic distributions and internal consistency."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterator
from datetime import timedelta

import pytest

from pipelines.sandbox import AteraSandbox
from pipelines.sandbox.data import TicketStore
from tests.sandbox import FIXED_NOW, client, make_sandbox, parse_z

SLA_MINUTES = {"Critical": 60, "High": 240, "Medium": 480, "Low": 1440}
TICKETS = 2847


@pytest.fixture(scope="module")
def snap() -> dict[str, list[dict]]:
    return TicketStore(tickets=TICKETS, seed=42, now=FIXED_NOW).snapshot()


@pytest.fixture(scope="module")
def technicians() -> set[int]:
    return set(TicketStore(tickets=1, seed=42, now=FIXED_NOW).technicians)


def _first_public_tech_comment(snap: dict, technicians: set[int]) -> dict[int, str]:
    first: dict[int, str] = {}
    ordered = sorted(snap["comments"], key=lambda c: (c["CommentDate"], c["CommentID"]))
    for comment in ordered:
        if not comment["IsInternal"] and comment["CreatorContactID"] in technicians:
            first.setdefault(comment["TicketID"], comment["CommentDate"])
    return first


# --------------------------------------------------------------------------- determinism


def test_same_seed_and_now_give_identical_data_over_http() -> None:
    first = make_sandbox(tickets=300, seed=7)
    second = make_sandbox(tickets=300, seed=7)
    try:
        assert first.snapshot() == second.snapshot()
        with client(first) as a, client(second) as b:
            params = {"page": 3, "itemsInPage": 50}
            assert (
                a.get("/tickets", params=params).json() == b.get("/tickets", params=params).json()
            )
            assert (
                a.get("/tickets/10123/comments").json() == b.get("/tickets/10123/comments").json()
            )
    finally:
        first.stop()
        second.stop()


def test_other_seed_or_now_give_other_data() -> None:
    base = AteraSandbox(tickets=100, seed=7, now=FIXED_NOW).snapshot()
    assert AteraSandbox(tickets=100, seed=8, now=FIXED_NOW).snapshot() != base
    later = AteraSandbox(tickets=100, seed=7, now=FIXED_NOW + timedelta(days=1)).snapshot()
    assert later != base
    assert [t["TicketTitle"] for t in later["tickets"]] == [
        t["TicketTitle"] for t in base["tickets"]
    ]


def test_generation_is_fast() -> None:
    started = time.perf_counter()
    store = TicketStore(tickets=TICKETS, seed=42)
    assert time.perf_counter() - started < 1.0
    assert len(store) == TICKETS


# --------------------------------------------------------------------------- ids and people


def test_id_ranges(snap: dict, technicians: set[int]) -> None:
    store = TicketStore(tickets=1, seed=42, now=FIXED_NOW)
    ids = [t["TicketID"] for t in snap["tickets"]]
    assert ids == list(range(10001, 10001 + TICKETS))
    comment_ids = [c["CommentID"] for c in snap["comments"]]
    assert comment_ids == list(range(500001, 500001 + len(comment_ids)))
    work_ids = [w["WorkHourID"] for w in snap["work_hours"]]
    assert work_ids == list(range(900001, 900001 + len(work_ids)))
    assert technicians == set(range(1001, 1009))
    assert 35 <= len(store.customers) <= 45 and min(store.customers) == 501
    assert min(store.end_users) == 20001
    assert 3 * len(store.customers) <= len(store.end_users) <= 5 * len(store.customers)
    for user in store.end_users.values():
        assert user.email.endswith("@" + store.customers[user.customer_id].domain)


def test_ticket_people_are_consistent(snap: dict) -> None:
    store = TicketStore(tickets=1, seed=42, now=FIXED_NOW)
    for ticket in snap["tickets"]:
        user = store.end_users[ticket["EndUserID"]]
        assert ticket["CustomerID"] == user.customer_id
        assert ticket["CustomerName"] == store.customers[user.customer_id].name
        assert ticket["EndUserEmail"] == user.email
        if ticket["TechnicianContactID"] is not None:
            tech = store.technicians[ticket["TechnicianContactID"]]
            assert ticket["TechnicianFullName"] == tech.full_name
        else:
            assert ticket["TicketStatus"] == "Open"


# --------------------------------------------------------------------------- distributions


def test_priority_mix(snap: dict) -> None:
    share = Counter(t["TicketPriority"] for t in snap["tickets"])
    assert 0.02 <= share["Critical"] / TICKETS <= 0.08
    assert 0.15 <= share["High"] / TICKETS <= 0.25
    assert 0.40 <= share["Medium"] / TICKETS <= 0.50
    assert 0.25 <= share["Low"] / TICKETS <= 0.35


def test_status_mix_and_backlog(snap: dict) -> None:
    tickets = snap["tickets"]
    backlog = [t for t in tickets if t["TicketStatus"] != "Closed"]
    assert 0.06 <= len(backlog) / TICKETS <= 0.10
    old = [t for t in tickets if FIXED_NOW - parse_z(t["TicketCreatedDate"]) > timedelta(days=45)]
    assert sum(t["TicketStatus"] == "Closed" for t in old) / len(old) > 0.95
    assert {t["TicketStatus"] for t in old} <= {"Closed", "Resolved", "Pending"}
    recent = Counter(
        t["TicketStatus"]
        for t in tickets
        if FIXED_NOW - parse_z(t["TicketCreatedDate"]) < timedelta(days=7)
    )
    assert all(recent[s] > 0 for s in ("Open", "Pending", "Resolved", "Closed"))


def test_created_dates_span_a_year_denser_recently(snap: dict) -> None:
    created = [parse_z(t["TicketCreatedDate"]) for t in snap["tickets"]]
    assert all(FIXED_NOW - timedelta(days=365) <= c < FIXED_NOW for c in created)
    last_quarter = sum(FIXED_NOW - c < timedelta(days=91) for c in created)
    first_quarter = sum(FIXED_NOW - c > timedelta(days=274) for c in created)
    assert last_quarter > 2 * first_quarter > 0


def test_first_response_sla_is_believable(snap: dict, technicians: set[int]) -> None:
    first = _first_public_tech_comment(snap, technicians)
    met: Counter[str] = Counter()
    total: Counter[str] = Counter()
    for ticket in snap["tickets"]:
        if ticket["TicketID"] not in first:
            continue
        created = parse_z(ticket["TicketCreatedDate"])
        minutes = (parse_z(first[ticket["TicketID"]]) - created).total_seconds() / 60
        assert minutes > 0
        total[ticket["TicketPriority"]] += 1
        met[ticket["TicketPriority"]] += minutes <= SLA_MINUTES[ticket["TicketPriority"]]
    rates = {p: met[p] / total[p] for p in total}
    assert all(0.70 <= rate <= 0.95 for rate in rates.values()), rates
    assert 0.75 <= sum(met.values()) / sum(total.values()) <= 0.90
    assert max(rates.values()) - min(rates.values()) > 0.01


def test_first_response_date_matches_comment_or_is_legacy_null(
    snap: dict, technicians: set[int]
) -> None:
    first = _first_public_tech_comment(snap, technicians)
    answered = [t for t in snap["tickets"] if t["TicketID"] in first]
    legacy = [t for t in answered if t["FirstResponseDate"] is None]
    assert 0.02 <= len(legacy) / len(answered) <= 0.08
    for ticket in answered:
        if ticket["FirstResponseDate"] is not None:
            assert ticket["FirstResponseDate"] == first[ticket["TicketID"]]
    unanswered = [t for t in snap["tickets"] if t["TicketID"] not in first]
    assert unanswered and all(t["TicketStatus"] == "Open" for t in unanswered)
    assert all(t["FirstResponseDate"] is None for t in unanswered)


# --------------------------------------------------------------------------- consistency


def test_comments_per_ticket_and_timing(snap: dict, technicians: set[int]) -> None:
    tickets = {t["TicketID"]: t for t in snap["tickets"]}
    per_ticket = Counter(c["TicketID"] for c in snap["comments"])
    assert set(per_ticket) == set(tickets)
    assert min(per_ticket.values()) >= 1 and max(per_ticket.values()) <= 8
    kinds = Counter()
    for comment in snap["comments"]:
        ticket = tickets[comment["TicketID"]]
        assert ticket["TicketCreatedDate"] < comment["CommentDate"] <= "2025-03-14T12:00:00Z"
        if comment["CreatorContactID"] in technicians:
            kinds["internal" if comment["IsInternal"] else "public tech"] += 1
        else:
            assert comment["CreatorContactID"] == ticket["EndUserID"]
            assert comment["IsInternal"] is False
            kinds["end user"] += 1
    assert all(kinds[k] > 500 for k in ("internal", "public tech", "end user")), kinds


def test_work_hours_shape_and_mix(snap: dict) -> None:
    tickets = {t["TicketID"]: t for t in snap["tickets"]}
    per_ticket = Counter(w["TicketID"] for w in snap["work_hours"])
    assert max(per_ticket.values()) <= 4
    billable = sum(w["IsBillable"] for w in snap["work_hours"]) / len(snap["work_hours"])
    assert 0.6 <= billable <= 0.8
    for record in snap["work_hours"]:
        start, end = parse_z(record["StartDate"]), parse_z(record["EndDate"])
        assert record["Duration"] == (end - start).total_seconds()
        assert 15 * 60 <= record["Duration"] <= 4 * 3600
        ticket = tickets[record["TicketID"]]
        assert record["TechnicianContactID"] == ticket["TechnicianContactID"]
        assert ticket["TicketCreatedDate"] < record["StartDate"] and end <= FIXED_NOW
    closed_share = sum(
        tickets[tid]["TicketStatus"] in ("Resolved", "Closed") for tid in per_ticket
    ) / len(per_ticket)
    assert closed_share > 0.9


def test_dates_are_consistent(snap: dict) -> None:
    latest: dict[int, str] = {}
    for comment in snap["comments"]:
        latest[comment["TicketID"]] = max(
            latest.get(comment["TicketID"], ""), comment["CommentDate"]
        )
    for record in snap["work_hours"]:
        latest[record["TicketID"]] = max(latest.get(record["TicketID"], ""), record["EndDate"])
    for ticket in snap["tickets"]:
        resolved = ticket["TicketResolvedDate"]
        if ticket["TicketStatus"] in ("Resolved", "Closed"):
            assert resolved is not None and resolved > ticket["TicketCreatedDate"]
        else:
            assert resolved is None
        expected = max(
            ticket["TicketCreatedDate"], latest.get(ticket["TicketID"], ""), resolved or ""
        )
        assert ticket["LastActivityDate"] == expected
        assert ticket["DueDate"] > ticket["TicketCreatedDate"]


def test_billable_durations_cover_every_ticket(snap: dict) -> None:
    sums: Counter[int] = Counter()
    for record in snap["work_hours"]:
        if record["IsBillable"]:
            sums[record["TicketID"]] += record["Duration"]
    assert [d["TicketID"] for d in snap["billable_durations"]] == [
        t["TicketID"] for t in snap["tickets"]
    ]
    for duration in snap["billable_durations"]:
        seconds = sums[duration["TicketID"]]
        assert duration["TotalBillableDuration"] == seconds
        assert duration["TotalBillableHours"] == round(seconds / 3600, 2)


@pytest.fixture(scope="module")
def full() -> Iterator[AteraSandbox]:
    sandbox = make_sandbox(tickets=TICKETS)
    yield sandbox
    sandbox.stop()


def test_full_crawl_matches_snapshot(full: AteraSandbox) -> None:
    tickets = []
    with client(full) as api:
        first = api.get("/tickets", params={"itemsInPage": 50}).json()
        assert first["totalItems"] == TICKETS and first["totalPages"] == 57
        for page in range(1, first["totalPages"] + 1):
            tickets += api.get("/tickets", params={"page": page, "itemsInPage": 50}).json()["items"]
    assert tickets == full.snapshot()["tickets"]
