"""ProductRepository on PostgreSQL: every method, including its error cases."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import psycopg
import pytest

from inventory_server.db.query import insert
from inventory_server.domain.errors import (
    AlreadyExists,
    EtagMismatch,
    FailedPrecondition,
    InvalidArgument,
    NotFound,
)
from inventory_server.domain.paging import ListQuery
from inventory_server.domain.product import NewProduct
from inventory_server.repositories.idempotency import IdempotencyRepository
from inventory_server.repositories.instrumentation import QueryStats
from inventory_server.repositories.interfaces import Claim
from inventory_server.repositories.products import ProductRepository

Conn = psycopg.AsyncConnection[Any]


def repo(conn: Conn, stats: QueryStats) -> ProductRepository:
    return ProductRepository(conn, stats=stats)


async def test_create_then_get_round_trips_every_field(conn: Conn, stats: QueryStats) -> None:
    products = repo(conn, stats)
    new = NewProduct("SKU-1", "Bolt", "steel", 1999, "EUR", 5, {"color": "red", "size": "M"})
    created = await products.create(new)
    assert (created.sku, created.name, created.description) == ("SKU-1", "Bolt", "steel")
    assert (created.unit_price_minor, created.currency_code, created.reorder_point) == (1999, "EUR", 5)
    assert created.attributes == {"color": "red", "size": "M"}
    assert created.version == 1
    assert created.delete_time is None
    assert created.create_time == created.update_time
    assert await products.get(created.id) == created
    assert stats.snapshot()["products.create"].queries == 1


async def test_get_unknown_id_is_not_found(conn: Conn, stats: QueryStats) -> None:
    missing = uuid.uuid4()
    with pytest.raises(NotFound) as caught:
        await repo(conn, stats).get(missing)
    assert caught.value.resource == "product"
    assert caught.value.key == str(missing)


async def test_get_for_update_locks_the_row(conn: Conn, migrated_dsn: str, stats: QueryStats) -> None:
    products = repo(conn, stats)
    created = await products.create(NewProduct("LOCK-1", "Lock"))
    await conn.commit()
    await products.get(created.id, for_update=True)
    async with await psycopg.AsyncConnection.connect(migrated_dsn) as other:
        await other.execute("SET lock_timeout = '100ms'")
        with pytest.raises(psycopg.errors.LockNotAvailable):
            await ProductRepository(other).update(created.id, {"name": "x"}, expected_version=None)


async def test_get_many_is_one_query_and_skips_missing_ids(conn: Conn, stats: QueryStats) -> None:
    products = repo(conn, stats)
    a = await products.create(NewProduct("A-1", "A"))
    b = await products.create(NewProduct("B-1", "B"))
    found = await products.get_many([a.id, uuid.uuid4(), b.id])
    assert sorted(p.sku for p in found) == ["A-1", "B-1"]
    assert stats.snapshot()["products.get_many"].queries == 1
    assert await products.get_many([]) == []


async def test_duplicate_sku_in_any_case_is_already_exists(conn: Conn, stats: QueryStats) -> None:
    products = repo(conn, stats)
    await products.create(NewProduct("Dup-1", "First"))
    with pytest.raises(AlreadyExists) as caught:
        await products.create(NewProduct("DUP-1", "Second"))
    assert (caught.value.resource, caught.value.field_name, caught.value.value) == ("product", "sku", "DUP-1")
    assert isinstance(caught.value.__cause__, psycopg.errors.UniqueViolation)


async def test_create_many_returns_products_in_input_order(conn: Conn, stats: QueryStats) -> None:
    products = repo(conn, stats)
    skus = [f"BATCH-{n}" for n in (5, 1, 9, 3, 7)]
    created = await products.create_many([NewProduct(s, s.lower()) for s in skus])
    assert [p.sku for p in created] == skus
    assert len({p.id for p in created}) == len(skus)
    assert stats.snapshot()["products.create_many"].queries == 1


async def test_create_many_with_a_taken_sku_names_it_and_inserts_nothing(
    conn: Conn, stats: QueryStats
) -> None:
    products = repo(conn, stats)
    await products.create(NewProduct("taken", "x"))
    await conn.commit()
    with pytest.raises(AlreadyExists) as caught:
        await products.create_many([NewProduct("free", "y"), NewProduct("TAKEN", "z")])
    assert caught.value.value == "TAKEN"
    await conn.rollback()
    assert [p.sku for p in (await products.list(ListQuery())).items] == ["taken"]


async def test_update_sets_fields_bumps_version_and_update_time(conn: Conn, stats: QueryStats) -> None:
    products = repo(conn, stats)
    created = await products.create(NewProduct("UPD-1", "Old", attributes={"a": "1"}))
    await conn.commit()  # a new transaction, so now() moves on
    await asyncio.sleep(0.01)
    updated = await products.update(
        created.id, {"name": "New", "attributes": {"b": "2"}}, expected_version=created.version
    )
    assert (updated.name, updated.attributes, updated.version) == ("New", {"b": "2"}, 2)
    assert updated.update_time > created.update_time
    assert updated.create_time == created.create_time
    assert stats.snapshot()["products.update"].queries == 1


async def test_update_without_expected_version_always_applies(conn: Conn, stats: QueryStats) -> None:
    products = repo(conn, stats)
    created = await products.create(NewProduct("UPD-2", "Old"))
    await products.update(created.id, {"name": "One"}, expected_version=None)
    again = await products.update(created.id, {"name": "Two"}, expected_version=None)
    assert (again.name, again.version) == ("Two", 3)


async def test_stale_version_is_etag_mismatch_and_changes_nothing(conn: Conn, stats: QueryStats) -> None:
    products = repo(conn, stats)
    created = await products.create(NewProduct("UPD-3", "Old"))
    await products.update(created.id, {"name": "Newer"}, expected_version=1)
    with pytest.raises(EtagMismatch):
        await products.update(created.id, {"name": "Lost"}, expected_version=1)
    current = await products.get(created.id)
    assert (current.name, current.version) == ("Newer", 2)


async def test_update_of_unknown_id_is_not_found_even_with_a_version(conn: Conn, stats: QueryStats) -> None:
    with pytest.raises(NotFound):
        await repo(conn, stats).update(uuid.uuid4(), {"name": "x"}, expected_version=3)


async def test_update_refuses_fields_outside_the_updatable_set(conn: Conn, stats: QueryStats) -> None:
    products = repo(conn, stats)
    created = await products.create(NewProduct("UPD-4", "Old"))
    with pytest.raises(InvalidArgument) as caught:
        await products.update(created.id, {"sku": "NEW", "version": 9}, expected_version=None)
    assert caught.value.violations[0].field == "update_mask"


async def test_empty_update_checks_the_version_and_changes_nothing(conn: Conn, stats: QueryStats) -> None:
    products = repo(conn, stats)
    created = await products.create(NewProduct("UPD-5", "Old"))
    assert await products.update(created.id, {}, expected_version=1) == created
    with pytest.raises(EtagMismatch):
        await products.update(created.id, {}, expected_version=2)


async def test_soft_delete_and_undelete(conn: Conn, stats: QueryStats) -> None:
    products = repo(conn, stats)
    created = await products.create(NewProduct("DEL-1", "Gone"))
    deleted = await products.soft_delete(created.id, expected_version=1)
    assert deleted.deleted
    assert deleted.version == 2
    assert await products.soft_delete(created.id, expected_version=None) == deleted
    assert [p.id for p in (await products.list(ListQuery())).items] == []
    shown = await products.list(ListQuery(show_deleted=True))
    assert [p.id for p in shown.items] == [created.id]
    with pytest.raises(EtagMismatch):
        await products.undelete(created.id, expected_version=1)
    restored = await products.undelete(created.id, expected_version=2)
    assert (restored.deleted, restored.version) == (False, 3)
    assert await products.undelete(created.id, expected_version=3) == restored
    with pytest.raises(NotFound):
        await products.soft_delete(uuid.uuid4(), expected_version=None)


async def test_a_product_with_stock_on_hand_cannot_be_deleted(conn: Conn, stats: QueryStats) -> None:
    products = repo(conn, stats)
    product = await products.create(NewProduct("STOCKED-1", "Stocked"))
    warehouse_id = uuid.uuid4()
    for statement in (
        insert("warehouses").values({"id": warehouse_id, "code": "W1", "name": "Main"}),
        insert("stock_levels").values({"product_id": product.id, "warehouse_id": warehouse_id, "on_hand": 3}),
    ):
        await conn.execute(*statement.build())
    with pytest.raises(FailedPrecondition) as caught:
        await products.soft_delete(product.id, expected_version=None)
    assert caught.value.reason == "STOCK_ON_HAND"
    assert not (await products.get(product.id)).deleted


async def test_operations_are_recorded_with_latency(conn: Conn, stats: QueryStats) -> None:
    products = repo(conn, stats)
    created = await products.create(NewProduct("ST-1", "x"))
    for _ in range(3):
        await products.get(created.id)
    with pytest.raises(NotFound):
        await products.get(uuid.uuid4())
    snapshot = stats.snapshot()["products.get"]
    assert (snapshot.calls, snapshot.errors, snapshot.queries) == (4, 1, 4)
    assert 0 < snapshot.p50_ms <= snapshot.p95_ms <= snapshot.max_ms


async def test_a_delete_waits_for_a_concurrent_receipt_and_then_sees_its_stock(
    conn: Conn, migrated_dsn: str, stats: QueryStats
) -> None:
    products = repo(conn, stats)
    product = await products.create(NewProduct("RACE-1", "Bolt"))
    await conn.commit()
    async with await psycopg.AsyncConnection.connect(migrated_dsn) as receipt:
        warehouse = await (
            await receipt.execute("INSERT INTO warehouses (code, name) VALUES ('R', 'r') RETURNING id")
        ).fetchone()
        assert warehouse is not None
        await receipt.execute(  # not committed yet: its FK check holds FOR KEY SHARE on the product
            "INSERT INTO stock_levels (product_id, warehouse_id, on_hand) VALUES (%s, %s, 4)",
            [product.id, warehouse[0]],
        )
        delete = asyncio.create_task(products.soft_delete(product.id, expected_version=None))
        await asyncio.sleep(0.3)
        assert not delete.done()
        await receipt.commit()
        with pytest.raises(FailedPrecondition):
            await delete
    assert not (await products.get(product.id)).deleted


async def test_create_once_claims_inserts_and_stores_the_response_in_one_statement(
    conn: Conn, stats: QueryStats
) -> None:
    products = repo(conn, stats)
    id = uuid.uuid4()
    new = NewProduct("ONCE-1", "Bolt", "steel", 1999, "EUR", 5, {"color": "red"})
    claim = Claim("CreateProduct", "req-once", "fp")
    created = await products.create_once(new, id=id, claim=claim, response={"ids": [str(id)]})
    assert created is not None
    assert (created.id, created.sku, created.attributes, created.version) == (
        id,
        "ONCE-1",
        {"color": "red"},
        1,
    )
    assert stats.snapshot()["products.create_once"].queries == 1
    await conn.commit()
    # the key is stored answered: a retry replays it, and create_once inserts nothing
    assert await IdempotencyRepository(conn).claim("CreateProduct", "req-once", "fp") == {"ids": [str(id)]}
    again = await products.create_once(new, id=uuid.uuid4(), claim=claim, response={"ids": ["x"]})
    assert again is None


async def test_create_once_with_a_taken_sku_is_already_exists_and_keeps_no_claim(
    conn: Conn, stats: QueryStats
) -> None:
    products = repo(conn, stats)
    await products.create(NewProduct("ONCE-2", "Nut"))
    await conn.commit()
    claim = Claim("CreateProduct", "req-taken", "fp")
    with pytest.raises(AlreadyExists) as caught:
        await products.create_once(NewProduct("once-2", "Nut"), id=uuid.uuid4(), claim=claim, response={})
    assert caught.value.value == "once-2"
    await conn.rollback()
    assert await IdempotencyRepository(conn).claim("CreateProduct", "req-taken", "fp") is None


async def test_create_once_waits_for_a_concurrent_claim_of_the_same_key(
    conn: Conn, migrated_dsn: str
) -> None:
    claim = Claim("CreateProduct", "req-race", "fp")
    first_id = uuid.uuid4()
    first = await ProductRepository(conn).create_once(
        NewProduct("RACE-1", "a"), id=first_id, claim=claim, response={"ids": [str(first_id)]}
    )
    assert first is not None
    async with await psycopg.AsyncConnection.connect(migrated_dsn) as other_conn:
        second = asyncio.create_task(
            ProductRepository(other_conn).create_once(
                NewProduct("RACE-1", "a"), id=uuid.uuid4(), claim=claim, response={"ids": ["other"]}
            )
        )
        await asyncio.sleep(0.2)
        assert not second.done(), "the second claim must wait for the first transaction"
        await conn.commit()
        assert await asyncio.wait_for(second, 5) is None
