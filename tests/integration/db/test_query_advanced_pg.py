"""Joins, aggregate filters, CTEs (recursive too), set operations, windows and writes on PostgreSQL."""

from __future__ import annotations

from typing import Any

import psycopg

from inventory_server.db.query import (
    Cast,
    Param,
    Statement,
    coalesce,
    col,
    count,
    delete,
    exists,
    func,
    insert,
    select,
    table,
    update,
)

Conn = psycopg.AsyncConnection[dict[str, Any]]


async def fetch(conn: Conn, statement: Statement) -> list[dict[str, Any]]:
    query, params = statement.build()
    cursor = await conn.execute(query, params)
    return await cursor.fetchall()


async def seed(conn: Conn) -> None:
    items = [
        {"id": 1, "sku": "A", "name": "Bolt", "price": 10, "category": "metal"},
        {"id": 2, "sku": "B", "name": "Nut", "price": 5, "category": "metal"},
        {"id": 3, "sku": "C", "name": "Glue", "price": 7, "category": "chem"},
        {"id": 4, "sku": "D", "name": "Tape", "price": 3, "category": None},
    ]
    levels = [
        {"item_id": 1, "place": "north", "qty": 5},
        {"item_id": 1, "place": "south", "qty": 7},
        {"item_id": 2, "place": "north", "qty": 1},
        {"item_id": 3, "place": "south", "qty": 9},
    ]
    tree = [
        {"id": 1, "parent_id": None, "label": "root"},
        {"id": 2, "parent_id": 1, "label": "a"},
        {"id": 3, "parent_id": 2, "label": "b"},
        {"id": 4, "parent_id": 3, "label": "c"},
        {"id": 5, "parent_id": None, "label": "other"},
    ]
    for name, rows in (("items", items), ("levels", levels), ("tree", tree)):
        await conn.execute(*insert(name).values(*rows).build())


async def test_inner_and_left_joins(conn: Conn) -> None:
    await seed(conn)
    i, lv = table("items", "i"), table("levels", "l")
    inner = (
        select(i.col("sku"), lv.col("place"))
        .from_(i)
        .join(lv, lv.col("item_id").eq(i.col("id")))
        .order_by(i.col("sku"), lv.col("place"))
    )
    assert [(r["sku"], r["place"]) for r in await fetch(conn, inner)] == [
        ("A", "north"),
        ("A", "south"),
        ("B", "north"),
        ("C", "south"),
    ]
    left = (
        select(i.col("sku"), coalesce(lv.col("qty"), 0).as_("south"))
        .from_(i)
        .left_join(lv, lv.col("item_id").eq(i.col("id")) & lv.col("place").eq("south"))
        .order_by(i.col("sku"))
    )
    assert [(r["sku"], r["south"]) for r in await fetch(conn, left)] == [
        ("A", 7),
        ("B", 0),
        ("C", 9),
        ("D", 0),
    ]


async def test_aggregate_filter(conn: Conn) -> None:
    await seed(conn)
    q = select(
        count().as_("n"),
        func("sum", col("qty")).filter(col("qty").gt(4)).as_("big"),
    ).from_("levels")
    assert await fetch(conn, q) == [{"n": 4, "big": 21}]


async def test_cte_and_recursive_cte(conn: Conn) -> None:
    await seed(conn)
    stocked = select("item_id").from_("levels")
    q = (
        select("sku")
        .with_("stocked", stocked)
        .from_("items")
        .where(~col("id").in_(select("item_id").from_("stocked")))
    )
    assert await fetch(conn, q) == [{"sku": "D"}]

    t = table("tree", "t")
    walk = (
        select("id", "label", Cast(Param(0), "int").as_("depth"))
        .from_("tree")
        .where(col("id").eq(1))
        .union_all(
            select(t.col("id"), t.col("label"), col("depth", "walk") + 1)
            .from_(t)
            .join("walk", t.col("parent_id").eq(col("id", "walk")))
        )
    )
    descendants = select("label", "depth").with_("walk", walk, recursive=True).from_("walk").order_by("depth")
    assert [(r["label"], r["depth"]) for r in await fetch(conn, descendants)] == [
        ("root", 0),
        ("a", 1),
        ("b", 2),
        ("c", 3),
    ]


