"""IdempotencyRepository on PostgreSQL: claims, stored responses and concurrent retries."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import psycopg
import pytest

from inventory_server.domain.errors import InvalidArgument
from inventory_server.repositories.idempotency import IdempotencyRepository

Conn = psycopg.AsyncConnection[Any]


async def test_first_claim_owns_the_key_and_a_retry_gets_the_stored_response(conn: Conn) -> None:
    keys = IdempotencyRepository(conn)
    assert await keys.claim("CreateProduct", "req-1", "fp") is None
    await keys.store("CreateProduct", "req-1", {"ids": ["a"]})
    await conn.commit()
    assert await keys.claim("CreateProduct", "req-1", "fp") == {"ids": ["a"]}


async def test_scopes_keep_keys_apart(conn: Conn) -> None:
    keys = IdempotencyRepository(conn)
    assert await keys.claim("A", "req", "fp") is None
    assert await keys.claim("B", "req", "other") is None


async def test_the_same_key_with_another_fingerprint_is_invalid(conn: Conn) -> None:
    keys = IdempotencyRepository(conn)
    await keys.claim("S", "req-2", "fp-1")
    await keys.store("S", "req-2", {"ok": True})
    await conn.commit()
    with pytest.raises(InvalidArgument) as caught:
        await keys.claim("S", "req-2", "fp-2")
    assert caught.value.violations[0].field == "request_id"


async def test_claiming_twice_in_one_transaction_still_owns_the_key(conn: Conn) -> None:
    keys = IdempotencyRepository(conn)
    assert await keys.claim("S", "req-3", "fp") is None
    assert await keys.claim("S", "req-3", "fp") is None
    await keys.store("S", "req-3", {"n": 1})


async def test_store_without_a_claim_is_a_bug(conn: Conn) -> None:
    with pytest.raises(RuntimeError, match="without a claim"):
        await IdempotencyRepository(conn).store("S", "never-claimed", {})


async def test_a_concurrent_claim_waits_and_then_sees_the_committed_response(
    conn: Conn, migrated_dsn: str
) -> None:
    first = IdempotencyRepository(conn)
    assert await first.claim("S", "req-4", "fp") is None
    async with await psycopg.AsyncConnection.connect(migrated_dsn) as other_conn:
        second = asyncio.create_task(IdempotencyRepository(other_conn).claim("S", "req-4", "fp"))
        await asyncio.sleep(0.2)
        assert not second.done(), "the second claim must wait for the first transaction"
        await first.store("S", "req-4", {"ids": ["x"]})
        await conn.commit()
        assert await asyncio.wait_for(second, 5) == {"ids": ["x"]}


async def test_a_concurrent_claim_owns_the_key_when_the_first_rolls_back(
    conn: Conn, migrated_dsn: str
) -> None:
    first = IdempotencyRepository(conn)
    assert await first.claim("S", "req-5", "fp") is None
    async with await psycopg.AsyncConnection.connect(migrated_dsn) as other_conn:
        second = asyncio.create_task(IdempotencyRepository(other_conn).claim("S", "req-5", "fp"))
        await asyncio.sleep(0.2)
        assert not second.done()
        await conn.rollback()
        assert await asyncio.wait_for(second, 5) is None


async def test_purge_forgets_old_keys_only(conn: Conn) -> None:
    keys = IdempotencyRepository(conn)
    await keys.claim("S", "old", "fp")
    await keys.store("S", "old", {})
    await conn.commit()
    await conn.execute("UPDATE idempotency_keys SET create_time = now() - interval '2 days'")
    await keys.claim("S", "new", "fp")
    assert await keys.purge_older_than(timedelta(days=1)) == 1
    assert await keys.claim("S", "old", "fp") is None
