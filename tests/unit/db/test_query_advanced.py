"""Joins, grouping, CTEs, set operations, windows and multi-table writes render as promised."""

from __future__ import annotations

from typing import Any

import pytest

from inventory_server.db.query import (
    Param,
    Statement,
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


def rendered(statement: Statement) -> tuple[str, list[Any]]:
    query, params = statement.build()
    return query.as_string(None), params


def test_inner_left_and_cross_joins() -> None:
    p, s, w = table("products", "p"), table("stock_levels", "s"), table("warehouses", "w")
    q = (
        select(p.col("sku"), w.col("code"), s.col("on_hand"))
        .from_(p)
        .join(s, s.col("product_id").eq(p.col("id")))
        .left_join(w, w.col("id").eq(s.col("warehouse_id")) & w.col("delete_time").is_null())
        .cross_join(table("settings"))
        .where(p.col("sku").eq("A"))
    )
    assert rendered(q) == (
        'SELECT "p"."sku", "w"."code", "s"."on_hand" FROM "products" AS "p" '
        'INNER JOIN "stock_levels" AS "s" ON "s"."product_id" = "p"."id" '
        'LEFT JOIN "warehouses" AS "w" ON "w"."id" = "s"."warehouse_id" AND "w"."delete_time" IS NULL '
        'CROSS JOIN "settings" WHERE "p"."sku" = %s',
        ["A"],
    )


def test_joins_need_on_except_cross_joins() -> None:
    from inventory_server.db.query import Join

    with pytest.raises(ValueError, match="ON"):
        Join("LEFT", table("t"))
    with pytest.raises(ValueError, match="ON"):
        Join("CROSS", table("t"), col("a").eq(1))


def test_group_by_having_with_aggregate_filter() -> None:
    q = (
        select(
            "warehouse_id",
            count().as_("n"),
            func("sum", col("on_hand")).filter(col("reserved").gt(0)).as_("r"),
        )
        .from_("stock_levels")
        .group_by("warehouse_id")
        .having(count().gt(2))
        .order_by(count().desc())
    )
    assert rendered(q) == (
        'SELECT "warehouse_id", count(*) AS "n", sum("on_hand") FILTER (WHERE "reserved" > %s) AS "r" '
        'FROM "stock_levels" GROUP BY "warehouse_id" HAVING count(*) > %s ORDER BY count(*) DESC',
        [0, 2],
    )


def test_count_distinct() -> None:
    assert count(col("product_id"), distinct=True).as_string() == 'count(DISTINCT "product_id")'


def test_ctes_render_before_the_select_with_params_in_text_order() -> None:
    recent = select("id").from_("products").where(col("price").gt(10))
    q = (
        select("id")
        .with_("recent", recent, materialized=False)
        .with_("cheap", select("id").from_("products").where(col("price").lt(5)), columns=("id",))
        .from_("recent")
        .where(col("id").in_(select("id").from_("cheap")), col("id").ne(99))
    )
    assert rendered(q) == (
        'WITH "recent" AS NOT MATERIALIZED (SELECT "id" FROM "products" WHERE "price" > %s), '
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


def test_delete_using_and_exists_subquery() -> None:
    q = (
        delete("idempotency_keys")
        .using_("expired")
        .where(
            col("scope", "idempotency_keys").eq(col("scope", "expired")),
            exists(select(Param(1)).from_("locks").where(col("k").eq("x"))),
        )
    )
    assert rendered(q) == (
        'DELETE FROM "idempotency_keys" USING "expired" WHERE "idempotency_keys"."scope" = "expired"."scope" '
        'AND EXISTS (SELECT %s FROM "locks" WHERE "k" = %s)',
        [1, "x"],
    )


def test_insert_from_select_with_a_data_modifying_cte() -> None:
    moved = (
        update("stock_levels")
        .set(on_hand=col("on_hand") - 1)
        .where(col("product_id").eq(5))
        .returning("product_id")
    )
    q = (
        insert("stock_transactions")
        .with_("moved", moved)
        .from_select(select("product_id", Param(1)).from_("moved"), ["product_id", "quantity"])
        .returning("id")
    )
    assert rendered(q) == (
        'WITH "moved" AS (UPDATE "stock_levels" SET "on_hand" = "on_hand" - %s WHERE "product_id" = %s '
        'RETURNING "product_id") INSERT INTO "stock_transactions" ("product_id", "quantity") '
        'SELECT "product_id", %s FROM "moved" RETURNING "id"',
        [1, 5, 1],
    )


def test_subquery_in_from_and_as_a_value() -> None:
    totals = (
        select("product_id", func("sum", col("on_hand")).as_("total"))
        .from_("stock_levels")
        .group_by("product_id")
    )
    t = totals.subquery("t")
    q = (
        select(t.col("product_id"), select(count()).from_("warehouses").scalar().as_("w"))
        .from_(t)
        .where(t.col("total").gt(0))
    )
    assert rendered(q) == (
        'SELECT "t"."product_id", (SELECT count(*) FROM "warehouses") AS "w" FROM '
        '(SELECT "product_id", sum("on_hand") AS "total" FROM "stock_levels" GROUP BY "product_id") AS "t" '
        'WHERE "t"."total" > %s',
        [0],
    )


def test_distinct() -> None:
    assert select("currency_code").distinct().from_("products").as_string() == (
        'SELECT DISTINCT "currency_code" FROM "products"'
    )
