"""Joins, aggregate filters, CTEs, set operations, windows and multi-table writes render as promised."""

from __future__ import annotations

from typing import Any

import pytest

from inventory_server.db.query import (
    Param,
    Statement,
    col,
    count,
    delete,
    excluded,
    exists,
    func,
    insert,
    select,
    table,
    update,
)


def rendered(statement: Statement) -> tuple[str, list[Any]]:
    query, params = statement.build()
    return query.as_string(None), params


def test_inner_and_left_joins() -> None:
    p, s, w = table("products", "p"), table("stock_levels", "s"), table("warehouses", "w")
    q = (
        select(p.col("sku"), w.col("code"), s.col("on_hand"))
        .from_(p)
        .join(s, s.col("product_id").eq(p.col("id")))
        .left_join(w, w.col("id").eq(s.col("warehouse_id")) & w.col("delete_time").is_null())
        .where(p.col("sku").eq("A"))
    )
    assert rendered(q) == (
        'SELECT "p"."sku", "w"."code", "s"."on_hand" FROM "products" AS "p" '
        'INNER JOIN "stock_levels" AS "s" ON "s"."product_id" = "p"."id" '
        'LEFT JOIN "warehouses" AS "w" ON "w"."id" = "s"."warehouse_id" AND "w"."delete_time" IS NULL '
        'WHERE "p"."sku" = %s',
        ["A"],
    )


def test_aggregate_filter() -> None:
    q = select(
        count().as_("n"),
        func("sum", col("on_hand")).filter(col("reserved").gt(0)).as_("r"),
        count(col("reserved")).as_("m"),
    ).from_("stock_levels")
    assert rendered(q) == (
        'SELECT count(*) AS "n", sum("on_hand") FILTER (WHERE "reserved" > %s) AS "r", '
        'count("reserved") AS "m" FROM "stock_levels"',
        [0],
    )


def test_ctes_render_before_the_select_with_params_in_text_order() -> None:
    recent = select("id").from_("products").where(col("price").gt(10))
    q = (
        select("id")
        .with_("recent", recent)
        .with_("cheap", select("id").from_("products").where(col("price").lt(5)), columns=("id",))
        .from_("recent")
        .where(col("id").in_(select("id").from_("cheap")), col("id").ne(99))
    )
    assert rendered(q) == (
        'WITH "recent" AS (SELECT "id" FROM "products" WHERE "price" > %s), '
        '"cheap" ("id") AS (SELECT "id" FROM "products" WHERE "price" < %s) '
        'SELECT "id" FROM "recent" WHERE "id" IN (SELECT "id" FROM "cheap") AND "id" <> %s',
        [10, 5, 99],
    )


def test_recursive_cte() -> None:
    tree = table("tree", "t")
    walk = (
        select("id", "parent_id")
        .from_("tree")
        .where(col("id").eq(1))
        .union_all(
            select(tree.col("id"), tree.col("parent_id"))
            .from_(tree)
            .join("walk", tree.col("parent_id").eq(col("id", "walk")))
        )
    )
    q = select(count().as_("n")).with_("walk", walk, recursive=True).from_("walk")
    assert rendered(q) == (
        'WITH RECURSIVE "walk" AS ((SELECT "id", "parent_id" FROM "tree" WHERE "id" = %s) UNION ALL '
        '(SELECT "t"."id", "t"."parent_id" FROM "tree" AS "t" '
        'INNER JOIN "walk" ON "t"."parent_id" = "walk"."id")) '
        'SELECT count(*) AS "n" FROM "walk"',
        [1],
    )


@pytest.mark.parametrize(
    ("combine", "keyword"),
    [("union", "UNION"), ("union_all", "UNION ALL"), ("intersect", "INTERSECT"), ("except_", "EXCEPT")],
)
def test_set_operations(combine: str, keyword: str) -> None:
    a = select("id").from_("a").where(col("x").eq(1))
    b = select("id").from_("b").where(col("y").eq(2))
    q = getattr(a, combine)(b).order_by(col("id").desc()).limit(3)
    assert rendered(q) == (
        f'(SELECT "id" FROM "a" WHERE "x" = %s) {keyword} (SELECT "id" FROM "b" WHERE "y" = %s) '
        'ORDER BY "id" DESC LIMIT %s',
        [1, 2, 3],
    )


