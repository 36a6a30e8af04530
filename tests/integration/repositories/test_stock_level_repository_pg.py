"""StockLevelRepository on PostgreSQL: upserts, guarded changes, ordered locks, lookups and listing."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import psycopg
import pytest

from inventory_server.domain.errors import FailedPrecondition, InvalidArgument, NotFound
from inventory_server.domain.paging import ListQuery
from inventory_server.domain.stock import LevelKey, StockLevel
from inventory_server.repositories.instrumentation import QueryStats
from inventory_server.repositories.stock_levels import StockLevelRepository

Conn = psycopg.AsyncConnection[Any]
Factory = Callable[..., Awaitable[uuid.UUID]]


async def a_key(new_product: Factory, new_warehouse: Factory) -> LevelKey:
    return LevelKey(await new_warehouse(), await new_product())


async def test_add_creates_the_level_and_then_adds_to_it(
    conn: Conn, new_product: Factory, new_warehouse: Factory
) -> None:
    levels = StockLevelRepository(conn)
    key = await a_key(new_product, new_warehouse)
    first = await levels.add(key, 5)
    second = await levels.add(key, 7)
    assert (first.on_hand, second.on_hand, second.reserved) == (5, 12, 0)
    assert second.update_time is not None


async def test_add_for_an_unknown_product_is_not_found(conn: Conn, new_warehouse: Factory) -> None:
    with pytest.raises(NotFound) as caught:
        await StockLevelRepository(conn).add(LevelKey(await new_warehouse(), uuid.uuid4()), 1)
    assert caught.value.resource == "product"


async def test_a_sum_beyond_bigint_is_invalid_argument_not_a_server_error(
    conn: Conn, new_product: Factory, new_warehouse: Factory
) -> None:
    levels = StockLevelRepository(conn)
    key = await a_key(new_product, new_warehouse)
    await levels.add(key, 2**63 - 1)
    with pytest.raises(InvalidArgument, match="out of range"):
        await levels.add(key, 1)


async def test_change_applies_only_while_reserved_stays_between_zero_and_on_hand(
    conn: Conn, new_product: Factory, new_warehouse: Factory
) -> None:
    levels = StockLevelRepository(conn)
    key = await a_key(new_product, new_warehouse)
    await levels.add(key, 10)
    reserved = await levels.change(key, reserved=4)
    assert reserved is not None
    assert (reserved.on_hand, reserved.available) == (10, 6)
    assert await levels.change(key, on_hand=-7) is None  # only 6 available
    assert await levels.change(key, reserved=7) is None  # 7 more reserved, only 6 available
    assert await levels.change(key, reserved=-5) is None  # reserved would go negative
    shipped = await levels.change(key, on_hand=-6)
    assert shipped is not None
    assert (shipped.on_hand, shipped.reserved) == (4, 4)
    from_reservation = await levels.change(key, on_hand=-4, reserved=-4)
    assert from_reservation is not None
    assert (from_reservation.on_hand, from_reservation.reserved) == (0, 0)


async def test_change_of_a_pair_never_stocked_matches_nothing(
    conn: Conn, new_product: Factory, new_warehouse: Factory
) -> None:
    levels = StockLevelRepository(conn)
    key = await a_key(new_product, new_warehouse)
    assert await levels.change(key, on_hand=1) is None
    assert await levels.lock([key]) == {}


async def test_ensure_creates_a_zero_level_once(
    conn: Conn, new_product: Factory, new_warehouse: Factory
) -> None:
    levels = StockLevelRepository(conn)
    key = await a_key(new_product, new_warehouse)
    await levels.ensure(key)
    await levels.add(key, 3)
    await levels.ensure(key)
    locked = await levels.lock([key])
    assert locked[key].on_hand == 3


async def test_lock_returns_existing_levels_and_blocks_other_writers_until_commit(
    conn: Conn, migrated_dsn: str, new_product: Factory, new_warehouse: Factory
) -> None:
    levels = StockLevelRepository(conn)
    product = await new_product()
    first, second, missing = (
        LevelKey(await new_warehouse(), product),
        LevelKey(await new_warehouse(), product),
        LevelKey(await new_warehouse(), product),
    )
    await levels.add(first, 1)
    await levels.add(second, 2)
    await conn.commit()
    locked = await levels.lock([second, missing, first])
    assert {key: level.on_hand for key, level in locked.items()} == {first: 1, second: 2}
    async with await psycopg.AsyncConnection.connect(migrated_dsn) as other:
        await other.execute("SET lock_timeout = '100ms'")
        with pytest.raises(psycopg.errors.LockNotAvailable):
            await StockLevelRepository(other).change(first, on_hand=1)
        await other.rollback()
        await conn.commit()
        changed = await StockLevelRepository(other).change(first, on_hand=1)
        assert changed is not None
        assert changed.on_hand == 2


async def test_concurrent_guarded_changes_never_overdraw(
    migrated_dsn: str, conn: Conn, new_product: Factory, new_warehouse: Factory
) -> None:
    key = await a_key(new_product, new_warehouse)
    await StockLevelRepository(conn).add(key, 10)
    await conn.commit()

    async def take_three() -> bool:
        async with await psycopg.AsyncConnection.connect(migrated_dsn) as own:
            level = await StockLevelRepository(own).change(key, on_hand=-3)
            await own.commit()
            return level is not None

    outcomes = await asyncio.gather(*(take_three() for _ in range(6)))
    assert outcomes.count(True) == 3
    assert (await StockLevelRepository(conn).lock([key]))[key].on_hand == 1


async def test_a_check_constraint_violation_is_failed_precondition(
    conn: Conn, new_product: Factory, new_warehouse: Factory
) -> None:
    """The guard normally stops this first; the CHECK constraint is the backstop."""
    levels = StockLevelRepository(conn)
    key = await a_key(new_product, new_warehouse)
    await levels.add(key, 1)
    with pytest.raises(FailedPrecondition) as caught, levels.operation("raw"):
        await conn.execute(
            "UPDATE stock_levels SET on_hand = -1 WHERE warehouse_id = %s AND product_id = %s",
            (key.warehouse_id, key.product_id),
        )
    assert caught.value.reason == "INSUFFICIENT_STOCK"


async def test_read_tells_unknown_ids_from_a_pair_never_stocked(
    conn: Conn, new_product: Factory, new_warehouse: Factory
) -> None:
    levels = StockLevelRepository(conn)
    product, warehouse = await new_product(deleted=True), await new_warehouse()
    never = await levels.read(product, warehouse)
    assert (never.product_found, never.warehouse_found, never.level) == (True, True, None)
    await levels.add(LevelKey(warehouse, product), 4)
    stocked = await levels.read(product, warehouse)
    assert stocked.level is not None
    assert stocked.level.on_hand == 4
    unknown = await levels.read(uuid.uuid4(), uuid.uuid4())
    assert (unknown.product_found, unknown.warehouse_found) == (False, False)


async def test_read_is_one_statement(conn: Conn, new_product: Factory, new_warehouse: Factory) -> None:
    stats = QueryStats()
    await StockLevelRepository(conn, stats=stats).read(await new_product(), await new_warehouse())
    assert stats.snapshot()["stock_levels.read"].queries == 1


# listing ------------------------------------------------------------------------
async def stocked_grid(conn: Conn, new_product: Factory, new_warehouse: Factory) -> list[StockLevel]:
    """3 warehouses x 4 products with on_hand 0..11 and reserved on_hand // 3 (product 0 reorders at 5)."""
    levels = StockLevelRepository(conn)
    products = [await new_product(reorder_point=5 if i == 0 else 0) for i in range(4)]
    warehouses = [await new_warehouse() for _ in range(3)]
    made: list[StockLevel] = []
    for w_index, warehouse in enumerate(warehouses):
        for p_index, product in enumerate(products):
            key = LevelKey(warehouse, product)
            quantity = w_index * 4 + p_index
            await levels.ensure(key)
            if quantity:
                await levels.add(key, quantity)
            changed = await levels.change(key, reserved=quantity // 3)
            assert changed is not None
            made.append(changed)
    return made


async def every_page(levels: StockLevelRepository, page_size: int = 5, **kwargs: Any) -> list[StockLevel]:
    seen: list[StockLevel] = []
    token = ""
    query_fields = {k: kwargs.pop(k) for k in ("filter", "order_by") if k in kwargs}
    while True:
        page = await levels.list(ListQuery(page_size=page_size, page_token=token, **query_fields), **kwargs)
        seen += page.items
        token = page.next_page_token
        if not token:
            return seen


async def test_list_pages_through_every_level_in_key_order_by_default(
    conn: Conn, new_product: Factory, new_warehouse: Factory
) -> None:
    made = await stocked_grid(conn, new_product, new_warehouse)
    seen = await every_page(StockLevelRepository(conn))
    assert [level.key for level in seen] == sorted(level.key for level in made)


@pytest.mark.parametrize(
    "order_by", ["on_hand desc", "available", "reserved, product_id desc", "update_time"]
)
async def test_list_orders_are_complete_and_never_repeat_across_pages(
    conn: Conn, new_product: Factory, new_warehouse: Factory, order_by: str
) -> None:
    made = await stocked_grid(conn, new_product, new_warehouse)
    seen = await every_page(StockLevelRepository(conn), page_size=4, order_by=order_by)
    assert sorted(level.key for level in seen) == sorted(level.key for level in made)
    first_field, *_ = order_by.split(",")[0].split()
    values = [getattr(level, first_field) for level in seen]
    assert values == sorted(values, reverse=order_by.split(",")[0].endswith("desc"))


async def test_list_scopes_by_product_warehouse_and_reorder_point(
    conn: Conn, new_product: Factory, new_warehouse: Factory
) -> None:
    made = await stocked_grid(conn, new_product, new_warehouse)
    levels = StockLevelRepository(conn)
    product, warehouse = made[0].product_id, made[0].warehouse_id
    by_product = await every_page(levels, product_id=product)
    assert {level.product_id for level in by_product} == {product}
    assert len(by_product) == 3
    by_warehouse = await every_page(levels, warehouse_id=warehouse)
    assert {level.warehouse_id for level in by_warehouse} == {warehouse}
    assert len(by_warehouse) == 4
    low = await every_page(levels, below_reorder_point=True)
    assert sorted(level.on_hand for level in low) == [
        0,
        4,
    ]  # product 0 (reorder point 5) in warehouses 0 and 1


async def test_list_filters_on_computed_available(
    conn: Conn, new_product: Factory, new_warehouse: Factory
) -> None:
    made = await stocked_grid(conn, new_product, new_warehouse)
    seen = await every_page(StockLevelRepository(conn), filter="available >= 5 AND reserved > 2")
    expected = {level.key for level in made if level.available >= 5 and level.reserved > 2}
    assert {level.key for level in seen} == expected
    assert expected


@pytest.mark.parametrize(
    ("query", "field"),
    [
        (ListQuery(filter="sku = 'x'"), "filter"),
        (ListQuery(filter="on_hand > 'many'"), "filter"),
        (ListQuery(order_by="reorder_point"), "order_by"),
        (ListQuery(page_token="not-a-token"), "page_token"),
    ],
)
async def test_bad_list_input_is_invalid_argument_naming_the_field(
    conn: Conn, query: ListQuery, field: str
) -> None:
    with pytest.raises(InvalidArgument) as caught:
        await StockLevelRepository(conn).list(query)
    assert caught.value.violations[0].field == field


async def test_a_page_token_is_refused_with_another_product_scope(
    conn: Conn, new_product: Factory, new_warehouse: Factory
) -> None:
    made = await stocked_grid(conn, new_product, new_warehouse)
    levels = StockLevelRepository(conn)
    page = await levels.list(ListQuery(page_size=1), product_id=made[0].product_id)
    assert page.next_page_token
    with pytest.raises(InvalidArgument) as caught:
        await levels.list(
            ListQuery(page_size=1, page_token=page.next_page_token), product_id=made[1].product_id
        )
    assert caught.value.violations[0].field == "page_token"
