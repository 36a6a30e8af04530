"""The connection pool: opened and closed by the app, never at import time.

A thin owner of ``psycopg_pool.AsyncConnectionPool`` that keeps the settings
in one place and adds the counters that the pool itself does not keep.
"""

from __future__ import annotations

import logging
from typing import Any

import psycopg
from psycopg_pool import AsyncConnectionPool, PoolTimeout

from inventory_server.config import Settings, redact_dsn

log = logging.getLogger(__name__)


class Database:
    """Owns the pool. ``getconn``/``putconn`` lend connections to units of work."""

    def __init__(self, dsn: str, settings: Settings) -> None:
        self.dsn = dsn
        self.settings = settings
        self.acquisition_timeouts = 0
        self.pool: AsyncConnectionPool[psycopg.AsyncConnection[Any]] = AsyncConnectionPool(
            dsn,
            min_size=settings.pool_min_size,
            max_size=settings.pool_max_size,
            timeout=settings.pool_timeout,
            max_lifetime=settings.pool_max_lifetime,
            max_idle=settings.pool_max_idle,
            reconnect_timeout=settings.pool_reconnect_timeout,
            kwargs=settings.connection_kwargs(),
            check=AsyncConnectionPool.check_connection if settings.pool_check_on_checkout else None,
            name="inventory",
            open=False,
        )

    async def open(self, *, wait: bool = False, timeout: float = 30.0) -> None:
        """Open the pool. With ``wait`` the call fails unless min_size connections come up in time."""
        log.info("opening connection pool to %s", redact_dsn(self.dsn))
        await self.pool.open(wait=wait, timeout=timeout)

    async def close(self, timeout: float = 5.0) -> None:
        await self.pool.close(timeout=timeout)

    async def getconn(self, timeout: float | None = None) -> psycopg.AsyncConnection[Any]:
        try:
            return await self.pool.getconn(timeout=timeout)
        except PoolTimeout:
            self.acquisition_timeouts += 1
            raise

    async def putconn(self, conn: psycopg.AsyncConnection[Any]) -> None:
        await self.pool.putconn(conn)

    async def check(self) -> None:
        """Test the idle connections and replace broken ones (used after an outage)."""
        await self.pool.check()

    def stats(self) -> dict[str, int]:
        """``pool.get_stats()`` plus our own counters; cheap, no I/O."""
        figures = dict(self.pool.get_stats())
        figures["acquisition_timeouts"] = self.acquisition_timeouts
        return figures
