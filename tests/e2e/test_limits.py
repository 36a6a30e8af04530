"""Resource limits: an oversized request is refused by the transport without stalling the replica."""

from __future__ import annotations

import threading
import time
import uuid

import grpc
import pytest

from inventory_client import InvalidArgumentError, InventoryClient, NotFoundError
from inventory_client.v1 import product_pb2

from .conftest import ServerProcess


def _identity(data: bytes) -> bytes:
    return data


def _oversized_batch() -> bytes:
    """A BatchCreateProducts just under 16 MiB: 120,000 small products (each one cheap, many of them)."""
    request = product_pb2.BatchCreateProductsRequest(
        requests=[
            product_pb2.CreateProductRequest(product=product_pb2.Product(sku=f"BIG-{i}", name="n" * 120))
            for i in range(120_000)
        ]
    )
    data = request.SerializeToString()
    assert 15 * 2**20 < len(data) < 16 * 2**20
    return data


def test_a_16_mib_batch_is_refused_while_other_calls_answer_promptly(
    server: ServerProcess, client: InventoryClient
) -> None:
    data = _oversized_batch()
    outcome: list[grpc.StatusCode] = []
    with grpc.insecure_channel(server.target) as channel:
        big = channel.unary_unary(
            "/inventory.v1.ProductService/BatchCreateProducts",
            request_serializer=_identity,
            response_deserializer=_identity,
        )

        def send() -> None:
            try:
                big(data, timeout=60)
                outcome.append(grpc.StatusCode.OK)
            except grpc.RpcError as error:
                outcome.append(error.code())

        sender = threading.Thread(target=send)
        sender.start()
        answered = 0
        # While the big call is in flight (and a little after), every small call answers within 1 s.
        until = time.monotonic() + 3
        while sender.is_alive() or time.monotonic() < until:
            with pytest.raises(NotFoundError):
                client.products.GetProduct(product_pb2.GetProductRequest(id=str(uuid.uuid4())), timeout=1)
            answered += 1
        sender.join()
    assert outcome == [grpc.StatusCode.RESOURCE_EXHAUSTED]
    assert answered > 0


def test_a_batch_over_the_item_limit_is_refused_before_any_item_is_read(client: InventoryClient) -> None:
    request = product_pb2.BatchCreateProductsRequest(
        requests=[product_pb2.CreateProductRequest(product=product_pb2.Product()) for _ in range(1001)]
    )
    with pytest.raises(InvalidArgumentError) as caught:
        client.products.BatchCreateProducts(request)
    # Refused for its size, not for the 1001 invalid products it carries.
    assert [v.field for v in caught.value.field_violations] == ["requests"]
