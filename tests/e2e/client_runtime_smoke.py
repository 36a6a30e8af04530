"""Use the client against a server from a venv that holds only inventory-client and its dependencies.

Run by tests/e2e/test_client_runtime_range.py with the oldest and the newest
grpcio/protobuf the client allows: ``python client_runtime_smoke.py HOST:PORT``.
Prints one JSON object with the runtime versions and what each feature returned.
"""

from __future__ import annotations

import asyncio
import json
import sys
import uuid
from typing import Any

import google.protobuf
import grpc

import inventory_client
from inventory_client import AsyncInventoryClient, InvalidArgumentError, InventoryClient, NotFoundError
from inventory_client.v1 import product_pb2, stock_pb2


def sync_features(target: str) -> dict[str, Any]:
    with InventoryClient(target, token="smoke-token", timeout=10) as client:
        for i in range(3):
            client.products.CreateProduct(
                product_pb2.CreateProductRequest(product=product_pb2.Product(sku=f"RT-{i}", name="r"))
            )
        skus = [p.sku for p in client.iter_products(order_by="sku", page_size=2)]
        try:
            client.products.GetProduct(product_pb2.GetProductRequest(id=str(uuid.uuid4())))
            not_found = ""
        except NotFoundError as error:
            not_found = error.reason
        try:
            client.stock.ReceiveStock(stock_pb2.ReceiveStockRequest(quantity=-1))
            violations: list[str] = []
        except InvalidArgumentError as error:
            violations = sorted(v.field for v in error.field_violations)
    return {"skus": skus, "not_found_reason": not_found, "violations": violations}


async def async_features(target: str) -> dict[str, Any]:
    async with AsyncInventoryClient(target, token="smoke-token", timeout=10) as client:
        await client.products.CreateProduct(
            product_pb2.CreateProductRequest(product=product_pb2.Product(sku="RT-ASYNC", name="a"))
        )
        skus = [p.sku async for p in client.iter_products(filter='sku = "RT-ASYNC"')]
    return {"async_skus": skus}


def main(target: str) -> None:
    report = {
        "client": inventory_client.__version__,
        "grpcio": grpc.__version__,
        "protobuf": google.protobuf.__version__,
        **sync_features(target),
        **asyncio.run(async_features(target)),
    }
    print(json.dumps(report))


if __name__ == "__main__":
    main(sys.argv[1])
