"""Stock use cases: read levels, and move stock with request_id idempotency.

Each movement runs in one unit of work: claim the request_id, do the work of
``services.stock_movements`` (ledger row(s) and level(s) together), store the
result under the request_id, commit. A retry with the same request_id finds
the stored result and returns it unchanged, writing nothing; a concurrent
retry waits for the first one's claim (``IdempotencyRepository.claim``).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable
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
from inventory_server.repositories.stock_interfaces import LevelLookup
from inventory_server.services import stock_movements
from inventory_server.services.idempotency import fingerprint
from inventory_server.services.performers import check_performer
from inventory_server.services.stock_results import MovementResult
from inventory_server.services.stock_uow import StockRunner, StockUnitOfWork

C = TypeVar("C", ReceiveStock, ShipStock, TransferStock, AdjustStock, ReserveStock, ReleaseReservation)
Movement = Callable[[StockUnitOfWork, C, str], Awaitable[MovementResult]]

# request_id scopes: one per method, so the same id may be used once per kind of movement.
SCOPE_PREFIX = "inventory.v1.StockService/"


class StockService:
    """Reads and moves stock; every movement is one transaction."""

    def __init__(self, runner: StockRunner) -> None:
        self.runner = runner

    async def get_level(self, product_id: UUID, warehouse_id: UUID) -> StockLevel:
        """The level of a pair (zeros if never stocked); NotFound for an unknown product or warehouse.

        Soft-deleted products and warehouses still answer: their stock history stays readable.
        """

        async def work(uow: StockUnitOfWork) -> LevelLookup:
            return await uow.stock_levels.read(product_id, warehouse_id)

        lookup = await self.runner.run(work, read_only=True)
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
    ) -> Page[StockLevel]:
        async def work(uow: StockUnitOfWork) -> Page[StockLevel]:
            return await uow.stock_levels.list(
                query,
                product_id=product_id,
                warehouse_id=warehouse_id,
                below_reorder_point=below_reorder_point,
            )

        return await self.runner.run(work, read_only=True)

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
        scope = SCOPE_PREFIX + method
        caller = context.principal.get()
        payload: dict[str, Any] = dataclasses.asdict(command)
        print_of_request = fingerprint(payload)

        async def work(uow: StockUnitOfWork) -> MovementResult:
            stored = await uow.idempotency.claim(scope, command.request_id, print_of_request)
            if stored is not None:
                return MovementResult.from_json(stored)
            result = await movement(uow, command, caller)
            await uow.idempotency.store(scope, command.request_id, result.to_json())
            await uow.commit()
            return result

        return await self.runner.run(work)
