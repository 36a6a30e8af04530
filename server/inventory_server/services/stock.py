"""Stock use cases: read levels, and move stock with request_id idempotency.

Each movement runs in one write unit (``services.idempotency.write_once``):
claim the request_id, do the work of ``services.stock_movements`` (ledger
row(s) and level(s) together), store the result under the request_id, commit.
The common one-level movements do the claim, the checks, the level and the
ledger row in one statement (``stock_movements.at_once``), so a receipt is
three round trips (BEGIN with that statement, the store, COMMIT); anything
else, and any case where that statement did not finish, takes the
step-by-step path.
A retry with the same request_id finds the stored result and returns it
unchanged, writing nothing; a concurrent retry waits for the first one's claim
(``IdempotencyRepository.claim``).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any, TypeVar
from uuid import UUID

from inventory_server import context
from inventory_server.domain.errors import NotFound
from inventory_server.domain.paging import ListQuery, Page
from inventory_server.domain.stock import (
    AdjustStock,
    ReceiveStock,
    ReleaseReservation,
    ReserveStock,
    ShipStock,
    StockLevel,
    TransferStock,
)
from inventory_server.repositories.stock_interfaces import Claim
from inventory_server.services import stock_movements
from inventory_server.services.idempotency import write_once
from inventory_server.services.performers import check_performer
from inventory_server.services.stock_results import MovementResult
from inventory_server.services.unit_of_work import Transactor, UnitOfWork

C = TypeVar("C", ReceiveStock, ShipStock, TransferStock, AdjustStock, ReserveStock, ReleaseReservation)
Movement = Callable[[UnitOfWork, C, str], Awaitable[MovementResult]]

# request_id scopes: one per method, so the same id may be used once per kind of movement.
SCOPE_PREFIX = "inventory.v1.StockService/"


class StockService:
    """Reads and moves stock; every movement is one transaction."""

    def __init__(self, transactor: Transactor[UnitOfWork]) -> None:
        self.transactor = transactor

    async def get_level(
        self, product_id: UUID, warehouse_id: UUID, *, read_time: datetime | None = None
    ) -> StockLevel:
        """The level of a pair (zeros if never stocked); NotFound for an unknown product or warehouse.

        Soft-deleted products and warehouses still answer: their stock history stays readable.
        """

        lookup = await self.transactor.read(
            lambda uow: uow.stock_levels.read(product_id, warehouse_id, read_time=read_time),
            replica_ok=read_time is None,  # a past instant must be exact: the primary has every row
        )
        if not lookup.product_found:
            raise NotFound(
                "product", str(product_id), message=f"product_id: product '{product_id}' not found"
            )
        if not lookup.warehouse_found:
            raise NotFound(
                "warehouse", str(warehouse_id), message=f"warehouse_id: warehouse '{warehouse_id}' not found"
            )
        return lookup.level or StockLevel(product_id, warehouse_id)

    async def list_levels(
        self,
        query: ListQuery,
        *,
        product_id: UUID | None = None,
        warehouse_id: UUID | None = None,
        below_reorder_point: bool = False,
        read_time: datetime | None = None,
    ) -> Page[StockLevel]:
        return await self.transactor.read(
            lambda uow: uow.stock_levels.list(
                query,
                product_id=product_id,
                warehouse_id=warehouse_id,
                below_reorder_point=below_reorder_point,
                read_time=read_time,
            ),
            replica_ok=read_time is None,
        )

    async def receive(self, command: ReceiveStock) -> MovementResult:
        return await self._move("ReceiveStock", command, stock_movements.receive)

    async def ship(self, command: ShipStock) -> MovementResult:
        return await self._move("ShipStock", command, stock_movements.ship)

    async def transfer(self, command: TransferStock) -> MovementResult:
        return await self._move("TransferStock", command, stock_movements.transfer)

    async def adjust(self, command: AdjustStock) -> MovementResult:
        return await self._move("AdjustStock", command, stock_movements.adjust)

    async def reserve(self, command: ReserveStock) -> MovementResult:
        return await self._move("ReserveStock", command, stock_movements.reserve)

    async def release(self, command: ReleaseReservation) -> MovementResult:
        return await self._move("ReleaseReservation", command, stock_movements.release)

    async def _move(self, method: str, command: C, movement: Movement[C]) -> MovementResult:
        """Validate, then run ``movement`` once per request_id (see the module docstring)."""
        command.check()
        check_performer(command.performed_by)
        caller = context.principal.get()

        async def replay(uow: UnitOfWork, stored: dict[str, Any]) -> MovementResult:
            return MovementResult.from_json(stored)

        async def at_once(uow: UnitOfWork, claim: Claim | None) -> MovementResult | None:
            done = await stock_movements.at_once(uow, command, caller, claim)
            if done is not None and claim is not None:
                await uow.idempotency.store(claim.scope, claim.request_id, done.to_json())
            return done

        return await write_once(
            self.transactor,
            lambda uow: movement(uow, command, caller),
            scope=SCOPE_PREFIX + method,
            request_id=command.request_id,
            payload=dataclasses.asdict(command),
            encode=MovementResult.to_json,
            replay=replay,
            at_once=at_once,
        )
