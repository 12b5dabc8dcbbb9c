"""The sandbox's customers and contracts, derived from the seeded customers.

Atera attaches an SLA policy to a customer's contract, and every ticket names
its contract (``ContractID``). The sandbox gives every seeded customer one or
two contracts, deterministically from the data seed (a random generator of its
own, so the tickets, comments and work hours stay exactly as before):

* one default contract: ``Default: true, Active: true``, no end date;
* for about half of the customers a second, non-default contract, running for
  a year; it is ``Active`` while that year lasts.

``ContractType`` is one of :data:`CONTRACT_TYPES`. A ticket's contract is its
customer's default contract, except that every :data:`OTHER_CONTRACT_EVERY`-th
ticket id of a customer with a second contract is on the other one; a pure
function of the ticket id and the customer, so tickets created later get one
too. Only the published API shape's ``TicketDto`` carries ``ContractID``: the
ticket contract this project was specified from has no such field.

The contract's SLA policy sets the published ``FirstResponseDueDate``:
creation + the priority's first-response target times the contract type's
:data:`RESPONSE_TARGET_FACTORS` (hourly contracts are answered in twice the
time).

``CustomerDto`` and ``ContractDto`` carry the published fields with fictional
values; a contract's type-specific rate object (``RetainerFlatFeeContract``,
...) is left out. :func:`customer_dto` and :func:`contract_dto` build them with
the timestamp writer of the API shape that serves them.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pipelines.sandbox.data import Customer

Json = dict[str, Any]
#: Writes an instant as the serving API shape does (None stays None).
Stamp = Callable[[datetime | None], str | None]

#: Contract types the sandbox sells (a subset of Atera's ``ContractTypeOptions``).
CONTRACT_TYPES = ("RetainerFlatFee", "Hourly", "BlockHours")
#: The SLA policy of each contract type: a factor on the priority's first-response target.
RESPONSE_TARGET_FACTORS = {"RetainerFlatFee": 1, "Hourly": 2, "BlockHours": 1}
#: Every n-th ticket id of a customer with a second contract is on that contract.
OTHER_CONTRACT_EVERY = 5
FIRST_CONTRACT_ID = 7001

_CONTRACT_NAMES = {
    "RetainerFlatFee": "Managed Services Retainer",
    "Hourly": "Hourly Support",
    "BlockHours": "Block of 20 Hours",
}
_PLACES = (
    ("Springfield", "IL", "United States", "62701"),
    ("Portland", "OR", "United States", "97201"),
    ("Austin", "TX", "United States", "73301"),
    ("Madison", "WI", "United States", "53703"),
    ("Burlington", "VT", "United States", "05401"),
    ("Toronto", "ON", "Canada", "M5H 2N2"),
    ("Manchester", "", "United Kingdom", "M1 1AE"),
    ("Dublin", "", "Ireland", "D02 X285"),
)
_STREETS = ("Main Street", "Oak Avenue", "Harbor Road", "Mill Lane", "Station Road", "Elm Court")


@dataclass(frozen=True)
class Contract:
    """A customer's contract."""

    contract_id: int
    customer_id: int
    customer_name: str
    contract_type: str
    default: bool
    start: datetime
    end: datetime | None
    taxable: bool

    @property
    def name(self) -> str:
        """The contract's display name."""
        return _CONTRACT_NAMES[self.contract_type]

    def active(self, now: datetime) -> bool:
        """Whether the contract runs at ``now``."""
        return self.end is None or now < self.end


@dataclass(frozen=True)
class CustomerRecord:
    """What ``CustomerDto`` shows beyond the seeded customer: place and dates."""

    customer: Customer
    created: datetime
    modified: datetime
    street: str
    place: tuple[str, str, str, str]
    latitude: float
    longitude: float


