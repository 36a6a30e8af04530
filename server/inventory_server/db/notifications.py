"""One LISTEN connection per replica for a channel whose notifications are only wake-ups.

The change stream's watchers all share this listener (never one database
connection per watcher). A notification carries no data: it says "something
was committed, look again". Each watcher then runs its own catch-up query from
its own position, so a missed notification only delays delivery, never loses
a row, and watchers poll on their heartbeat anyway.

The shape follows ``cache/listener.py``: a dedicated autocommit connection
opened *directly* (LISTEN needs a session, which a transaction-mode PgBouncer
does not keep, so this DSN must bypass it), reconnect with backoff, and a
``SELECT 1`` heartbeat that detects a silently dead connection. Every
(re)connection wakes everyone too, since notifications sent while the
connection was down are gone.

Watchers wait on a generation counter: read ``generation`` *before* a catch-up
query, then ``wait_beyond(generation, timeout)`` returns at once if anything
arrived meanwhile, so no wake-up falls between the query and the wait.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from typing import Any

import psycopg
from psycopg import sql

from inventory_server.db.background import BackgroundTask

log = logging.getLogger(__name__)


class HeartbeatTimeout(Exception):
    """Internal: the listening connection did not answer ``SELECT 1`` in time."""


class WakeUpListener:
    """LISTEN ``channel`` in the background from :meth:`start` to :meth:`stop`; see the module docstring."""

    def __init__(
        self,
        dsn: str,
        channel: str,
        *,
        heartbeat_interval: float = 5.0,
        connect_timeout: float = 5.0,
        initial_backoff: float = 0.1,
        max_backoff: float = 5.0,
        connect_kwargs: dict[str, Any] | None = None,
    ) -> None:
        if heartbeat_interval <= 0:
            raise ValueError("heartbeat_interval must be positive")
        self.dsn = dsn
        self.channel = channel
        self.heartbeat_interval = heartbeat_interval
        self.connect_timeout = connect_timeout
        self.initial_backoff = initial_backoff
        self.max_backoff = max_backoff
        self.connect_kwargs = dict(connect_kwargs or {})
        self.listening = asyncio.Event()
        self.generation = 0
        self.notifications = 0
        self.reconnects = 0
        self._next_wake = asyncio.Event()  # set (and replaced) by the next wake-up
        self._conn: psycopg.AsyncConnection[Any] | None = None
        self._task = BackgroundTask(f"listen-{channel}")

    async def start(self) -> None:
        self._task.start(self._run())

    async def stop(self) -> None:
        await self._task.stop()
        await self._discard()

    async def wait_listening(self, timeout: float) -> bool:
        """True once LISTEN is established (within ``timeout`` seconds)."""
        try:
            async with asyncio.timeout(timeout):
                await self.listening.wait()
        except TimeoutError:
            return False
        return True

    async def wait_beyond(self, generation: int, timeout: float) -> bool:
        """Wait until ``self.generation`` moves past ``generation``; False when ``timeout`` passed first."""
        if self.generation != generation:
            return True
        try:
            async with asyncio.timeout(max(0.0, timeout)):
                await self._next_wake.wait()
        except TimeoutError:
            return False
        return True

    def wake(self) -> None:
        """Wake every waiter (a notification arrived, or some may have been missed)."""
        self.generation += 1
        woken, self._next_wake = self._next_wake, asyncio.Event()
        woken.set()

    async def _run(self) -> None:
        backoff = self.initial_backoff
        while True:
            try:
                conn = await self._connect()
                self.listening.set()
                self.wake()  # whatever was sent while we were not listening is gone: look again
                log.info("LISTEN %s established", self.channel)
                backoff = self.initial_backoff
                await self._listen(conn)
            except (psycopg.Error, OSError, HeartbeatTimeout) as exc:
                log.warning(
                    "LISTEN %s lost (%s); reconnecting in %.1fs", self.channel, type(exc).__name__, backoff
                )
            except Exception:
                log.exception("LISTEN %s failed; reconnecting", self.channel)
            finally:
                self.listening.clear()
                await self._discard()
            await asyncio.sleep(backoff)
            self.reconnects += 1
            backoff = min(self.max_backoff, backoff * 2)

    async def _connect(self) -> psycopg.AsyncConnection[Any]:
        async with asyncio.timeout(self.connect_timeout + 1):
            self._conn = await psycopg.AsyncConnection.connect(
                self.dsn,
                autocommit=True,
                connect_timeout=max(1, int(self.connect_timeout)),
                **self.connect_kwargs,
            )
            await self._conn.execute(sql.SQL("LISTEN {}").format(sql.Identifier(self.channel)))
        return self._conn

    async def _listen(self, conn: psycopg.AsyncConnection[Any]) -> None:
        while True:
            # psycopg keeps notifications that arrive during the heartbeat for the next round
            async for _ in conn.notifies(timeout=self.heartbeat_interval):
                self.notifications += 1
                self.wake()
            await self._heartbeat(conn)

    async def _heartbeat(self, conn: psycopg.AsyncConnection[Any]) -> None:
        started = time.monotonic()
        try:
            async with asyncio.timeout(self.heartbeat_interval):
                await conn.execute("SELECT 1")
        except TimeoutError:
            raise HeartbeatTimeout(f"no answer in {time.monotonic() - started:.1f}s") from None

    async def _discard(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            with contextlib.suppress(Exception):
                await conn.close()
