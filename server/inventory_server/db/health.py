"""Database health monitor: reports whether the database answers, from real checks.

It keeps one dedicated connection (so pool pressure never looks like an
outage), runs ``SELECT 1`` every ``interval`` seconds, and after
``failure_threshold`` failures in a row reports the database down
(``on_change(False)``); the first success asks the pool to reconnect
(``on_recover``) and then reports it up again. Given a ``schema`` expectation,
a database that answers but whose migration history is not this build's
(``db.schema``) is reported down at once, with the reason in
``figures.reason`` and the log, and up again by the first check after it was
migrated: a server on an unmigrated database would answer INTERNAL to every
call. What "down" means to the
outside (gRPC health NOT_SERVING) is the composition root's business: this
module knows no transport.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import psycopg

from inventory_server.db.background import BackgroundTask
from inventory_server.db.schema import SchemaExpectation, read_schema_problem

log = logging.getLogger(__name__)

# Told True / False when the database comes back / goes down (and once at start).
HealthObserver = Callable[[bool], Awaitable[None]]


@dataclass
class HealthFigures:
    """What the monitor has observed, for the Stats RPC."""

    serving: bool = False
    checks: int = 0
    consecutive_failures: int = 0
    latency_ms: float = 0.0
    last_check_time: datetime | None = None
    # Why not serving ("" while serving): the database does not answer, or its schema is wrong.
    reason: str = "database not checked yet"


class HealthMonitor:
    """Checks the database on an interval and reports transitions to ``on_change``."""

    def __init__(
        self,
        dsn: str,
        on_change: HealthObserver,
        *,
        interval: float = 5.0,
        timeout: float = 2.0,
        failure_threshold: int = 3,
        on_recover: Callable[[], Awaitable[None]] | None = None,
        connect_kwargs: dict[str, Any] | None = None,
        schema: SchemaExpectation | None = None,
    ) -> None:
        self.dsn = dsn
        self.on_change = on_change
        self.on_recover = on_recover
        self.interval = interval
        self.timeout = timeout
        self.failure_threshold = failure_threshold
        self.connect_kwargs = dict(connect_kwargs or {})
        self.schema = schema
        self.figures = HealthFigures()
        self._conn: psycopg.AsyncConnection[Any] | None = None
        self._task = BackgroundTask("database-health-monitor")

    async def start(self) -> None:
        """Run a first check now (so the status is true from the start), then check in the background."""
        await self.check_once()
        await self.on_change(self.figures.serving)
        self._task.start(self._loop())

    async def stop(self) -> None:
        await self._task.stop()
        await self._discard()

    async def _loop(self) -> None:
        while True:
            await asyncio.sleep(self.interval)
            was_serving = self.figures.serving
            await self.check_once()
            if self.figures.serving != was_serving:
                await self._transition(self.figures.serving)

    async def _transition(self, serving: bool) -> None:
        """Report a change; on recovery let the pool reconnect first, then announce SERVING.

        A failing handler is logged and never ends the monitor: health must keep moving.
        """
        log.warning("database health changed: %s", "SERVING" if serving else "NOT_SERVING")
        if serving and self.on_recover is not None:
            try:
                await self.on_recover()
            except Exception:
                log.exception("recovery handler failed; the pool heals on its own")
        try:
            await self.on_change(serving)
        except Exception:
            log.exception("could not publish the health status")

    async def check_once(self) -> bool:
        """One check; updates the figures and the serving flag. Never raises for database trouble."""
        started = time.perf_counter()
        ok = False
        schema_problem: str | None = None
        try:
            async with asyncio.timeout(self.timeout):
                conn = await self._connection()
                await conn.execute("SELECT 1")
                latency_ms = (time.perf_counter() - started) * 1000
                if self.schema is not None:
                    schema_problem = await read_schema_problem(conn, self.schema)
            ok = True
        except (psycopg.Error, TimeoutError, OSError) as error:
            await self._discard()
            failure = f"database check failed: {type(error).__name__}"
        figures = self.figures
        figures.checks += 1
        figures.last_check_time = datetime.now(UTC)
        previous_reason = figures.reason
        if ok:
            figures.latency_ms = latency_ms
            figures.consecutive_failures = 0
            # A wrong schema is not an outage to ride out: it does not heal by waiting.
            figures.serving = schema_problem is None
            figures.reason = schema_problem or ""
        else:
            figures.consecutive_failures += 1
            if figures.consecutive_failures >= self.failure_threshold or figures.checks == 1:
                figures.serving = False
                figures.reason = failure
        if figures.reason and figures.reason != previous_reason:
            log.warning("database not ready: %s", figures.reason)
        return ok and schema_problem is None

    async def _connection(self) -> psycopg.AsyncConnection[Any]:
        if self._conn is None or self._conn.closed:
            self._conn = await psycopg.AsyncConnection.connect(
                self.dsn, autocommit=True, connect_timeout=max(1, int(self.timeout)), **self.connect_kwargs
            )
        return self._conn

    async def _discard(self) -> None:
        if self._conn is not None:
            with contextlib.suppress(Exception):
                await self._conn.close()
            self._conn = None