class Accounts:
    """The customers' records and contracts of one sandbox.

    Args:
        customers: The seeded customers, in id order.
        seed: The data seed (same seed + same ``now`` => same contracts).
        now: The instant the data is generated relative to.
    """

    def __init__(self, customers: Iterable[Customer], seed: int, now: datetime) -> None:
        rng = random.Random(f"atera-sandbox-accounts-{seed}")
        today = now.replace(hour=0, minute=0, second=0, microsecond=0)
        self.now = now
        self.customers: dict[int, CustomerRecord] = {}
        self.contracts: dict[int, Contract] = {}
        self._by_customer: dict[int, list[Contract]] = {}
        next_id = FIRST_CONTRACT_ID
        for customer in customers:
            created = today - timedelta(days=rng.randint(400, 1500), hours=-rng.randint(8, 17))
            self.customers[customer.customer_id] = CustomerRecord(
                customer,
                created,
                created + timedelta(days=rng.randint(1, 300)),
                f"{rng.randint(1, 999)} {rng.choice(_STREETS)}",
                rng.choice(_PLACES),
                round(rng.uniform(-60, 60), 6),
                round(rng.uniform(-120, 120), 6),
            )
            contracts = [self._contract(next_id, customer, True, created, None, rng)]
            if rng.random() < 0.5:
                start = today - timedelta(days=rng.randint(30, 500))
                second = self._contract(
                    next_id + 1, customer, False, start, start + timedelta(days=365), rng
                )
                contracts.append(second)
            for contract in contracts:
                self.contracts[contract.contract_id] = contract
            self._by_customer[customer.customer_id] = contracts
            next_id += len(contracts)

    @staticmethod
    def _contract(
        contract_id: int,
        customer: Customer,
        default: bool,
        start: datetime,
        end: datetime | None,
        rng: random.Random,
    ) -> Contract:
        return Contract(
            contract_id,
            customer.customer_id,
            customer.name,
            rng.choice(CONTRACT_TYPES),
            default,
            start.replace(hour=0),
            end.replace(hour=0) if end else None,
            rng.random() < 0.7,
        )

    def contracts_of(self, customer_id: int) -> list[Contract]:
        """A customer's contracts, the default one first."""
        return list(self._by_customer.get(customer_id, []))

    def contract_for(self, ticket_id: int, customer_id: int | None) -> Contract | None:
        """The contract a ticket is on (see the module docstring); None without a customer."""
        contracts = self._by_customer.get(customer_id) if customer_id is not None else None
        if not contracts:
            return None
        if len(contracts) > 1 and ticket_id % OTHER_CONTRACT_EVERY == 0:
            return contracts[1]
        return contracts[0]

    def response_target_factor(self, ticket_id: int, customer_id: int | None) -> int:
        """The factor the ticket's contract puts on its first-response target (1 without one)."""
        contract = self.contract_for(ticket_id, customer_id)
        return RESPONSE_TARGET_FACTORS[contract.contract_type] if contract else 1


def customer_dto(record: CustomerRecord, stamp: Stamp) -> Json:
    """A published ``CustomerDto``."""
    customer = record.customer
    city, state, country, zip_code = record.place
    return {
        "CustomerID": customer.customer_id,
        "CustomerName": customer.name,
        "CreatedOn": stamp(record.created),
        "LastModified": stamp(record.modified),
        "BusinessNumber": customer.business_number,
        "Domain": customer.domain,
        "Address": record.street,
        "City": city,
        "State": state or None,
        "Country": country,
        "Phone": f"+1-555-{customer.customer_id % 10000:04d}",
        "Fax": None,
        "Notes": None,
        "Logo": None,
        "Links": None,
        "Longitude": record.longitude,
        "Latitude": record.latitude,
        "ZipCodeStr": zip_code,
    }


def contract_dto(contract: Contract, now: datetime, stamp: Stamp) -> Json:
    """A published ``ContractDto`` (without the type-specific rate object)."""
    return {
        "CustomerID": contract.customer_id,
        "CustomerName": contract.customer_name,
        "ContractID": contract.contract_id,
        "ContractName": contract.name,
        "ContractType": contract.contract_type,
        "Active": contract.active(now),
        "Default": contract.default,
        "Taxable": contract.taxable,
        "StartDate": stamp(contract.start),
        "EndDate": stamp(contract.end),
    }
