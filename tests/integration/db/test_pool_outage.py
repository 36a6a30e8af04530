"""The data layer through a database outage, against a PostgreSQL the test stops and restarts.

Wired as the application wires it: ``Database`` (the pool), ``TransactionManager``
and a ``HealthMonitor`` whose recovery hook is ``Database.recover``. While the
database is away, every unit of work fails fast with ``Unavailable`` (never
another exception, never a hang); the monitor reports NOT_SERVING after its
threshold and SERVING when the database is back; work succeeds again without
anyone reopening anything.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import psycopg
import pytest

from inventory_server.config import Settings
from inventory_server.db.database import Database
from inventory_server.db.health import HealthMonitor
from inventory_server.db.transaction_manager import TransactionManager
from inventory_server.domain.errors import Unavailable

if TYPE_CHECKING:
    from tests.pg_cluster import PgCluster

POOL_TIMEOUT = 1.0
# Fail fast: one acquisition timeout plus room for a loaded 2-core machine.
FAIL_FAST_LIMIT = POOL_TIMEOUT + 3.0


Conn = psycopg.AsyncConnection[Any]


async def select_one(conn: Conn) -> int:
    """A unit of work over the bare connection: the manager knows no repository."""
    cursor = await conn.execute("SELECT 1")
    row = await cursor.fetchone()
    return int(row[0]) if row else 0


@dataclass
class Stack:
    database: Database
    manager: TransactionManager[Conn]
    monitor: HealthMonitor
    transitions: list[bool] = field(default_factory=list)

    async def wait_for_status(self, serving: bool, timeout: float = 20.0) -> float:
        """Wait until the monitor has announced ``serving``; when it did (monotonic)."""
        deadline = time.monotonic() + timeout
        while not (self.transitions and self.transitions[-1] is serving):
            if time.monotonic() > deadline:
                raise AssertionError(f"health never became {serving}: {self.transitions}")
            await asyncio.sleep(0.05)
        return time.monotonic()


async def open_stack(dsn: str, *, wait: bool) -> Stack:
    settings = Settings(pool_min_size=2, pool_max_size=4, pool_timeout=POOL_TIMEOUT)
    database = Database(dsn, settings)
    await database.open(wait=wait)
    transitions: list[bool] = []

    async def record(serving: bool) -> None:
        transitions.append(serving)

    monitor = HealthMonitor(
        dsn, record, interval=0.2, timeout=1.0, failure_threshold=2, on_recover=database.recover
    )
    await monitor.start()
    return Stack(database, TransactionManager(database, lambda conn: conn), monitor, transitions)


@pytest.fixture
async def stack(cluster: PgCluster) -> AsyncIterator[Stack]:
    opened = await open_stack(cluster.dsn(), wait=True)
    yield opened
    await opened.monitor.stop()
    await opened.database.close()


async def fails_fast_with_unavailable(run: Callable[[], Awaitable[Any]]) -> float:
    started = time.monotonic()
    with pytest.raises(Unavailable):
        await run()
    elapsed = time.monotonic() - started
    assert elapsed < FAIL_FAST_LIMIT, f"took {elapsed:.2f}s to fail"
    return elapsed


async def succeeds_within(manager: TransactionManager[Conn], seconds: float) -> float:
    """Retry ``SELECT 1`` until it works; how long that took. Fails past ``seconds``."""
    started = time.monotonic()
    while True:
        try:
            assert await manager.read(select_one) == 1
            return time.monotonic() - started
        except Unavailable:
            if time.monotonic() - started > seconds:
                raise
            await asyncio.sleep(0.1)


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["fast", "immediate"])
async def test_work_fails_fast_while_the_database_is_down_and_succeeds_after_it_returns(
    cluster: PgCluster, stack: Stack, mode: str
) -> None:
    assert await stack.manager.read(select_one) == 1
    await asyncio.to_thread(cluster.stop, mode)  # type: ignore[arg-type]

    for _ in range(4):  # broken pooled connections first, then no connection at all
        await fails_fast_with_unavailable(lambda: stack.manager.read(select_one))
        await fails_fast_with_unavailable(lambda: stack.manager.write(select_one))
    await stack.wait_for_status(False)
    assert stack.database.stats()["acquisition_timeouts"] >= 1

    await asyncio.to_thread(cluster.start)
    serving_at = await stack.wait_for_status(True)
    await succeeds_within(stack.manager, 10.0)
    assert time.monotonic() - serving_at < 10.0
    assert stack.transitions == [True, False, True]


@pytest.mark.slow
async def test_a_long_outage_heals_as_soon_as_the_database_returns(cluster: PgCluster, stack: Stack) -> None:
    """Reconnect attempts back off exponentially through an outage; recovery must not wait for them."""
    await asyncio.to_thread(cluster.stop, "immediate")
    outage_end = time.monotonic() + 16.0
    while time.monotonic() < outage_end:  # traffic during the outage, as in production
        await fails_fast_with_unavailable(lambda: stack.manager.read(select_one))
        await asyncio.sleep(0.3)
    await asyncio.to_thread(cluster.start)
    await stack.wait_for_status(True)
    # Without a fresh pool the next backed-off attempt could be ~15 s away.
    assert await succeeds_within(stack.manager, 5.0) < 5.0
    assert stack.database.stats()["pool_renewals"] == 1


async def test_the_stack_starts_while_the_database_is_down_and_serves_once_it_is_up(
    cluster: PgCluster,
) -> None:
    await asyncio.to_thread(cluster.stop, "fast")
    stack = await open_stack(cluster.dsn(), wait=False)
    try:
        assert stack.transitions == [False]
        await fails_fast_with_unavailable(lambda: stack.manager.read(select_one))
        await asyncio.to_thread(cluster.start)
        await stack.wait_for_status(True)
        await succeeds_within(stack.manager, 10.0)
        assert stack.transitions == [False, True]
    finally:
        await stack.monitor.stop()
        await stack.database.close()


async def test_stats_counters_survive_a_pool_renewal(cluster: PgCluster, stack: Stack) -> None:
    for _ in range(5):
        await stack.manager.read(select_one)
    before = stack.database.stats()
    await stack.database.recover()
    await stack.manager.read(select_one)
    after = stack.database.stats()
    assert after["requests_num"] == before["requests_num"] + 1
    assert after["connections_num"] >= before["connections_num"]
    assert after["pool_renewals"] == before["pool_renewals"] + 1


async def test_a_connection_lent_before_a_renewal_goes_back_to_its_own_pool(stack: Stack) -> None:
    conn = await stack.database.getconn(timeout=5)
    old_pool = stack.database.pool
    await stack.database.recover()
    assert stack.database.pool is not old_pool
    await stack.database.putconn(conn)  # the new pool would refuse it with ValueError
    await _wait(lambda: conn.closed)  # the retired pool closes what it holds once it has shut down
    assert await stack.manager.read(select_one) == 1


async def test_a_failing_recovery_hook_does_not_stop_the_monitor(cluster: PgCluster) -> None:
    transitions: list[bool] = []

    async def record(serving: bool) -> None:
        transitions.append(serving)

    async def broken_hook() -> None:
        raise RuntimeError("recovery hook failed")

    monitor = HealthMonitor(
        cluster.dsn(), record, interval=0.2, timeout=1.0, failure_threshold=1, on_recover=broken_hook
    )
    await monitor.start()
    try:
        for _ in range(2):  # two full outages: the loop must survive the hook failing the first time
            await asyncio.to_thread(cluster.stop, "immediate")
            await _wait(lambda: transitions[-1] is False)
            await asyncio.to_thread(cluster.start)
            await _wait(lambda: transitions[-1] is True)
        assert transitions == [True, False, True, False, True]
    finally:
        await monitor.stop()


async def test_work_after_the_pool_closed_is_unavailable_not_internal(stack: Stack) -> None:
    await stack.database.close()
    with pytest.raises(Unavailable):
        await stack.manager.read(select_one)


async def _wait(condition: Callable[[], bool], timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.05)


async def test_a_request_waiting_on_the_old_pool_is_served_by_the_new_one(stack: Stack) -> None:
    held = [await stack.database.getconn(timeout=5) for _ in range(4)]  # max_size: the pool is exhausted
    waiter = asyncio.create_task(stack.database.getconn(timeout=10))
    await _wait(lambda: stack.database.stats()["acquiring"] == 1)
    await stack.database.recover()  # closing the old pool fails its waiters with PoolClosed
    conn = await asyncio.wait_for(waiter, timeout=8)
    assert not conn.closed
    await stack.database.putconn(conn)
    for old in held:
        await stack.database.putconn(old)
    assert stack.database.stats()["acquiring"] == 0
    assert stack.database.acquisition_timeouts == 0