def test_window_functions() -> None:
    q = select(
        "id",
        func("row_number")
        .over(partition_by=["warehouse_id"], order_by=[col("on_hand").desc(), "id"])
        .as_("rank"),
        func("sum", col("on_hand")).over().as_("total"),
    ).from_("stock_levels")
    assert rendered(q)[0] == (
        'SELECT "id", row_number() OVER (PARTITION BY "warehouse_id" ORDER BY "on_hand" DESC, "id" ASC) '
        'AS "rank", '
        'sum("on_hand") OVER () AS "total" FROM "stock_levels"'
    )


def test_update_from_another_table() -> None:
    s, m = table("stock_levels", "s"), table("moves", "m")
    q = (
        update(s)
        .set(on_hand=s.col("on_hand") + m.col("qty"))
        .from_(m)
        .where(m.col("product_id").eq(s.col("product_id")), m.col("batch").eq(7))
        .returning(s.col("on_hand"))
    )
    assert rendered(q) == (
        'UPDATE "stock_levels" AS "s" SET "on_hand" = "s"."on_hand" + "m"."qty" FROM "moves" AS "m" '
        'WHERE "m"."product_id" = "s"."product_id" AND "m"."batch" = %s RETURNING "s"."on_hand"',
        [7],
    )


def test_delete_with_exists_subquery_and_returning() -> None:
    q = (
        delete("idempotency_keys")
        .where(
            col("scope").eq("s"),
            exists(select(Param(1)).from_("locks").where(col("k").eq("x"))),
        )
        .returning("request_id")
    )
    assert rendered(q) == (
        'DELETE FROM "idempotency_keys" WHERE "scope" = %s '
        'AND EXISTS (SELECT %s FROM "locks" WHERE "k" = %s) RETURNING "request_id"',
        ["s", 1, "x"],
    )


def test_insert_from_select() -> None:
    q = (
        insert("stock_transactions")
        .from_select(select("product_id", Param(1)).from_("moves"), ["product_id", "quantity"])
        .returning("id")
    )
    assert rendered(q) == (
        'INSERT INTO "stock_transactions" ("product_id", "quantity") '
        'SELECT "product_id", %s FROM "moves" RETURNING "id"',
        [1],
    )


def test_select_over_a_data_modifying_cte() -> None:
    moved = (
        insert("products")
        .from_select(select("sku", "name").from_("staging"), ["sku", "name"])
        .on_conflict_do_update(["sku"], {"name": excluded("name")})
        .returning("sku")
    )
    q = select(count().as_("n")).from_("moved").with_("moved", moved)
    assert rendered(q) == (
        'WITH "moved" AS (INSERT INTO "products" ("sku", "name") SELECT "sku", "name" FROM "staging" '
        'ON CONFLICT ("sku") DO UPDATE SET "name" = "excluded"."name" RETURNING "sku") '
        'SELECT count(*) AS "n" FROM "moved"',
        [],
    )


def test_subquery_in_from_and_as_a_value() -> None:
    totals = select("product_id", (col("on_hand") - col("reserved")).as_("total")).from_("stock_levels")
    t = totals.subquery("t")
    q = (
        select(t.col("product_id"), select(count()).from_("warehouses").scalar().as_("w"))
        .from_(t)
        .where(t.col("total").gt(0))
    )
    assert rendered(q) == (
        'SELECT "t"."product_id", (SELECT count(*) FROM "warehouses") AS "w" FROM '
        '(SELECT "product_id", "on_hand" - "reserved" AS "total" FROM "stock_levels") AS "t" '
        'WHERE "t"."total" > %s',
        [0],
    )
