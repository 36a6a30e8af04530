"""WarehouseRepository on PostgreSQL: every method, its errors, and the delete-with-stock lock."""

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
from inventory_server.domain.warehouse import NewWarehouse, Warehouse
from inventory_server.repositories.instrumentation import QueryStats
from inventory_server.repositories.warehouses import WarehouseRepository

Conn = psycopg.AsyncConnection[Any]


def repo(conn: Conn, stats: QueryStats | None = None) -> WarehouseRepository:
    return WarehouseRepository(conn, stats=stats)


async def put_stock(conn: Conn, warehouse: Warehouse, on_hand: int, reserved: int = 0) -> None:
    """A product and its level in ``warehouse``, written directly (the stock service is not needed)."""
    product_id = uuid.uuid4()
    for statement in (
        insert("products").values({"id": product_id, "sku": f"P-{product_id.hex[:8]}", "name": "Bolt"}),
        insert("stock_levels").values(
            {"product_id": product_id, "warehouse_id": warehouse.id, "on_hand": on_hand, "reserved": reserved}
        ),
    ):
        await conn.execute(*statement.build())


async def test_create_then_get_round_trips_every_field(conn: Conn, stats: QueryStats) -> None:
    warehouses = repo(conn, stats)
    created = await warehouses.create(NewWarehouse("BER-1", "Berlin", "Hauptstr. 1"))
    assert (created.code, created.name, created.address) == ("BER-1", "Berlin", "Hauptstr. 1")
    assert (created.version, created.delete_time) == (1, None)
    assert await warehouses.get(created.id) == created
    assert stats.snapshot()["warehouses.create"].queries == 1


async def test_duplicate_code_in_any_case_is_already_exists_as_spelled(conn: Conn) -> None:
    warehouses = repo(conn)
    await warehouses.create(NewWarehouse("Ber-1", "Berlin"))
    with pytest.raises(AlreadyExists) as caught:
        await warehouses.create(NewWarehouse("BER-1", "Berlin again"))
    assert (caught.value.resource, caught.value.field_name, caught.value.value) == (
        "warehouse",
        "code",
        "BER-1",
    )


async def test_get_of_an_unknown_id_is_not_found(conn: Conn) -> None:
    missing = uuid.uuid4()
    with pytest.raises(NotFound) as caught:
        await repo(conn).get(missing)
    assert (caught.value.resource, caught.value.key) == ("warehouse", str(missing))


async def test_update_changes_name_and_address_and_bumps_the_version(conn: Conn) -> None:
    warehouses = repo(conn)
    created = await warehouses.create(NewWarehouse("BER-1", "Berlin"))
    await conn.commit()
    updated = await warehouses.update(
        created.id, {"name": "Berlin Nord", "address": "Str. 2"}, expected_version=1
    )
    assert (updated.name, updated.address, updated.code, updated.version) == (
        "Berlin Nord",
        "Str. 2",
        "BER-1",
        2,
    )
    assert updated.update_time > created.update_time


async def test_a_stale_version_is_etag_mismatch_and_changes_nothing(conn: Conn) -> None:
    warehouses = repo(conn)
    created = await warehouses.create(NewWarehouse("BER-1", "Berlin"))
    await warehouses.update(created.id, {"name": "First"}, expected_version=1)
    with pytest.raises(EtagMismatch):
        await warehouses.update(created.id, {"name": "Lost"}, expected_version=1)
    assert (await warehouses.get(created.id)).name == "First"


async def test_code_and_output_only_columns_cannot_be_updated(conn: Conn) -> None:
    warehouses = repo(conn)
    created = await warehouses.create(NewWarehouse("BER-1", "Berlin"))
    for changes in ({"code": "HAM-1"}, {"version": 9}, {"delete_time": None}):
        with pytest.raises(InvalidArgument) as caught:
            await warehouses.update(created.id, changes, expected_version=None)
        assert caught.value.violations[0].field == "update_mask"


async def test_update_of_an_unknown_id_is_not_found(conn: Conn) -> None:
    with pytest.raises(NotFound):
        await repo(conn).update(uuid.uuid4(), {"name": "x"}, expected_version=1)


async def test_soft_delete_hides_from_list_unless_show_deleted(conn: Conn) -> None:
    warehouses = repo(conn)
    kept = await warehouses.create(NewWarehouse("KEEP", "Kept"))
    gone = await warehouses.create(NewWarehouse("GONE", "Gone"))
    deleted = await warehouses.soft_delete(gone.id, expected_version=1)
    assert (deleted.deleted, deleted.version) == (True, 2)
    assert await warehouses.soft_delete(gone.id, expected_version=None) == deleted
    assert [w.id for w in (await warehouses.list(ListQuery())).items] == [kept.id]
    shown = await warehouses.list(ListQuery(show_deleted=True, order_by="code"))
    assert [w.code for w in shown.items] == ["GONE", "KEEP"]


