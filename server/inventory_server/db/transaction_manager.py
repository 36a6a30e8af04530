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

With read replicas (``db.replicas.ReplicaSet``):

- ``read(work, replica_ok=True)`` is the explicit opt-in of a use case whose
  read tolerates bounded staleness: it runs on a healthy replica that has
  replayed the caller's consistency token (``context.required_position``),
  else on the primary. Any failure that is the replica's (no connection in
  time, a lost connection, a query cancelled by a recovery conflict) takes
  that replica out of rotation and runs the work on the primary instead: no
  caller sees an error because of a replica. ``read(work)`` and every
  ``write`` always use the primary.
- after each commit the manager asks the primary for ``pg_current_wal_lsn()``
  and records it as the call's consistency token (``context.note_commit``).
  After, not inside the transaction: ``pg_current_wal_insert_lsn()`` before
  COMMIT is a position *before* the commit record, and a replica that has
  replayed only that far does not show the transaction yet. After COMMIT
  returns, the commit record is written (and flushed), so the write position
  is at or past its end; it may be a little further (other sessions' WAL),
  which only makes the token stricter, never wrong. Only with replicas: it
  costs a round trip per write.
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
    from inventory_server.db.replicas import Replica, ReplicaSet

T = TypeVar("T")
U = TypeVar("U")
Connection = psycopg.AsyncConnection[Any]
log = logging.getLogger(__name__)

RETRYABLE = (pg_errors.SerializationFailure, pg_errors.DeadlockDetected)
# Leave a little of the caller's deadline for the response to travel back.
DEADLINE_MARGIN = 0.02
# A replica whose pool has no connection this soon is skipped: the primary answers instead.
REPLICA_ACQUIRE_TIMEOUT = 0.5


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
        replicas: ReplicaSet | None = None,
    ) -> None:
        self.database = database
        self.unit_of_work = unit_of_work
        self.max_attempts = max_attempts
        self.base_backoff = base_backoff
        self.replicas = replicas
        self.retries = 0
        self.conflicts = 0

    async def read(
        self, work: Callable[[U], Awaitable[T]], *, retryable: bool = True, replica_ok: bool = False
    ) -> T:
        """Run read-only ``work`` in autocommit: each statement sees the latest committed data.

        ``replica_ok``: the work may run on a read replica (see the module docstring).
        """
        if replica_ok and self.replicas is not None:
            replica = self.replicas.choose(context.required_position())
            if replica is not None:
                try:
                    result = await self._run(work, retryable=False, write=False, replica=replica)
                except _ReplicaUnusable as unusable:
                    self.replicas.failed(replica, unusable.__cause__ or unusable)
                else:
                    self.replicas.served(replica)
                    return result
            self.replicas.served_by_primary()
        return await self._run(work, retryable=retryable, write=False)

    async def write(self, work: Callable[[U], Awaitable[T]], *, retryable: bool = True) -> T:
        """Run ``work`` in a transaction: committed when it returns, rolled back when it raises.

        ``retryable=False`` for work that cannot be run twice (a consumed stream).
        """
        return await self._run(work, retryable=retryable, write=True)

    async def _run(
        self,
        work: Callable[[U], Awaitable[T]],
        *,
        retryable: bool,
        write: bool,
        replica: Replica | None = None,
    ) -> T:
        remaining = context.remaining()
        if remaining is not None and remaining <= DEADLINE_MARGIN:
            raise DeadlineExceeded("the deadline had passed before the database work started")
        try:
            if replica is not None:
                # The replica gets a share of the deadline, so the primary still has time if it fails.
                budget = self.database.settings.pool_timeout if remaining is None else remaining / 2
                async with asyncio.timeout(budget):
                    return await self._on_replica(work, replica)
            if remaining is None:
                return await self._attempts(work, retryable, write)
            async with asyncio.timeout(remaining - DEADLINE_MARGIN):
                return await self._attempts(work, retryable, write)
        except TimeoutError:
            if replica is not None:
                raise _ReplicaUnusable() from None

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

    async def _on_replica(self, work: Callable[[U], Awaitable[T]], replica: Replica) -> T:
        """``work`` once on ``replica``; _ReplicaUnusable for any failure that is the replica's."""
        try:
            conn = await replica.database.getconn(
                timeout=min(REPLICA_ACQUIRE_TIMEOUT, self._acquire_timeout())
            )
        except (PoolTimeout, PoolClosed) as exc:
            raise _ReplicaUnusable() from exc
        try:
            await conn.set_autocommit(True)
            return await work(self.unit_of_work(conn))
        except (psycopg.OperationalError, psycopg.InterfaceError) as exc:
            # lost connection, recovery conflict (40001), statement timeout: the primary answers instead
            raise _ReplicaUnusable() from exc
        finally:
            await self._release(conn, replica.database)

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
                committing = False
                if self.replicas is not None:
                    await self._note_commit_position(conn)
            return result
        except pg_errors.QueryCanceled as exc:
            # statement_timeout fired (a cancel for the caller's deadline surfaces as TimeoutError instead)
            raise DeadlineExceeded(
                "a statement ran past the statement timeout (INVENTORY_STATEMENT_TIMEOUT_MS)"
            ) from exc
        except psycopg.OperationalError as exc:
            if conn.closed or conn.broken or _server_ended_session(exc):
                if not conn.closed:
                    await conn.close()  # never back into the pool: its state is unknown (e.g. a pipeline)
                if committing:  # the commit may have happened: running the work again could repeat it
                    raise Unavailable("the database connection was lost during commit") from exc
                raise _ConnectionLost() from exc
            raise
        finally:
            await self._release(conn)  # rolls back whatever did not commit

    async def _note_commit_position(self, conn: Connection) -> None:
        """The WAL position after this commit becomes the call's consistency token (module docstring)."""
        try:
            await conn.set_autocommit(True)
            row = await (await conn.execute("SELECT pg_current_wal_lsn()::text")).fetchone()
        except psycopg.Error:
            # Committed, but no token: the caller's next read may be served by a replica that has not
            # replayed this write yet (as without a token); never fail a committed write for it.
            log.warning("could not read the WAL position after a commit; the response carries no token")
            return
        if row is not None:
            context.note_commit(context.parse_position(row[0]))

    def _acquire_timeout(self) -> float:
        remaining = context.remaining()
        limit = self.database.settings.pool_timeout
        return limit if remaining is None else max(0.001, min(limit, remaining - DEADLINE_MARGIN))

    async def _release(self, conn: Connection, database: Database | None = None) -> None:
        try:
            if not conn.closed and conn.info.transaction_status != TransactionStatus.IDLE:
                await conn.rollback()
        except (psycopg.Error, asyncio.CancelledError):
            log.debug("rollback on release failed; the pool will discard the connection")
        finally:
            await (database or self.database).putconn(conn)


class _ReplicaUnusable(Exception):
    """Internal: a read on a replica failed for the replica's sake; the primary serves it."""


class _ConnectionLost(Exception):
    """Internal: the connection broke before anything was committed."""


# The server ended the session (pg_terminate_backend, shutdown, crash): what psycopg raises may be
# a follow-on error (in pipeline mode, "cannot exit pipeline mode while busy") with the real cause
# in its context, before the connection is marked broken.
_SESSION_ENDED = (pg_errors.AdminShutdown, pg_errors.CrashShutdown, pg_errors.CannotConnectNow)


def _server_ended_session(exc: BaseException) -> bool:
    seen: BaseException | None = exc
    for _ in range(5):  # a short chain; never loop on a cycle
        if seen is None:
            return False
        if isinstance(seen, _SESSION_ENDED):
            return True
        seen = seen.__cause__ or seen.__context__
    return False
