"""The query builder renders the SQL text and parameters it promises."""

from __future__ import annotations

from typing import Any

import pytest
from psycopg.types.json import Jsonb

from inventory_server.db.query import (
    TRUE,
    Statement,
    and_,
    col,
    count,
    delete,
    escape_like,
    excluded,
    func,
    insert,
    keyset_after,
    lower,
    not_,
    now,
    or_,
    select,
    table,
    update,
)


def rendered(statement: Statement) -> tuple[str, list[Any]]:
    query, params = statement.build()
    return query.as_string(None), params


def test_select_with_where_order_and_limit_binds_every_value() -> None:
    q = (
        select("id", "sku")
        .from_("products")
        .where(col("sku").eq("A-1"), col("unit_price_minor").ge(100))
        .order_by(col("create_time").desc(nulls="LAST"), "id")
        .limit(20)
    )
    assert rendered(q) == (
        'SELECT "id", "sku" FROM "products" WHERE "sku" = %s AND "unit_price_minor" >= %s '
        'ORDER BY "create_time" DESC NULLS LAST, "id" ASC LIMIT %s',
        ["A-1", 100, 20],
    )


def test_builder_is_immutable_so_a_base_query_can_be_reused() -> None:
    base = select("id").from_("products")
    narrowed = base.where(col("sku").eq("x"))
    assert rendered(base) == ('SELECT "id" FROM "products"', [])
    assert rendered(narrowed)[1] == ["x"]


def test_all_comparison_operators() -> None:
    c = col("n")
    conditions = [c.eq(1), c.ne(2), c.lt(3), c.le(4), c.gt(5), c.ge(6)]
    q = select("n").from_("t").where(*conditions)
    assert rendered(q) == (
        'SELECT "n" FROM "t" WHERE "n" = %s AND "n" <> %s AND "n" < %s AND "n" <= %s '
        'AND "n" > %s AND "n" >= %s',
        [1, 2, 3, 4, 5, 6],
    )


def test_eq_none_means_is_null() -> None:
    assert col("d").eq(None).as_string() == '"d" IS NULL'
    assert col("d").ne(None).as_string() == '"d" IS NOT NULL'


def test_boolean_trees_are_parenthesised_by_structure() -> None:
    a, b, c, d = (col(x).eq(i) for i, x in enumerate("abcd"))
    assert ((a | b) & (c | d)).as_string() == '("a" = %s OR "b" = %s) AND ("c" = %s OR "d" = %s)'
    assert (a & b & c).as_string() == '"a" = %s AND "b" = %s AND "c" = %s'
    assert (a | (b & ~c)).as_string() == '"a" = %s OR ("b" = %s AND NOT ("c" = %s))'
    assert not_(or_(a, b)).as_string() == 'NOT ("a" = %s OR "b" = %s)'
    assert and_().as_string() == "TRUE"
    assert or_().as_string() == "FALSE"


def test_in_ilike_json_containment_and_any() -> None:
    q = (
        select("id")
        .from_("p")
        .where(
            col("currency_code").in_(["EUR", "USD"]),
            col("name").ilike("%" + escape_like("50%") + "%"),
            col("attributes").contains({"color": "red"}),
            col("id").eq_any([1, 2]),
        )
    )
    text, params = rendered(q)
    assert text == (
        'SELECT "id" FROM "p" WHERE "currency_code" IN (%s, %s) '
        'AND "name" ILIKE %s AND "attributes" @> %s AND "id" = ANY(%s)'
    )
    assert params[:3] == ["EUR", "USD", "%50\\%%"]
    assert isinstance(params[3], Jsonb)
    assert params[3].obj == {"color": "red"}
    assert params[4] == [1, 2]


def test_empty_in_list_matches_nothing() -> None:
    assert col("a").in_([]).as_string() == "FALSE"
    assert (~col("a").in_([])).as_string() == "NOT (FALSE)"


def test_identifiers_are_always_quoted_even_when_hostile() -> None:
    q = select(col('x" OR 1=1 --')).from_(table('we"ird', "t"))
    assert rendered(q)[0] == 'SELECT "x"" OR 1=1 --" FROM "we""ird" AS "t"'


def test_function_names_are_checked_not_quoted() -> None:
    assert select(lower(col("sku")), count(), now()).as_string() == 'SELECT lower("sku"), count(*), now()'
    assert func("coalesce", col("a"), 0).as_string() == 'coalesce("a", %s)'
    with pytest.raises(ValueError, match="function name"):
        func("now(); DROP TABLE x; --").as_string()