async def test_set_operations(conn: Conn) -> None:
    await seed(conn)
    north = select("item_id").from_("levels").where(col("place").eq("north"))
    south = select("item_id").from_("levels").where(col("place").eq("south"))

    async def ids(q: Any) -> list[int]:
        return [r["item_id"] for r in await fetch(conn, q.order_by("item_id"))]

    assert await ids(north.union(south)) == [1, 2, 3]
    assert await ids(north.union_all(south)) == [1, 1, 2, 3]
    assert await ids(north.intersect(south)) == [1]
    assert await ids(north.except_(south)) == [2]
    assert await ids(north.union(south).limit(2)) == [1, 2]


async def test_window_functions(conn: Conn) -> None:
    await seed(conn)
    q = (
        select(
            "item_id",
            "place",
            func("row_number").over(partition_by=["place"], order_by=[col("qty").desc()]).as_("rank"),
            func("sum", col("qty")).over(partition_by=["place"]).as_("place_total"),
        )
        .from_("levels")
        .order_by("place", "rank")
    )
    assert [(r["place"], r["item_id"], r["rank"], r["place_total"]) for r in await fetch(conn, q)] == [
        ("north", 1, 1, 6),
        ("north", 2, 2, 6),
        ("south", 3, 1, 16),
        ("south", 1, 2, 16),
    ]


async def test_update_from_another_table(conn: Conn) -> None:
    await seed(conn)
    lv, i = table("levels", "l"), table("items", "i")
    q = (
        update(lv)
        .set(qty=lv.col("qty") + i.col("price"))
        .from_(i)
        .where(i.col("id").eq(lv.col("item_id")), i.col("category").eq("metal"), lv.col("place").eq("north"))
        .returning(lv.col("item_id"), lv.col("qty"))
    )
    assert sorted((r["item_id"], r["qty"]) for r in await fetch(conn, q)) == [(1, 15), (2, 6)]


async def test_delete_with_a_subquery_and_exists(conn: Conn) -> None:
    await seed(conn)
    chem = select("id").from_("items").where(col("category").eq("chem"))
    q = delete("levels").where(col("item_id").in_(chem)).returning("item_id")
    assert await fetch(conn, q) == [{"item_id": 3}]
    unstocked = (
        select("sku")
        .from_("items")
        .where(
            ~exists(select(Param(1)).from_("levels").where(col("item_id", "levels").eq(col("id", "items"))))
        )
        .order_by("sku")
    )
    assert [r["sku"] for r in await fetch(conn, unstocked)] == ["C", "D"]


async def test_select_over_a_data_modifying_cte(conn: Conn) -> None:
    await seed(conn)
    moved = (
        update("levels").set(qty=col("qty") - 1).where(col("place").eq("north")).returning("item_id", "qty")
    )
    q = select("item_id", "qty").from_("moved").with_("moved", moved)
    assert sorted((r["item_id"], r["qty"]) for r in await fetch(conn, q)) == [(1, 4), (2, 0)]
    copied = (
        insert("levels")
        .from_select(
            select("item_id", Param("west"), "qty").from_("levels").where(col("place").eq("south")),
            ["item_id", "place", "qty"],
        )
        .returning("item_id")
    )
    assert sorted(r["item_id"] for r in await fetch(conn, copied)) == [1, 3]


async def test_scalar_subquery_and_subquery_in_from(conn: Conn) -> None:
    await seed(conn)
    totals = (
        select("item_id", col("qty").as_("total"))
        .from_("levels")
        .where(col("place").eq("south"))
        .subquery("t")
    )
    q = (
        select(totals.col("item_id"), select(count()).from_("items").scalar().as_("items"))
        .from_(totals)
        .where(totals.col("total").gt(5))
        .order_by(totals.col("item_id"))
    )
    assert await fetch(conn, q) == [{"item_id": 1, "items": 4}, {"item_id": 3, "items": 4}]
