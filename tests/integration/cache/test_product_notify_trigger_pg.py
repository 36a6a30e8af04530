"""Migration 0008: what committed product changes send on the inventory_products channel."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import psycopg
import pytest

Conn = psycopg.AsyncConnection[Any]


@pytest.fixture
async def listening(migrated_dsn: str) -> AsyncIterator[Conn]:
    conn = await psycopg.AsyncConnection.connect(migrated_dsn, autocommit=True)
    await conn.execute("LISTEN inventory_products")
    try:
        yield conn
    finally:
        await conn.close()


async def payloads(conn: Conn, timeout: float = 0.5) -> list[str]:
    return [n.payload async for n in conn.notifies(timeout=timeout)]


async def insert_products(conn: Conn, count: int) -> list[str]:
    cursor = await conn.execute(
        "INSERT INTO products (sku, name) SELECT 'S-' || g, 'n' FROM generate_series(1, %s) g RETURNING id",
        (count,),
    )
    return [str(row[0]) for row in await cursor.fetchall()]


async def test_inserts_send_nothing(listening: Conn, writer: Conn) -> None:
    await insert_products(writer, 3)
    assert await payloads(listening) == []


async def test_an_update_sends_the_ids_it_changed(listening: Conn, writer: Conn) -> None:
    ids = await insert_products(writer, 3)
    await writer.execute("UPDATE products SET name = 'x' WHERE id = ANY(%s::uuid[])", (ids[:2],))
    (payload,) = await payloads(listening)
    assert sorted(payload.split(",")) == sorted(ids[:2])


async def test_an_update_that_changes_nothing_sends_nothing(listening: Conn, writer: Conn) -> None:
    await writer.execute("UPDATE products SET name = 'x' WHERE false")
    assert await payloads(listening) == []


async def test_large_updates_are_split_into_payloads_of_at_most_200_ids(
    listening: Conn, writer: Conn
) -> None:
    ids = await insert_products(writer, 450)
    await writer.execute("UPDATE products SET name = 'x'")
    got = await payloads(listening)
    assert sorted(len(p.split(",")) for p in got) == [50, 200, 200]
    assert all(len(p) < 8000 for p in got)
    assert sorted(i for p in got for i in p.split(",")) == sorted(ids)


async def test_more_than_1000_rows_send_star(listening: Conn, writer: Conn) -> None:
    await insert_products(writer, 1001)
    await writer.execute("UPDATE products SET name = 'x'")
    assert await payloads(listening) == ["*"]


async def test_upsert_and_delete_send_the_old_ids(listening: Conn, writer: Conn) -> None:
    (first, second) = await insert_products(writer, 2)
    await writer.execute(
        "INSERT INTO products (sku, name) VALUES ('s-1', 'y') "
        "ON CONFLICT ((lower(sku))) DO UPDATE SET name = excluded.name"
    )
    await writer.execute("DELETE FROM products WHERE id = %s", (second,))
    assert await payloads(listening) == [first, second]


async def test_nothing_is_sent_for_a_rolled_back_change(listening: Conn, writer: Conn) -> None:
    await insert_products(writer, 1)
    async with writer.transaction(force_rollback=True):
        await writer.execute("UPDATE products SET name = 'x'")
    assert await payloads(listening) == []
