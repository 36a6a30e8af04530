"""Page iterators against the real server: every item once, in order, across page boundaries."""

from __future__ import annotations

import uuid

import pytest

from inventory_client import AsyncInventoryClient, InvalidArgumentError, InventoryClient
from inventory_client.v1 import product_pb2, stock_pb2, user_pb2, warehouse_pb2

from .conftest import ServerProcess


def _products(client: InventoryClient, count: int, price: int = 100) -> list[str]:
    return [
        client.products.CreateProduct(
            product_pb2.CreateProductRequest(
                product=product_pb2.Product(sku=f"IT-{price}-{i:02d}", name="n", unit_price_minor=price)
            )
        ).product.sku
        for i in range(count)
    ]


def test_iter_products_follows_pages_with_the_filter_and_order(client: InventoryClient) -> None:
    expensive = _products(client, 7, price=900)
    _products(client, 3, price=100)
    got = [
        p.sku for p in client.iter_products(filter="unit_price_minor > 500", order_by="sku desc", page_size=2)
    ]
    assert got == sorted(expensive, reverse=True)
    deleted = next(client.iter_products(filter=f'sku = "{expensive[0]}"'))
    client.products.DeleteProduct(product_pb2.DeleteProductRequest(id=deleted.id, etag=deleted.etag))
    assert len(list(client.iter_products(page_size=3))) == 9
    assert len(list(client.iter_products(page_size=3, show_deleted=True))) == 10


def test_iterators_of_warehouses_users_stock_levels_and_ledger(client: InventoryClient) -> None:
    warehouses = [
        client.warehouses.CreateWarehouse(
            warehouse_pb2.CreateWarehouseRequest(warehouse=warehouse_pb2.Warehouse(code=f"W{i}", name="w"))
        ).warehouse.id
        for i in range(5)
    ]
    users = [
        client.users.CreateUser(
            user_pb2.CreateUserRequest(
                user=user_pb2.User(email=f"it{i}@example.com", role=user_pb2.ROLE_CLERK),
                password="correct horse battery",
            )
        ).user.id
        for i in range(4)
    ]
    product = client.products.CreateProduct(
        product_pb2.CreateProductRequest(product=product_pb2.Product(sku="IT-STOCK", name="s"))
    ).product.id
    for warehouse in warehouses:
        client.stock.ReceiveStock(
            stock_pb2.ReceiveStockRequest(
                product_id=product, warehouse_id=warehouse, quantity=2, performed_by=users[0]
            )
        )
    assert [w.code for w in client.iter_warehouses(order_by="code", page_size=2)] == [
        f"W{i}" for i in range(5)
    ]
    assert sorted(u.id for u in client.iter_users(page_size=3)) == sorted(users)
    assert [u.email for u in client.iter_users(filter='email = "it2@example.com"', page_size=1)] == [
        "it2@example.com"
    ]
    levels = list(client.iter_stock_levels(product_id=product, page_size=2))
    assert sorted(level.warehouse_id for level in levels) == sorted(warehouses)
    assert list(client.iter_stock_levels(warehouse_id=warehouses[0])) == [levels_by(levels, warehouses[0])]
    ledger = list(client.iter_transactions(filter=f'product_id = "{product}"', page_size=2))
    assert [row.to_warehouse_id for row in ledger] == warehouses  # create_time order: the receipt order


def levels_by(levels: list[stock_pb2.StockLevel], warehouse: str) -> stock_pb2.StockLevel:
    return next(level for level in levels if level.warehouse_id == warehouse)


def test_a_bad_filter_raises_the_typed_error_on_first_use(client: InventoryClient) -> None:
    iterator = client.iter_products(filter="password_hash = 'x'")
    with pytest.raises(InvalidArgumentError):
        next(iterator)


async def test_async_iterators_follow_pages(server: ServerProcess) -> None:
    async with AsyncInventoryClient(server.target, timeout=10) as client:
        for i in range(5):
            await client.products.CreateProduct(
                product_pb2.CreateProductRequest(product=product_pb2.Product(sku=f"AIT-{i}", name="a"))
            )
        skus = [p.sku async for p in client.iter_products(order_by="sku", page_size=2)]
        assert skus == [f"AIT-{i}" for i in range(5)]
        await client.warehouses.CreateWarehouse(
            warehouse_pb2.CreateWarehouseRequest(warehouse=warehouse_pb2.Warehouse(code="AW", name="w"))
        )
        assert [w.code async for w in client.iter_warehouses()] == ["AW"]
        assert [u async for u in client.iter_users(filter=f'email = "{uuid.uuid4().hex}@x.org"')] == []
        assert [s async for s in client.iter_stock_levels(page_size=1)] == []
        assert [t async for t in client.iter_transactions()] == []
        with pytest.raises(InvalidArgumentError):
            [p async for p in client.iter_products(order_by="password_hash")]
