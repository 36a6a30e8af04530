"""Ledger reads: one row, or a keyset-paginated list."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from inventory_server.domain.errors import FieldViolation, InvalidArgument
from inventory_server.domain.movement_summary import Grouping, MovementSummary, range_violations
from inventory_server.domain.paging import ListQuery, Page
from inventory_server.domain.transaction import StockTransaction
from inventory_server.services.unit_of_work import Transactor, UnitOfWork


class TransactionService:
    """Reads the append-only stock ledger (read-only units of work)."""

    def __init__(self, transactor: Transactor[UnitOfWork]) -> None:
        self.transactor = transactor

    async def get(self, id: UUID) -> StockTransaction:
        """The ledger row; NotFound when there is none."""
        return await self.transactor.read(lambda uow: uow.transactions.get(id), replica_ok=True)

    async def list_transactions(self, query: ListQuery) -> Page[StockTransaction]:
        """A page ordered by (create_time, id), ascending or descending; bad input -> InvalidArgument."""
        return await self.transactor.read(lambda uow: uow.transactions.list(query), replica_ok=True)

    async def summarize_movements(
        self, grouping: Grouping, start: datetime, end: datetime, query: ListQuery
    ) -> Page[MovementSummary]:
        """Totals per group over ``[start, end)``; a reversed or too long range -> InvalidArgument."""
        problems = range_violations(start, end)
        if problems:
            raise InvalidArgument(
                "; ".join(f"{field}: {problem}" for field, problem in problems),
                violations=[FieldViolation(field, problem) for field, problem in problems],
            )
        return await self.transactor.read(
            lambda uow: uow.transactions.summarize(grouping, start, end, query), replica_ok=True
        )
