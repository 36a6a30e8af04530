"""Keeps the product cache honest across replicas: LISTEN inventory_products on a dedicated connection.

Migration 0008 makes every committed change of ``products`` send the changed
ids (or ``*`` for "everything") on the ``inventory_products`` channel. This
listener invalidates them in the local :class:`ProductCache`. It never lets the
cache serve while it might be missing notifications:

* the cache stays suspended (bypassed, empty) from start until LISTEN succeeds;
* a lost connection (error, ``pg_terminate_backend``, server restart) suspends
  it at once, then the listener reconnects with backoff and resumes the cache;
* a *silently* dead connection (no RST, a frozen network path) is caught by a
  heartbeat: after ``heartbeat_interval`` seconds without a round trip the
  listener runs ``SELECT 1``; if that takes longer than ``heartbeat_interval``
  the cache is suspended before anything else happens. TCP keepalives are on
  as a second line of defence.

A successful heartbeat also proves that every notification committed before it
began has arrived (PostgreSQL sends pending notifications before it reports a
query done), so a cached row is stale for at most ``2 * heartbeat_interval``
after the write committed even when the connection dies silently.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Iterable
from typing import Any
from uuid import UUID

import psycopg
from psycopg import sql

from inventory_server.cache.product_cache import ProductCache
from inventory_server.db.background import BackgroundTask

log = logging.getLogger(__name__)

CHANNEL = "inventory_products"
EVERYTHING = "*"


def parse_payload(payload: str) -> list[UUID] | None:
    """The ids a notification names, or None for "forget everything" (``*`` or an unreadable payload)."""
    if payload == EVERYTHING:
        return None
    try:
        return [UUID(part) for part in payload.split(",")]
    except ValueError:
        return None


class ListenerLost(Exception):
    """Internal: the listening connection is unusable (heartbeat timed out)."""


class ProductChangeListener:
    """Runs in the background from :meth:`start` to :meth:`stop`; see the module docstring."""

    def __init__(
        self,
        dsn: str,
        cache: ProductCache,
        *,
        heartbeat_interval: float = 2.0,
        connect_timeout: float = 5.0,
        initial_backoff: float = 0.1,
        max_backoff: float = 5.0,
        connect_kwargs: dict[str, Any] | None = None,
        channel: str = CHANNEL,
    ) -> None:
        if heartbeat_interval <= 0:
            raise ValueError("heartbeat_interval must be positive")
        self.dsn = dsn
        self.cache = cache
        self.heartbeat_interval = heartbeat_interval
        self.connect_timeout = connect_timeout
        self.initial_backoff = initial_backoff
        self.max_backoff = max_backoff
        self.connect_kwargs = dict(connect_kwargs or {})
        self.channel = channel
        self.listening = asyncio.Event()
        self.notifications = 0
        self.reconnects = 0
        self.last_heartbeat = 0.0
        self._conn: psycopg.AsyncConnection[Any] | None = None
        self._task = BackgroundTask("product-cache-listener")

    async def start(self) -> None:
        """Start listening in the background; the cache serves once LISTEN is up."""
        self.cache.suspend()
        self._task.start(self._run())

    async def stop(self) -> None:
        await self._task.stop()
        self.cache.suspend()
        await self._discard()

    async def wait_listening(self, timeout: float) -> bool:
        """True once LISTEN is established (within ``timeout`` seconds)."""
        try:
            async with asyncio.timeout(timeout):
                await self.listening.wait()
        except TimeoutError:
            return False
        return True

    async def _run(self) -> None:
        backoff = self.initial_backoff
        while True:
            try:
                conn = await self._connect()
                self.cache.resume()
                self.listening.set()
                log.info("product cache listener: LISTEN %s established", self.channel)
                backoff = self.initial_backoff
                await self._listen(conn)
            except (psycopg.Error, OSError, ListenerLost) as exc:
                log.warning(
                    "product cache listener lost (%s); cache bypassed, reconnecting in %.1fs",
                    type(exc).__name__,
                    backoff,
                )
            except Exception:
                log.exception("product cache listener failed; cache bypassed, reconnecting")
            finally:
                self._lost()  # also when cancelled by stop()
                await self._discard()
            await asyncio.sleep(backoff)
            self.reconnects += 1
            backoff = min(self.max_backoff, backoff * 2)

    def _lost(self) -> None:
        """Bypass the cache first: from now on notifications may be missed."""
        self.listening.clear()
        self.cache.suspend()

    async def _connect(self) -> psycopg.AsyncConnection[Any]:
        async with asyncio.timeout(self.connect_timeout + 1):
            self._conn = await psycopg.AsyncConnection.connect(
                self.dsn,
                autocommit=True,
                connect_timeout=max(1, int(self.connect_timeout)),
                **self.connect_kwargs,
            )
            await self._conn.execute(sql.SQL("LISTEN {}").format(sql.Identifier(self.channel)))
        self.last_heartbeat = time.monotonic()
        return self._conn

    async def _listen(self, conn: psycopg.AsyncConnection[Any]) -> None:
        while True:
            async for notify in conn.notifies(timeout=self.heartbeat_interval):
                self.notifications += 1
                self.apply(notify.payload)
            await self._heartbeat(conn)

    def apply(self, payload: str) -> None:
        """Invalidate what one notification names."""
        ids: Iterable[UUID] | None = parse_payload(payload)
        if ids is None:
            self.cache.clear()
        else:
            self.cache.invalidate(ids)

    async def _heartbeat(self, conn: psycopg.AsyncConnection[Any]) -> None:
        """``SELECT 1`` within ``heartbeat_interval``, or suspend the cache and give the connection up."""
        check = asyncio.ensure_future(conn.execute("SELECT 1"))
        try:
            await asyncio.wait({check}, timeout=self.heartbeat_interval)
        finally:
            if not check.done():
                self._lost()  # first: psycopg may take seconds to give up on the query
                check.cancel()
                await asyncio.wait({check})
        if check.cancelled():
            raise ListenerLost("heartbeat timed out")
        check.result()
        self.last_heartbeat = time.monotonic()

    async def _discard(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            with contextlib.suppress(Exception):
                await conn.close()


def listener_connect_kwargs(application_name: str, heartbeat_interval: float) -> dict[str, Any]:
    """Connection keywords: its own application_name and TCP keepalives near the heartbeat cadence."""
    idle = max(1, int(heartbeat_interval))
    return {
        "application_name": f"{application_name}-listener",
        "keepalives": 1,
        "keepalives_idle": idle,
        "keepalives_interval": idle,
        "keepalives_count": 3,
    }
