"""Unit of work: one connection, one transaction, repositories bound to it.

Only this module begins and commits transactions. ``TransactionRunner.run``
lends a connection, hands a ``UnitOfWork`` to the work, commits when the work
returns and asks for it (``uow.commit()``), rolls back otherwise, and maps
infrastructure failures to domain errors:

- serialization failures and deadlocks are retried with jittered backoff when
  the work is marked retryable, and surface as ``Conflict`` only if they persist;
- no connection in time, or a connection lost before commit -> ``Unavailable``
  (a lost connection is retried once on a fresh one, since nothing committed);
- the caller's deadline (``inventory_server.context``) bounds the whole unit:
  past it the query is cancelled on the server and ``DeadlineExceeded`` raised.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable
from functools import cached_property
from typing import TYPE_CHECKING, Any, TypeVar

import psycopg
from psycopg import errors as pg_errors
from psycopg.pq import TransactionStatus
from psycopg_pool import PoolClosed, PoolTimeout

from inventory_server import context
from inventory_server.domain.errors import Conflict, DeadlineExceeded, Unavailable

if TYPE_CHECKING:
    from inventory_server.db.database import Database
    from inventory_server.repositories.database_stats import DatabaseStatsRepository
    from inventory_server.repositories.idempotency import IdempotencyRepository
    from inventory_server.repositories.products import ProductRepository
    from inventory_server.repositories.reservations import ReservationRepository
    from inventory_server.repositories.stock_changes import StockChangeRepository
    from inventory_server.repositories.stock_levels import StockLevelRepository
    from inventory_server.repositories.transactions import TransactionRepository
    from inventory_server.repositories.users import UserRepository
    from inventory_server.repositories.warehouses import WarehouseRepository

T = TypeVar("T")
log = logging.getLogger(__name__)

RETRYABLE = (pg_errors.SerializationFailure, pg_errors.DeadlockDetected)
# Leave a little of the caller's deadline for the response to travel back.
DEADLINE_MARGIN = 0.02


class UnitOfWork:
    """What a piece of work sees: repositories over one connection in one transaction."""

    def __init__(self, conn: psycopg.AsyncConnection[Any]) -> None:
        self.conn = conn
        self.committing = False
        self.committed = False

    @cached_property
    def products(self) -> ProductRepository:
        from inventory_server.repositories.products import ProductRepository

        return ProductRepository(self.conn)

    @cached_property
    def warehouses(self) -> WarehouseRepository:
        from inventory_server.repositories.warehouses import WarehouseRepository

        return WarehouseRepository(self.conn)

    @cached_property
    def users(self) -> UserRepository:
        from inventory_server.repositories.users import UserRepository

        return UserRepository(self.conn)

    @cached_property
    def idempotency(self) -> IdempotencyRepository:
        from inventory_server.repositories.idempotency import IdempotencyRepository

        return IdempotencyRepository(self.conn)

    @cached_property
    def stock_levels(self) -> StockLevelRepository:
        from inventory_server.repositories.stock_levels import StockLevelRepository

        return StockLevelRepository(self.conn)

    @cached_property
    def transactions(self) -> TransactionRepository:
        from inventory_server.repositories.transactions import TransactionRepository

        return TransactionRepository(self.conn)

    @cached_property
    def database_stats(self) -> DatabaseStatsRepository:
        from inventory_server.repositories.database_stats import DatabaseStatsRepository

        return DatabaseStatsRepository(self.conn)

    @cached_property
    def stock_changes(self) -> StockChangeRepository:
        from inventory_server.repositories.stock_changes import StockChangeRepository

        return StockChangeRepository(self.conn)

    @cached_property
    def reservations(self) -> ReservationRepository:
        from inventory_server.repositories.reservations import ReservationRepository

        return ReservationRepository(self.conn)

    async def commit(self) -> None:
        self.committing = True
        await self.conn.commit()
        self.committed = True

    async def rollback(self) -> None:
        await self.conn.rollback()


class TransactionRunner:
    """Runs units of work against the pool with retries, deadlines and error mapping."""

    def __init__(
        self,
        database: Database,
        *,
        max_attempts: int = 5,
        base_backoff: float = 0.005,
        uow_class: type[UnitOfWork] = UnitOfWork,
    ) -> None:
        self.database = database
        self.max_attempts = max_attempts
        self.base_backoff = base_backoff
        self.uow_class = uow_class
        self.retries = 0
        self.conflicts = 0

    async def run(
        self, work: Callable[[UnitOfWork], Awaitable[T]], *, retryable: bool = True, read_only: bool = False
    ) -> T:
        """Run ``work`` in a transaction (read-only work runs in autocommit: one round trip a query)."""
        remaining = context.remaining()
        if remaining is not None and remaining <= DEADLINE_MARGIN:
            raise DeadlineExceeded("the deadline had passed before the database work started")
        try:
            if remaining is None:
                return await self._attempts(work, retryable, read_only)
            async with asyncio.timeout(remaining - DEADLINE_MARGIN):
                return await self._attempts(work, retryable, read_only)
        except TimeoutError:
            raise DeadlineExceeded("the caller's deadline passed while the database was working") from None

    async def read(self, action: Callable[[UnitOfWork], Awaitable[T]]) -> T:
        """Run a read-only ``action`` (autocommit; nothing to commit)."""
        return await self.run(action, read_only=True)

    async def write(self, action: Callable[[UnitOfWork], Awaitable[T]], *, retryable: bool = True) -> T:
        """Run ``action`` in a transaction and commit when it returns (rolled back if it raises)."""

        async def work(uow: UnitOfWork) -> T:
            result = await action(uow)
            await uow.commit()
            return result

        return await self.run(work, retryable=retryable)

    async def _attempts(
        self, work: Callable[[UnitOfWork], Awaitable[T]], retryable: bool, read_only: bool
    ) -> T:
        lost_connection_retried = False
        attempt = 0
        while True:
            attempt += 1
            try:
                return await self._once(work, read_only)
            except RETRYABLE as exc:
                if not retryable or attempt >= self.max_attempts:
                    self.conflicts += 1
                    raise Conflict(
                        f"the change conflicted with concurrent changes {attempt} times; retry later"
                    ) from exc
                self.retries += 1
                await asyncio.sleep(random.uniform(0, self.base_backoff * 2**attempt))  # noqa: S311 - jitter
            except _ConnectionLost as lost:
                if not retryable or lost_connection_retried:
                    raise Unavailable("the database connection was lost; retry later") from lost.__cause__
                lost_connection_retried = True

    async def _once(self, work: Callable[[UnitOfWork], Awaitable[T]], read_only: bool) -> T:
        try:
            conn = await self.database.getconn(timeout=self._acquire_timeout())
        except PoolTimeout as exc:
            raise Unavailable("no database connection became available in time; retry later") from exc
        except PoolClosed as exc:  # the server is shutting down
            raise Unavailable("the server is shutting down; retry on another replica") from exc
        uow: UnitOfWork | None = None
        try:
            await conn.set_autocommit(read_only)
            uow = self.uow_class(conn)
            result = await work(uow)
            if not read_only and not uow.committed:
                await conn.rollback()
            return result
        except pg_errors.QueryCanceled as exc:
            # statement_timeout fired (a cancel for the caller's deadline surfaces as TimeoutError instead)
            raise DeadlineExceeded(
                "a statement ran past the statement timeout (INVENTORY_STATEMENT_TIMEOUT_MS)"
            ) from exc
        except psycopg.OperationalError as exc:
            if conn.closed or conn.broken:
                if uow is not None and uow.committing:
                    raise Unavailable("the database connection was lost during commit") from exc
                raise _ConnectionLost() from exc
            raise
        finally:
            await self._release(conn)

    def _acquire_timeout(self) -> float:
        remaining = context.remaining()
        limit = self.database.settings.pool_timeout
        return limit if remaining is None else max(0.001, min(limit, remaining - DEADLINE_MARGIN))

    async def _release(self, conn: psycopg.AsyncConnection[Any]) -> None:
        try:
            if not conn.closed and conn.info.transaction_status != TransactionStatus.IDLE:
                await conn.rollback()
        except (psycopg.Error, asyncio.CancelledError):
            log.debug("rollback on release failed; the pool will discard the connection")
        finally:
            await self.database.putconn(conn)


class _ConnectionLost(Exception):
    """Internal: the connection broke before anything was committed."""
