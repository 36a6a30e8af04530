"""The builder's core statements run on PostgreSQL and mean what they say."""

from __future__ import annotations

from typing import Any

import psycopg
import pytest
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb

from inventory_server.db.query import (
    Statement,
    col,
    count,
    delete,
    escape_like,
    excluded,
    insert,
    keyset_after,
    lower,
    now,
    select,
    table,
    update,
)

Conn = psycopg.AsyncConnection[dict[str, Any]]

ITEMS = [
    {"id": i, "sku": f"SKU-{i}", "name": name, "price": price, "category": cat}
    for i, (name, price, cat) in enumerate(
        [
            ("Bolt", 100, "metal"),
            ("Nut", 100, "metal"),
            ("50% off_sale", 200, None),
            ("Washer", 50, "metal"),
            ("Glue", 200, "chem"),
            ("Tape", 100, "chem"),
        ],
        start=1,
    )
]


async def fetch(conn: Conn, statement: Statement) -> list[dict[str, Any]]:
    query, params = statement.build()
    cursor = await conn.execute(query, params)
    return await cursor.fetchall()


async def run(conn: Conn, statement: Statement) -> int:
    query, params = statement.build()
    cursor = await conn.execute(query, params)
    return cursor.rowcount


async def seed(conn: Conn) -> None:
    await fetch(conn, insert("items").values(*ITEMS).returning("id"))


async def test_select_filters_with_bound_values(conn: Conn) -> None:
    await seed(conn)
    q = (
        select("id")
        .from_("items")
        .where(
            col("price").ge(60), col("price").le(150), col("category").in_(["metal", "chem"]), col("id").ne(2)
        )
        .order_by(col("id").desc())
    )
    assert [r["id"] for r in await fetch(conn, q)] == [6, 1]


async def test_ilike_with_escaped_user_text_matches_literally(conn: Conn) -> None:
    await seed(conn)
    q = select("id").from_("items").where(col("name").ilike("%" + escape_like("% OFF_") + "%"))
    assert [r["id"] for r in await fetch(conn, q)] == [3]
    unescaped = select("id").from_("items").where(col("name").ilike("%_a%"))
    assert len(await fetch(conn, unescaped)) > 1


async def test_json_containment_and_any_array(conn: Conn) -> None:
    await seed(conn)
    await run(
        conn, update("items").set(attributes=Jsonb({"color": "red", "size": "M"})).where(col("id").eq(4))
    )
    q = select("id").from_("items").where(col("attributes").contains({"color": "red"}))
    assert await fetch(conn, q) == [{"id": 4}]
    many = select("id").from_("items").where(col("id").eq_any([2, 5, 99])).order_by("id")
    assert [r["id"] for r in await fetch(conn, many)] == [2, 5]
    none = select("id").from_("items").where(col("id").eq_any([]))
    assert await fetch(conn, none) == []


async def test_multi_row_insert_returns_defaults(conn: Conn) -> None:
    rows = await fetch(
        conn,
        insert("items")
        .values({"id": 10, "sku": "a", "name": "A", "price": 1})
        .values({"id": 11, "sku": "b", "name": "B", "price": 2})
        .returning("id", "version"),
    )
    assert rows == [{"id": 10, "version": 1}, {"id": 11, "version": 1}]


async def test_on_conflict_on_an_expression_index(conn: Conn) -> None:
    await seed(conn)
    skipped = insert("items").values({"id": 20, "sku": "sku-1", "name": "X", "price": 1})
    assert await fetch(conn, skipped.on_conflict_do_nothing(lower(col("sku"))).returning("id")) == []
    upsert = skipped.on_conflict_do_update(
        [lower(col("sku"))], {"name": excluded("name"), "version": table("items").col("version") + 1}
    ).returning("id", "name", "version")
    assert await fetch(conn, upsert) == [{"id": 1, "name": "X", "version": 2}]


async def test_update_and_delete_return_changed_rows(conn: Conn) -> None:
    await seed(conn)
    changed = await fetch(
        conn,
        update("items")
        .set(price=col("price") + col("price"), delete_time=now())
        .where(col("category").eq("chem"))
        .returning("id", "price"),
    )
    assert sorted((r["id"], r["price"]) for r in changed) == [(5, 400), (6, 200)]
    gone = await fetch(conn, delete("items").where(col("category").is_null()).returning("id"))
    assert gone == [{"id": 3}]
    assert (await fetch(conn, select(count().as_("n")).from_("items")))[0]["n"] == 5


async def test_for_update_skip_locked_skips_rows_another_transaction_holds(
    conn: Conn, builder_dsn: str
) -> None:
    await seed(conn)
    await conn.commit()
    try:
        locked = select("id").from_("items").where(col("id").le(2)).for_update()
        assert len(await fetch(conn, locked)) == 2
        other = await psycopg.AsyncConnection.connect(builder_dsn, row_factory=dict_row)
        try:
            rest = select("id").from_("items").order_by("id").for_no_key_update(skip_locked=True)
            assert [r["id"] for r in await fetch(other, rest)] == [3, 4, 5, 6]
            await other.rollback()
        finally:
            await other.close()
    finally:
        await conn.rollback()
        await run(conn, delete("items").where(col("id").le(6)))
        await conn.commit()


async def test_for_key_share_blocks_key_changes_but_not_other_updates(conn: Conn, builder_dsn: str) -> None:
    # FOR KEY SHARE is the lock a foreign-key check takes: a concurrent FOR NO KEY UPDATE
    # (an ordinary UPDATE of non-key columns) goes ahead; FOR UPDATE (a DELETE) has to wait.
    await seed(conn)
    await conn.commit()
    try:
        shared = select("id").from_("items").where(col("id").eq(1)).for_key_share()
        assert await fetch(conn, shared) == [{"id": 1}]
        other = await psycopg.AsyncConnection.connect(builder_dsn, row_factory=dict_row)
        try:
            row = select("id").from_("items").where(col("id").eq(1))
            assert await fetch(other, row.for_no_key_update(nowait=True)) == [{"id": 1}]
            await other.rollback()
            with pytest.raises(psycopg.errors.LockNotAvailable):
                await fetch(other, row.for_update(nowait=True))
            await other.rollback()
        finally:
            await other.close()
    finally:
        await conn.rollback()
        await run(conn, delete("items").where(col("id").le(6)))
        await conn.commit()


async def test_keyset_pages_with_mixed_directions_visit_every_row_once(conn: Conn) -> None:
    await seed(conn)
    keys = [col("price").desc(), col("name").asc(), col("id").asc()]
    seen: list[int] = []
    cursor: list[Any] | None = None
    while True:
        q = select("id", "price", "name").from_("items").order_by(*keys).limit(2)
        if cursor is not None:
            q = q.where(keyset_after(keys, cursor))
        page = await fetch(conn, q)
        if not page:
            break
        seen.extend(r["id"] for r in page)
        last = page[-1]
        cursor = [last["price"], last["name"], last["id"]]
    everything = await fetch(conn, select("id").from_("items").order_by(*keys))
    assert seen == [r["id"] for r in everything]
    assert sorted(seen) == [1, 2, 3, 4, 5, 6]


async def test_keyset_pages_with_one_direction_use_row_comparison(conn: Conn) -> None:
    await seed(conn)
    keys = [col("price").asc(), col("id").asc()]
    q = select("id").from_("items").where(keyset_after(keys, [100, 2])).order_by(*keys)
    assert [r["id"] for r in await fetch(conn, q)] == [6, 3, 5]
