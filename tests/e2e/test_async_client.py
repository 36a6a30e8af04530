"""AsyncInventoryClient against the real server: awaitable calls, filled request_ids, typed errors."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest

from inventory_client import AlreadyExistsError, AsyncInventoryClient, InvalidArgumentError, NotFoundError
from inventory_client.v1 import product_pb2 as pb

from .conftest import ServerProcess


async def test_async_client_round_trip_and_typed_errors_with_details(server: ServerProcess) -> None:
    async with AsyncInventoryClient(server.target, timeout=10) as client:
        created = (
            await client.products.CreateProduct(
                pb.CreateProductRequest(product=pb.Product(sku="AIO-1", name="a"))
            )
        ).product
        fetched = (await client.products.GetProduct(pb.GetProductRequest(id=created.id))).product
        assert fetched == created
        with pytest.raises(AlreadyExistsError) as duplicate:
            await client.products.CreateProduct(
                pb.CreateProductRequest(product=pb.Product(sku="aio-1", name="b"))
            )
        assert duplicate.value.reason == "ALREADY_EXISTS"
        with pytest.raises(NotFoundError):
            await client.products.GetProduct(pb.GetProductRequest(id=str(uuid.uuid4())))
        with pytest.raises(InvalidArgumentError) as bad:
            await client.products.GetProduct(pb.GetProductRequest(id="nope"))
        assert bad.value.field_violations[0].field == "id"


async def test_async_client_streams_an_import(server: ServerProcess) -> None:
    async def rows() -> AsyncIterator[pb.ImportProductsRequest]:
        for i in range(3):
            yield pb.ImportProductsRequest(product=pb.Product(sku=f"AIO-IMP-{i}", name="imported"))

    async with AsyncInventoryClient(server.target, timeout=10) as client:
        reply = await client.products.ImportProducts(rows())
    assert reply.inserted_count == 3
