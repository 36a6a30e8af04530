"""The connection pool: opened and closed by the app, never at import time.

A thin owner of ``psycopg_pool.AsyncConnectionPool`` that keeps the settings
in one place and adds the counters that the pool itself does not keep.

After an outage the pool would heal by itself, but slowly: each of its
reconnection attempts backs off exponentially (1 s, 2 s, 4 s ... up to
``reconnect_timeout``), so after a minute-long outage the next attempt may be
half a minute away while the database is already back. ``recover()`` (called
by the health monitor when the database answers again) therefore swaps in a
fresh pool, which connects at once, and retires the old one: connections it
lent out go back to it when their work ends and are closed there.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from typing import Any

import psycopg
from psycopg_pool import AsyncConnectionPool, PoolClosed, PoolTimeout

from inventory_server.config import Settings
from inventory_server.dsn import mask_dsn

log = logging.getLogger(__name__)

Pool = AsyncConnectionPool[psycopg.AsyncConnection[Any]]
# get_stats() keys that are measures of now rather than counters since start.
MEASURES = frozenset({"pool_min", "pool_max", "pool_size", "pool_available", "requests_waiting"})


class Database:
    """Owns the pool. ``getconn``/``putconn`` lend connections to units of work."""

    def __init__(
        self,
        dsn: str,
        settings: Settings,
        *,
        cursor_factory: type[psycopg.AsyncCursor[Any]] | None = None,
    ) -> None:
        self.dsn = dsn
        self.settings = settings
        # db.tracing's cursor when tracing is on; None keeps psycopg's own (no cost).
        self.cursor_factory = cursor_factory
        self.acquisition_timeouts = 0
        self.acquiring = 0  # requests inside getconn now (the pool's own count keeps timed-out ones)
        self.renewals = 0
        self.pool: Pool = self._new_pool()
        self._lenders: dict[int, Pool] = {}  # id(conn) -> the pool that lent it
        self._retired_counts: Counter[str] = Counter()
        self._retiring: set[asyncio.Task[None]] = set()

    def _new_pool(self) -> Pool:
        s = self.settings
        kwargs = s.connection_kwargs()
        if self.cursor_factory is not None:
            kwargs["cursor_factory"] = self.cursor_factory
        return AsyncConnectionPool(
            self.dsn,
            min_size=s.pool_min_size,
            max_size=s.pool_max_size,
            timeout=s.pool_timeout,
            max_lifetime=s.pool_max_lifetime,
            max_idle=s.pool_max_idle,
            reconnect_timeout=s.pool_reconnect_timeout,
            kwargs=kwargs,
            check=AsyncConnectionPool.check_connection if s.pool_check_on_checkout else None,
            name="inventory",
            open=False,
        )

    async def open(self, *, wait: bool = False, timeout: float = 30.0) -> None:
        """Open the pool. With ``wait`` the call fails unless min_size connections come up in time."""
        log.info("opening connection pool to %s", mask_dsn(self.dsn))
        await self.pool.open(wait=wait, timeout=timeout)

    async def close(self, timeout: float = 5.0) -> None:
        await self.pool.close(timeout=timeout)
        if self._retiring:
            await asyncio.gather(*self._retiring, return_exceptions=True)

    async def getconn(self, timeout: float | None = None) -> psycopg.AsyncConnection[Any]:
        """A connection from the current pool; PoolTimeout when none comes in ``timeout`` seconds."""
        loop = asyncio.get_running_loop()
        deadline = None if timeout is None else loop.time() + timeout
        self.acquiring += 1
        try:
            while True:
                pool = self.pool
                left = None if deadline is None else max(0.001, deadline - loop.time())
                try:
                    conn = await pool.getconn(timeout=left)
                except PoolClosed:
                    if pool is self.pool:  # closed for good: the server is stopping
                        raise
                    continue  # the pool was renewed while we waited: ask the new one
                self._lenders[id(conn)] = pool
                return conn
        except PoolTimeout:
            self.acquisition_timeouts += 1
            raise
        finally:
            self.acquiring -= 1

    async def putconn(self, conn: psycopg.AsyncConnection[Any]) -> None:
        """Give a connection back to the pool that lent it (closed there if that pool is retired)."""
        pool = self._lenders.pop(id(conn), self.pool)
        await pool.putconn(conn)

    async def recover(self) -> None:
        """After an outage: a fresh pool that connects now instead of when its backoff says."""
        old, self.pool = self.pool, self._new_pool()
        self.renewals += 1
        await self.pool.open(wait=False)
        self._retired_counts.update({k: v for k, v in old.get_stats().items() if k not in MEASURES})
        task = asyncio.create_task(old.close(timeout=self.settings.grace_period), name="retire-pool")
        self._retiring.add(task)
        task.add_done_callback(self._retiring.discard)
        log.info("database is back: opened a fresh connection pool (renewal %d)", self.renewals)

    def stats(self) -> dict[str, int]:
        """``pool.get_stats()`` (counters summed over renewed pools) plus our own counters; no I/O."""
        figures = dict(self.pool.get_stats())
        for key, value in self._retired_counts.items():
            figures[key] = figures.get(key, 0) + value
        figures["acquisition_timeouts"] = self.acquisition_timeouts
        figures["acquiring"] = self.acquiring
        figures["pool_renewals"] = self.renewals
        return figures
