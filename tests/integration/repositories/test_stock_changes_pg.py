"""Commit-time positions (migration 0011) and the change stream's reads, on PostgreSQL."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

import psycopg
import pytest

from inventory_server.repositories.stock_changes import StockChangeRepository, parse_watch_filter

Conn = psycopg.AsyncConnection[Any]
Factory = Callable[..., Awaitable[uuid.UUID]]


async def ledger_row(conn: Conn, product: uuid.UUID, warehouse: uuid.UUID, user: uuid.UUID) -> uuid.UUID:
    """A receipt the way the service writes it: the level and the ledger row in one transaction."""
    await conn.execute(
        "INSERT INTO stock_levels (product_id, warehouse_id, on_hand) VALUES (%s, %s, 1)"
        " ON CONFLICT (warehouse_id, product_id) DO UPDATE SET on_hand = stock_levels.on_hand + 1",
        (product, warehouse),
    )
    cursor = await conn.execute(
        "INSERT INTO stock_transactions (type, product_id, to_warehouse_id, quantity, performed_by,"
        " request_id) VALUES ('receipt', %s, %s, 1, %s, %s) RETURNING id",
        (product, warehouse, user, str(uuid.uuid4())),
    )
    row = await cursor.fetchone()
    assert row is not None
    return uuid.UUID(str(row[0]))


@pytest.fixture
async def catalogue(
    conn: Conn, new_product: Factory, new_warehouse: Factory, new_user: Factory
) -> dict[str, Any]:
    ids = {"products": [await new_product(), await new_product()], "warehouse": await new_warehouse()}
    ids["user"] = await new_user()
    await conn.commit()
    return ids


async def test_a_late_committer_gets_the_later_position(
    conn: Conn, migrated_dsn: str, catalogue: dict[str, Any]
) -> None:
    """Inserted first, committed last: its position is after the row that committed in between."""
    first, second = catalogue["products"]
    early = await psycopg.AsyncConnection.connect(migrated_dsn)
    try:
        held = await ledger_row(early, first, catalogue["warehouse"], catalogue["user"])  # still open
        between = await ledger_row(conn, second, catalogue["warehouse"], catalogue["user"])
        await conn.commit()
        reader = StockChangeRepository(conn)
        seen = await reader.read_after(0, None, 100)
        await conn.commit()
        assert [c.transaction.id for c in seen.changes] == [between]
        await early.commit()
    finally:
        await early.close()
    after = await reader.read_after(seen.scanned_through or 0, None, 100)
    assert [c.transaction.id for c in after.changes] == [held]
    assert after.changes[0].position > seen.changes[0].position
    assert [(lv.on_hand, lv.reserved) for lv in after.changes[0].levels] == [(1, 0)]


async def test_a_filtered_read_still_advances_past_rows_it_does_not_want(
    conn: Conn, catalogue: dict[str, Any]
) -> None:
    first, second = catalogue["products"]
    for product in (first, second, second):
        await ledger_row(conn, product, catalogue["warehouse"], catalogue["user"])
        await conn.commit()
    reader = StockChangeRepository(conn)
    batch = await reader.read_after(0, parse_watch_filter(f'product_id = "{first}"'), 100)
    assert len(batch.changes) == 1
    assert batch.scanned_through == batch.changes[0].position + 2
    limited = await reader.read_after(0, parse_watch_filter("type = SHIPMENT"), 2)
    assert limited.changes == []
    assert limited.full
    assert limited.scanned_through == batch.changes[0].position + 1


async def test_the_purge_forgets_old_positions_and_raises_the_horizon(
    conn: Conn, catalogue: dict[str, Any]
) -> None:
    for _ in range(3):
        await ledger_row(conn, catalogue["products"][0], catalogue["warehouse"], catalogue["user"])
        await conn.commit()
    reader = StockChangeRepository(conn)
    before = await reader.bounds()
    assert await reader.purge_older_than(timedelta(hours=1), limit=10) == 0
    assert await reader.purge_older_than(timedelta(0), limit=2) == 2
    await conn.commit()
    bounds = await reader.bounds()
    assert bounds.purged_through == before.latest - 1
    assert bounds.latest == before.latest
    batch = await reader.read_after(0, None, 10)
    assert batch.purged_through == bounds.purged_through
    assert [c.position for c in batch.changes] == [before.latest]