def test_row_locks() -> None:
    base = select("id").from_("stock_levels")
    assert base.for_update().as_string().endswith(" FOR UPDATE")
    assert base.for_no_key_update(skip_locked=True).as_string().endswith(" FOR NO KEY UPDATE SKIP LOCKED")
    assert (
        base.for_update(of=("stock_levels",), nowait=True)
        .as_string()
        .endswith(' FOR UPDATE OF "stock_levels" NOWAIT')
    )
    assert base.for_share().as_string().endswith(" FOR SHARE")
    assert base.for_key_share().as_string() == 'SELECT "id" FROM "stock_levels" FOR KEY SHARE'
    assert base.for_key_share(skip_locked=True).as_string().endswith(" FOR KEY SHARE SKIP LOCKED")
    with pytest.raises(ValueError, match="SKIP LOCKED or NOWAIT"):
        base.for_update(skip_locked=True, nowait=True)


def test_multi_row_insert_with_returning_keeps_value_order() -> None:
    q = insert("products").values({"sku": "a", "name": "A"}, {"name": "B", "sku": "b"}).returning("id", "sku")
    assert rendered(q) == (
        'INSERT INTO "products" ("sku", "name") VALUES (%s, %s), (%s, %s) RETURNING "id", "sku"',
        ["a", "A", "b", "B"],
    )


def test_insert_rows_must_agree_on_columns() -> None:
    with pytest.raises(ValueError, match="columns"):
        insert("t").values({"a": 1}, {"b": 2})


def test_insert_on_conflict_do_update_with_excluded_and_expression_target() -> None:
    q = (
        insert("products")
        .values({"sku": "a", "name": "A", "version": 1})
        .on_conflict_do_update([lower(col("sku"))], {"name": excluded("name"), "update_time": now()})
        .returning("id")
    )
    assert rendered(q) == (
        'INSERT INTO "products" ("sku", "name", "version") VALUES (%s, %s, %s) '
        'ON CONFLICT ((lower("sku"))) DO UPDATE SET "name" = "excluded"."name", "update_time" = now() '
        'RETURNING "id"',
        ["a", "A", 1],
    )


def test_insert_on_conflict_do_nothing_on_columns() -> None:
    q = (
        insert("idempotency_keys")
        .values({"scope": "s", "request_id": "r"})
        .on_conflict_do_nothing("scope", "request_id")
    )
    assert rendered(q)[0].endswith('ON CONFLICT ("scope", "request_id") DO NOTHING')


def test_update_with_expression_and_returning() -> None:
    q = (
        update("products")
        .set({"name": "New"}, version=col("version") + 1, update_time=now())
        .where(col("id").eq(5), col("version").eq(3))
        .returning("version")
    )
    assert rendered(q) == (
        'UPDATE "products" SET "name" = %s, "version" = "version" + %s, "update_time" = now() '
        'WHERE "id" = %s AND "version" = %s RETURNING "version"',
        ["New", 1, 5, 3],
    )


def test_update_and_delete_refuse_to_touch_every_row_by_accident() -> None:
    with pytest.raises(ValueError, match="without WHERE"):
        update("t").set(a=1).build()
    with pytest.raises(ValueError, match="without WHERE"):
        delete("t").where(None).build()
    assert rendered(delete("t").where(TRUE)) == ('DELETE FROM "t" WHERE TRUE', [])


def test_keyset_with_one_direction_uses_a_row_comparison() -> None:
    keys = [col("create_time").desc(), col("id").desc()]
    assert keyset_after(keys, ["2024-01-01", 9]).as_string() == '("create_time", "id") < (%s, %s)'


def test_keyset_with_mixed_directions_expands_to_an_or_chain() -> None:
    keys = [col("a").asc(), col("b").desc(), col("id").asc()]
    q = select("id").from_("t").where(keyset_after(keys, [1, 2, 3]))
    assert rendered(q) == (
        'SELECT "id" FROM "t" WHERE "a" > %s OR ("a" = %s AND "b" < %s) '
        'OR ("a" = %s AND "b" = %s AND "id" > %s)',
        [1, 1, 2, 1, 2, 3],
    )


def test_keyset_or_chain_is_parenthesised_inside_a_larger_where() -> None:
    keys = [col("a").asc(), col("id").desc()]
    q = select("id").from_("t").where(col("delete_time").is_null(), keyset_after(keys, [1, 2]))
    assert rendered(q)[0] == (
        'SELECT "id" FROM "t" WHERE "delete_time" IS NULL AND ("a" > %s OR ("a" = %s AND "id" < %s))'
    )


def test_keyset_rejects_a_cursor_that_does_not_fit_the_keys() -> None:
    with pytest.raises(ValueError, match="one cursor value per sort key"):
        keyset_after([col("a").asc()], [1, 2])
    with pytest.raises(ValueError, match="NULL"):
        keyset_after([col("a").asc()], [None])
