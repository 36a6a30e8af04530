"""Ledger reads: one row, or a keyset-paginated list."""

from __future__ import annotations

from uuid import UUID

from inventory_server.domain.paging import ListQuery, Page
from inventory_server.domain.transaction import StockTransaction
from inventory_server.services.stock_uow import StockRunner, StockUnitOfWork


class TransactionService:
    """Reads the append-only stock ledger (read-only units of work)."""

    def __init__(self, runner: StockRunner) -> None:
        self.runner = runner

    async def get(self, id: UUID) -> StockTransaction:
        """The ledger row; NotFound when there is none."""

        async def work(uow: StockUnitOfWork) -> StockTransaction:
            return await uow.transactions.get(id)

        return await self.runner.run(work, read_only=True)

    async def list_transactions(self, query: ListQuery) -> Page[StockTransaction]:
        """A page ordered by (create_time, id), ascending or descending; bad input -> InvalidArgument."""

        async def work(uow: StockUnitOfWork) -> Page[StockTransaction]:
            return await uow.transactions.list(query)

        return await self.runner.run(work, read_only=True)
