"""What the stock use cases need from a unit of work and its runner.

``db.uow.UnitOfWork`` and ``db.uow.TransactionRunner`` satisfy these
protocols; the unit tests pass in-memory fakes instead.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Protocol, TypeVar

from inventory_server.repositories.interfaces import IdempotencyRepository
from inventory_server.repositories.stock_interfaces import StockLevelRepository, TransactionRepository

T = TypeVar("T")


class StockUnitOfWork(Protocol):
    """One transaction and the repositories bound to it."""

    @property
    def stock_levels(self) -> StockLevelRepository: ...

    @property
    def transactions(self) -> TransactionRepository: ...

    @property
    def idempotency(self) -> IdempotencyRepository: ...

    async def commit(self) -> None: ...


class StockRunner(Protocol):
    """Runs a piece of work in a unit of work (re-running it on serialization failures and deadlocks)."""

    async def run(
        self,
        work: Callable[[StockUnitOfWork], Awaitable[T]],
        *,
        retryable: bool = True,
        read_only: bool = False,
    ) -> T: ...
