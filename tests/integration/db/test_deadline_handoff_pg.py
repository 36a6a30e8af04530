"""The caller's deadline, handed over by the interceptor, cancels the statement inside PostgreSQL.

End to end, gRPC cancels a handler whose deadline passed, and that alone
cancels the query too, so tests/e2e/test_deadlines.py passes without the
hand-off. Here the wrapped handler runs without gRPC: nobody cancels it, so
only the hand-off (context -> TransactionManager -> cancel on the server) can
end a ``pg_sleep`` far longer than the deadline. The statement must be gone
from ``pg_stat_activity`` soon after the deadline, while the test itself would
keep waiting much longer.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import grpc
import psycopg
import pytest
from grpc import aio

from inventory_server.api.interceptors import CallInterceptor
from inventory_server.api.metrics import MethodStats
from inventory_server.config import Settings
from inventory_server.db.database import Database
from inventory_server.db.transaction_manager import TransactionManager

METHOD = "/inventory.v1.ProductService/GetProduct"
DEADLINE = 0.5
SLEEP = 20  # seconds the statement would run on its own
PATIENCE = 8.0  # how long the "client" would still wait
APPLICATION = "inventory-deadline-handoff"


class DeadlineContext:
    """A servicer context with a deadline that records the status it was aborted with."""

    def __init__(self, remaining: float) -> None:
        self.remaining = remaining
        self.status: grpc.Status | None = None

    def time_remaining(self) -> float:
        return self.remaining

    def invocation_metadata(self) -> tuple[tuple[str, str], ...]:
        return ()  # no consistency token

    async def abort_with_status(self, status: grpc.Status) -> None:
        self.status = status
        raise aio.AbortError()


def sleeping_backends(dsn: str) -> int:
    with psycopg.connect(dsn, autocommit=True) as conn:
        row = conn.execute(
            "SELECT count(*) FROM pg_stat_activity"
            " WHERE application_name = %s AND state = 'active' AND query LIKE %s",
            (APPLICATION, "%pg_sleep%"),
        ).fetchone()
    return int(row[0]) if row else 0


async def test_the_statement_is_cancelled_on_the_server_within_the_deadline(empty_dsn: str) -> None:
    database = Database(empty_dsn, Settings(pool_min_size=1, pool_max_size=2, application_name=APPLICATION))
    await database.open(wait=True)
    manager = TransactionManager(database, lambda conn: conn)

    async def sleep(conn: psycopg.AsyncConnection[Any]) -> None:
        await conn.execute("SELECT pg_sleep(%s)", (SLEEP,))

    async def behaviour(request: object, ctx: object) -> None:
        await manager.read(sleep)

    ctx = DeadlineContext(DEADLINE)
    handler: Any = CallInterceptor(MethodStats())._wrap(METHOD, behaviour)
    started = time.monotonic()
    try:
        async with asyncio.timeout(PATIENCE):
            with pytest.raises(aio.AbortError):
                await handler(object(), ctx)
        elapsed = time.monotonic() - started
        assert ctx.status is not None
        assert ctx.status.code == grpc.StatusCode.DEADLINE_EXCEEDED
        assert elapsed < DEADLINE + 2.0, f"the work ran {elapsed:.2f}s past a {DEADLINE}s deadline"
        for _ in range(40):  # 2 s for the cancel to reach the backend
            left = await asyncio.to_thread(sleeping_backends, empty_dsn)
            if not left:
                break
            await asyncio.sleep(0.05)
        assert left == 0, "the statement still runs in PostgreSQL after the deadline"
    finally:
        await database.close()