async def test_soft_delete_checks_existence_and_etag(conn: Conn) -> None:
    warehouses = repo(conn)
    created = await warehouses.create(NewWarehouse("BER-1", "Berlin"))
    with pytest.raises(NotFound):
        await warehouses.soft_delete(uuid.uuid4(), expected_version=None)
    with pytest.raises(EtagMismatch):
        await warehouses.soft_delete(created.id, expected_version=5)
    assert not (await warehouses.get(created.id)).deleted


@pytest.mark.parametrize(("on_hand", "reserved"), [(3, 0), (2, 2)])
async def test_a_warehouse_holding_stock_cannot_be_deleted(conn: Conn, on_hand: int, reserved: int) -> None:
    warehouses = repo(conn)
    warehouse = await warehouses.create(NewWarehouse("BER-1", "Berlin"))
    await put_stock(conn, warehouse, on_hand, reserved)
    with pytest.raises(FailedPrecondition) as caught:
        await warehouses.soft_delete(warehouse.id, expected_version=None)
    assert caught.value.reason == "STOCK_ON_HAND"
    [violation] = caught.value.violations
    assert (violation.type, violation.subject) == ("STOCK", f"warehouses/{warehouse.id}")
    assert not (await warehouses.get(warehouse.id)).deleted


async def test_empty_stock_levels_do_not_block_a_delete(conn: Conn) -> None:
    warehouses = repo(conn)
    warehouse = await warehouses.create(NewWarehouse("BER-1", "Berlin"))
    other = await warehouses.create(NewWarehouse("HAM-1", "Hamburg"))
    await put_stock(conn, warehouse, 0)
    await put_stock(conn, other, 5)
    assert (await warehouses.soft_delete(warehouse.id, expected_version=None)).deleted


async def test_delete_locks_the_row_against_foreign_key_checks_until_it_ends(
    conn: Conn, migrated_dsn: str
) -> None:
    warehouses = repo(conn)
    warehouse = await warehouses.create(NewWarehouse("BER-1", "Berlin"))
    await conn.commit()
    await warehouses.soft_delete(warehouse.id, expected_version=None)  # transaction left open
    async with await psycopg.AsyncConnection.connect(migrated_dsn, options="-c lock_timeout=200ms") as other:
        with pytest.raises(psycopg.errors.LockNotAvailable):
            await put_stock(other, warehouse, 1)  # the FK check takes FOR KEY SHARE on the warehouse
        await other.rollback()
        with pytest.raises(psycopg.errors.LockNotAvailable):
            await other.execute("SELECT 1 FROM warehouses WHERE id = %s FOR KEY SHARE", [warehouse.id])


async def test_a_delete_waits_for_a_concurrent_receipt_and_then_sees_its_stock(
    conn: Conn, migrated_dsn: str
) -> None:
    warehouses = repo(conn)
    warehouse = await warehouses.create(NewWarehouse("BER-1", "Berlin"))
    await conn.commit()
    async with await psycopg.AsyncConnection.connect(migrated_dsn) as receipt:
        await put_stock(receipt, warehouse, 4)  # not committed yet
        delete = asyncio.create_task(warehouses.soft_delete(warehouse.id, expected_version=None))
        await asyncio.sleep(0.3)
        assert not delete.done()  # blocked on the receipt's key-share lock
        await receipt.commit()
        with pytest.raises(FailedPrecondition):
            await delete
    assert not (await warehouses.get(warehouse.id)).deleted


async def test_list_filters_orders_and_pages_with_keyset_tokens(conn: Conn, stats: QueryStats) -> None:
    warehouses = repo(conn, stats)
    for n in range(7):
        await warehouses.create(NewWarehouse(f"W-{n}", f"Site {n % 3}"))
    seen: list[str] = []
    token = ""
    while True:
        page = await warehouses.list(ListQuery(page_size=3, page_token=token, order_by="name desc, code"))
        seen += [w.code for w in page.items]
        token = page.next_page_token
        if not token:
            break
    assert seen == ["W-2", "W-5", "W-1", "W-4", "W-0", "W-3", "W-6"]
    filtered = await warehouses.list(ListQuery(filter='name = "Site 1" AND code:"4"'))
    assert [w.code for w in filtered.items] == ["W-4"]
    assert stats.snapshot()["warehouses.list"].queries == 4


@pytest.mark.parametrize(
    ("filter", "order_by"), [("address = x", ""), ("", "address"), ("version > 1", ""), ("", "code sideways")]
)
async def test_list_accepts_only_its_allow_list(conn: Conn, filter: str, order_by: str) -> None:
    with pytest.raises(InvalidArgument):
        await repo(conn).list(ListQuery(filter=filter, order_by=order_by))
