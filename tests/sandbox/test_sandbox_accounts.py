"""Customers and contracts, in both API shapes: listings, single reads, tickets' contracts."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import timedelta

import httpx
import pytest

from pipelines.sandbox import AteraSandbox
from pipelines.sandbox.data import parse_iso
from tests.sandbox import API_KEY, FIXED_NOW, client, make_sandbox

CUSTOMERS = 40  # the seeded companies
CONTRACT_TYPES = {"RetainerFlatFee", "Hourly", "BlockHours"}
RESPONSE_MINUTES = {"Critical": 60, "High": 240, "Medium": 480, "Low": 1440}
ENVELOPES = {
    "contract": {"items", "totalItems", "page", "itemsInPage", "totalPages"},
    "published": {"items", "page", "itemsInPage", "totalItemCount", "totalPages", "prevLink"}
    | {"nextLink"},
}
CONTRACT_DTO = {
    "CustomerID", "CustomerName", "ContractID", "ContractName", "ContractType", "Active",
    "Default", "Taxable", "StartDate", "EndDate",
}  # fmt: skip
CUSTOMER_DTO = {
    "CustomerID", "CustomerName", "CreatedOn", "LastModified", "BusinessNumber", "Domain",
    "Address", "City", "State", "Country", "Phone", "Fax", "Notes", "Logo", "Links",
    "Longitude", "Latitude", "ZipCodeStr",
}  # fmt: skip


@pytest.fixture(scope="module", params=["contract", "published"])
def sb(request: pytest.FixtureRequest) -> Iterator[AteraSandbox]:
    sandbox = make_sandbox(tickets=200, api_shape=request.param)
    yield sandbox
    sandbox.stop()


@pytest.fixture(scope="module")
def api(sb: AteraSandbox) -> Iterator[httpx.Client]:
    with client(sb) as c:
        yield c


def listing(api: httpx.Client, path: str, size: int = 50) -> list[dict]:
    items: list[dict] = []
    page = 1
    while True:
        body = api.get(path, params={"page": page, "itemsInPage": size}).json()
        items += body["items"]
        if page >= body["totalPages"]:
            return items
        page += 1


def test_customers_are_listed_in_pages_in_the_shapes_envelope(
    sb: AteraSandbox, api: httpx.Client
) -> None:
    first = api.get("/customers", params={"itemsInPage": 15}).json()
    assert set(first) == ENVELOPES[sb.api_shape]
    assert first["totalPages"] == 3
    customers = listing(api, "/customers", size=15)
    assert [c["CustomerID"] for c in customers] == list(range(501, 501 + CUSTOMERS))
    assert all(set(c) == CUSTOMER_DTO for c in customers)
    ticket = api.get("/tickets/10001").json()
    by_id = {c["CustomerID"]: c for c in customers}
    assert by_id[ticket["CustomerID"]]["CustomerName"] == ticket["CustomerName"]
    assert api.get("/customers/502").json() == by_id[502]


def test_every_customer_has_one_active_default_contract_and_maybe_another(
    sb: AteraSandbox, api: httpx.Client
) -> None:
    contracts = listing(api, "/contracts")
    assert all(set(c) == CONTRACT_DTO for c in contracts)
    assert {c["ContractType"] for c in contracts} <= CONTRACT_TYPES
    assert len({c["ContractType"] for c in contracts}) > 1
    per_customer = Counter(c["CustomerID"] for c in contracts)
    assert set(per_customer) == set(range(501, 501 + CUSTOMERS))
    assert set(per_customer.values()) == {1, 2}
    defaults = [c for c in contracts if c["Default"]]
    assert sorted(c["CustomerID"] for c in defaults) == list(range(501, 501 + CUSTOMERS))
    assert all(c["Active"] and c["EndDate"] is None for c in defaults)
    other = next(c for c in contracts if not c["Default"])
    assert parse_iso(other["EndDate"]) - parse_iso(other["StartDate"]) == timedelta(days=365)
    assert api.get(f"/contracts/{other['ContractID']}").json() == other
    mine = api.get(f"/contracts/customer/{other['CustomerID']}").json()["items"]
    assert [c["ContractID"] for c in mine] == [
        c["ContractID"] for c in contracts if c["CustomerID"] == other["CustomerID"]
    ]


def test_unknown_ids_are_404_in_the_shapes_error_form(sb: AteraSandbox, api: httpx.Client) -> None:
    for path in ("/customers/9", "/contracts/9", "/contracts/customer/9"):
        response = api.get(path)
        assert response.status_code == 404
        body = response.json()
        message = body["message"] if sb.api_shape == "contract" else body["detail"]
        assert "not found" in message
    assert api.get("/contracts/abc").status_code == 400


def test_same_auth_and_rate_limit_as_the_ticket_routes(sb: AteraSandbox) -> None:
    with client(sb, api_key="wrong") as wrong:
        assert wrong.get("/customers").status_code == 401
        assert wrong.get("/contracts/7001").status_code == 401
    limited = make_sandbox(tickets=5, api_shape=sb.api_shape, rate_limit=3)
    with limited, client(limited) as api:
        statuses = [api.get(path).status_code for path in ["/customers", "/contracts"] * 2]
    assert statuses == [200, 200, 200, 429]


def test_published_tickets_name_their_contract_and_its_response_due_date(
    sb: AteraSandbox, api: httpx.Client
) -> None:
    contracts = {c["ContractID"]: c for c in listing(api, "/contracts")}
    tickets = listing(api, "/tickets")
    if sb.api_shape == "contract":  # the ticket contract has no ContractID
        assert all("ContractID" not in t for t in tickets)
        return
    on_default = on_other = 0
    for ticket in tickets:
        contract = contracts[ticket["ContractID"]]
        assert contract["CustomerID"] == ticket["CustomerID"]
        on_default += contract["Default"]
        on_other += not contract["Default"]
        # the contract's SLA policy: hourly contracts double the priority's target
        factor = 2 if contract["ContractType"] == "Hourly" else 1
        minutes = RESPONSE_MINUTES[ticket["TicketPriority"]] * factor
        due = parse_iso(ticket["TicketCreatedDate"]) + timedelta(minutes=minutes)
        assert parse_iso(ticket["FirstResponseDueDate"]) == due
    assert on_default > on_other > 0
    assert any(contracts[t["ContractID"]]["ContractType"] == "Hourly" for t in tickets)


def test_contracts_are_the_same_for_the_same_seed_and_other_for_another() -> None:
    def contracts(seed: int) -> list[dict]:
        return AteraSandbox(api_key=API_KEY, tickets=1, seed=seed, now=FIXED_NOW).snapshot()[
            "contracts"
        ]

    assert contracts(42) == contracts(42)
    assert contracts(42) != contracts(43)
