"""Transaction mechanics: one connection, one transaction, retries, deadlines, error mapping.

Only this module begins and commits transactions. It knows no entity: the
caller hands ``TransactionManager`` a factory that turns a connection into the
unit of work its use cases see (``repositories.unit_of_work.PostgresUnitOfWork``
in the server), and gets two verbs:

- ``read(work)``: the work runs in autocommit (one round trip a query, nothing
  to commit);
- ``write(work)``: the work runs in a transaction that commits when the work
  returns and rolls back when it raises. The work cannot commit or forget to:
  there is no commit to call.

Around both, infrastructure failures become domain errors:

- serialization failures and deadlocks are retried with jittered backoff when
  the work is marked retryable, and surface as ``Conflict`` only if they persist;
- no connection in time, or a connection lost before commit -> ``Unavailable``
  (a lost connection is retried once on a fresh one, since nothing committed);
- the caller's deadline (``inventory_server.context``) bounds the whole unit:
  past it the query is cancelled on the server and ``DeadlineExceeded`` raised;
  a statement that runs past ``statement_timeout`` is ``DeadlineExceeded`` too.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, Generic, TypeVar

import psycopg
from psycopg import errors as pg_errors
from psycopg.pq import TransactionStatus
from psycopg_pool import PoolClosed, PoolTimeout

from inventory_server import context
from inventory_server.domain.errors import Conflict, DeadlineExceeded, Unavailable

if TYPE_CHECKING:
    from inventory_server.db.database import Database

T = TypeVar("T")
U = TypeVar("U")
Connection = psycopg.AsyncConnection[Any]
log = logging.getLogger(__name__)

RETRYABLE = (pg_errors.SerializationFailure, pg_errors.DeadlockDetected)
# Leave a little of the caller's deadline for the response to travel back.
DEADLINE_MARGIN = 0.02


class TransactionManager(Generic[U]):
    """Runs read and write units of work against the pool (see the module docstring).

    ``unit_of_work`` builds what the work sees from the connection lent to
    one attempt; a retried attempt gets a fresh one.
    """

    def __init__(
        self,
        database: Database,
        unit_of_work: Callable[[Connection], U],
        *,
        max_attempts: int = 5,
        base_backoff: float = 0.005,
    ) -> None:
        self.database = database
        self.unit_of_work = unit_of_work
        self.max_attempts = max_attempts
        self.base_backoff = base_backoff
        self.retries = 0
        self.conflicts = 0

    async def read(self, work: Callable[[U], Awaitable[T]], *, retryable: bool = True) -> T:
        """Run read-only ``work`` in autocommit: each statement sees the latest committed data."""
        return await self._run(work, retryable=retryable, write=False)

    async def write(self, work: Callable[[U], Awaitable[T]], *, retryable: bool = True) -> T:
        """Run ``work`` in a transaction: committed when it returns, rolled back when it raises.

        ``retryable=False`` for work that cannot be run twice (a consumed stream).
        """
        return await self._run(work, retryable=retryable, write=True)

    async def _run(self, work: Callable[[U], Awaitable[T]], *, retryable: bool, write: bool) -> T:
        remaining = context.remaining()
        if remaining is not None and remaining <= DEADLINE_MARGIN:
            raise DeadlineExceeded("the deadline had passed before the database work started")
        try:
            if remaining is None:
                return await self._attempts(work, retryable, write)
            async with asyncio.timeout(remaining - DEADLINE_MARGIN):
                return await self._attempts(work, retryable, write)
        except TimeoutError:
            raise DeadlineExceeded("the caller's deadline passed while the database was working") from None

    async def _attempts(self, work: Callable[[U], Awaitable[T]], retryable: bool, write: bool) -> T:
        lost_connection_retried = False
        attempt = 0
        while True:
            attempt += 1
            try:
                return await self._once(work, write)
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

    async def _once(self, work: Callable[[U], Awaitable[T]], write: bool) -> T:
        try:
            conn = await self.database.getconn(timeout=self._acquire_timeout())
        except PoolTimeout as exc:
            raise Unavailable("no database connection became available in time; retry later") from exc
        except PoolClosed as exc:  # the server is shutting down
            raise Unavailable("the server is shutting down; retry on another replica") from exc
        committing = False
        try:
            await conn.set_autocommit(not write)
            result = await work(self.unit_of_work(conn))
            if write:
                committing = True
                await conn.commit()
            return result
        except pg_errors.QueryCanceled as exc:
            # statement_timeout fired (a cancel for the caller's deadline surfaces as TimeoutError instead)
            raise DeadlineExceeded(
                "a statement ran past the statement timeout (INVENTORY_STATEMENT_TIMEOUT_MS)"
            ) from exc
        except psycopg.OperationalError as exc:
            if conn.closed or conn.broken:
                if committing:  # the commit may have happened: running the work again could repeat it
                    raise Unavailable("the database connection was lost during commit") from exc
                raise _ConnectionLost() from exc
            raise
        finally:
            await self._release(conn)  # rolls back whatever did not commit

    def _acquire_timeout(self) -> float:
        remaining = context.remaining()
        limit = self.database.settings.pool_timeout
        return limit if remaining is None else max(0.001, min(limit, remaining - DEADLINE_MARGIN))

    async def _release(self, conn: Connection) -> None:
        try:
            if not conn.closed and conn.info.transaction_status != TransactionStatus.IDLE:
                await conn.rollback()
        except (psycopg.Error, asyncio.CancelledError):
            log.debug("rollback on release failed; the pool will discard the connection")
        finally:
            await self.database.putconn(conn)


class _ConnectionLost(Exception):
    """Internal: the connection broke before anything was committed."""
