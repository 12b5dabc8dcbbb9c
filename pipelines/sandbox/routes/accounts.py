"""Customer and contract routes, the same in both API shapes but for paging and dates.

``GET /customers``, ``/customers/{id}``, ``/contracts``, ``/contracts/{id}`` and
``/contracts/customer/{customerId}`` serve the ``CustomerDto`` and ``ContractDto``
of :mod:`pipelines.sandbox.accounts`, in id order. Each API shape passes its
own list envelope and timestamp writer (:func:`account_routes`); auth, the
rate limit and faults are the server's, as for every route.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from pipelines.sandbox.accounts import Stamp, contract_dto, customer_dto
from pipelines.sandbox.data import SandboxError, TicketStore
from pipelines.sandbox.routes.common import Json, Reply, Request, RouteContext, Routes

#: ``(context, request, items) -> the shape's list envelope`` of one page of items.
Envelope = Callable[[RouteContext, Request, list[Json]], Any]


def _id_of(raw: str | None, what: str) -> int:
    try:
        return int(raw or "")
    except ValueError:
        raise SandboxError(400, f"Invalid {what} ID") from None


def customers(store: TicketStore, stamp: Stamp) -> list[Json]:
    """Every ``CustomerDto``, by CustomerID."""
    return [customer_dto(record, stamp) for record in store.accounts.customers.values()]


def contracts(store: TicketStore, stamp: Stamp, customer_id: int | None = None) -> list[Json]:
    """Every ``ContractDto`` (of one customer when given), by ContractID."""
    now = store.clock()
    return [
        contract_dto(contract, now, stamp)
        for contract in store.accounts.contracts.values()
        if customer_id is None or contract.customer_id == customer_id
    ]


def account_routes(
    envelope: Envelope, stamp: Stamp, compile_route: Callable[[str], re.Pattern[str]]
) -> Routes:
    """The customer and contract routes of one API shape.

    Args:
        envelope: Builds the shape's list envelope of one page.
        stamp: Writes an instant as the shape does.
        compile_route: Compiles a route pattern (case-insensitive for the published shape).
    """

    def list_customers(ctx: RouteContext, req: Request) -> Reply:
        return 200, envelope(ctx, req, customers(ctx.store, stamp))

    def get_customer(ctx: RouteContext, req: Request) -> Reply:
        record = ctx.store.accounts.customers.get(_id_of(req.arg, "customer"))
        if record is None:
            raise SandboxError(404, "Customer not found")
        return 200, customer_dto(record, stamp)

    def list_contracts(ctx: RouteContext, req: Request) -> Reply:
        return 200, envelope(ctx, req, contracts(ctx.store, stamp))

    def get_contract(ctx: RouteContext, req: Request) -> Reply:
        contract = ctx.store.accounts.contracts.get(_id_of(req.arg, "contract"))
        if contract is None:
            raise SandboxError(404, "Contract not found")
        return 200, contract_dto(contract, ctx.now(), stamp)

    def customer_contracts(ctx: RouteContext, req: Request) -> Reply:
        customer_id = _id_of(req.arg, "customer")
        if customer_id not in ctx.store.accounts.customers:
            raise SandboxError(404, "Customer not found")
        return 200, envelope(ctx, req, contracts(ctx.store, stamp, customer_id))

    return [
        (compile_route(r"^/customers$"), {"GET": list_customers}),
        (compile_route(r"^/customers/([^/]+)$"), {"GET": get_customer}),
        (compile_route(r"^/contracts$"), {"GET": list_contracts}),
        (compile_route(r"^/contracts/customer/([^/]+)$"), {"GET": customer_contracts}),
        (compile_route(r"^/contracts/([^/]+)$"), {"GET": get_contract}),
    ]


def account_snapshot(store: TicketStore, stamp: Stamp) -> dict[str, list[Json]]:
    """``{"customers": [CustomerDto], "contracts": [ContractDto]}`` as served right now."""
    return {"customers": customers(store, stamp), "contracts": contracts(store, stamp)}
