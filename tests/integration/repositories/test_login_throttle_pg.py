"""LoginThrottleRepository on PostgreSQL: counting per key, blocking at the limit, windows, clearing."""

from __future__ import annotations

import asyncio
from typing import Any

import psycopg

from inventory_server.domain.login_throttle import ThrottleKey
from inventory_server.repositories.login_throttle import LoginThrottleRepository

Conn = psycopg.AsyncConnection[Any]
ACCOUNT = ThrottleKey("account:abc", 3)
CALLER = ThrottleKey("principal:front", 5)


async def test_a_key_is_blocked_for_one_window_when_it_reaches_its_limit(conn: Conn) -> None:
    throttle = LoginThrottleRepository(conn)
    for _ in range(2):
        await throttle.record_failure([ACCOUNT, CALLER], 60)
    assert await throttle.blocked_for([ACCOUNT, CALLER]) == 0
    await throttle.record_failure([ACCOUNT, CALLER], 60)
    blocked = await throttle.blocked_for([ACCOUNT, CALLER])
    assert 55 < blocked <= 60
    assert await throttle.blocked_for([CALLER]) == 0  # the caller has not reached its own limit
    await throttle.clear(ACCOUNT)
    assert await throttle.blocked_for([ACCOUNT]) == 0


async def test_failures_older_than_the_window_start_a_new_count(conn: Conn) -> None:
    throttle = LoginThrottleRepository(conn)
    for _ in range(2):
        await throttle.record_failure([ACCOUNT], 0.2)
    await asyncio.sleep(0.3)  # the window is over: the next failure counts as the first
    await throttle.record_failure([ACCOUNT], 0.2)
    assert await throttle.blocked_for([ACCOUNT]) == 0
    async with conn.cursor() as cursor:
        await cursor.execute("SELECT failures FROM login_throttle WHERE key = %s", (ACCOUNT.key,))
        assert await cursor.fetchone() == (1,)
