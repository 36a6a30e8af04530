"""The client's ImportProducts batching: batch_size products a message, cut by size, all_or_nothing first."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from inventory_client.imports import import_requests, import_requests_async
from inventory_client.v1 import product_pb2 as pb


def products(count: int, description: str = "") -> list[pb.Product]:
    return [pb.Product(sku=f"S-{i}", name="n", description=description) for i in range(count)]


def test_products_go_batch_size_to_a_message_in_order() -> None:
    messages = list(import_requests(products(1201), batch_size=500))
    assert [len(m.products) for m in messages] == [500, 500, 201]
    assert [p.sku for m in messages for p in m.products] == [f"S-{i}" for i in range(1201)]
    assert not any(m.HasField("product") for m in messages)


def test_all_or_nothing_rides_on_the_first_message_only() -> None:
    messages = list(import_requests(products(5), all_or_nothing=True, batch_size=2))
    assert [m.all_or_nothing for m in messages] == [True, False, False]


def test_a_message_is_cut_before_it_passes_max_message_bytes() -> None:
    rows = products(10, description="x" * 1000)
    messages = list(import_requests(rows, batch_size=500, max_message_bytes=3500))
    assert [len(m.products) for m in messages] == [3, 3, 3, 1]
    assert all(m.ByteSize() <= 3500 for m in messages)


def test_no_products_is_no_message_and_a_bad_batch_size_is_refused() -> None:
    assert list(import_requests([])) == []
    with pytest.raises(ValueError, match="batch_size"):
        list(import_requests(products(1), batch_size=0))


def test_the_async_form_takes_async_and_plain_iterables() -> None:
    async def rows() -> AsyncIterator[pb.Product]:
        for product in products(7):
            yield product

    async def collect(source: AsyncIterator[pb.Product] | list[pb.Product]) -> list[int]:
        return [len(m.products) async for m in import_requests_async(source, batch_size=3)]

    assert asyncio.run(collect(rows())) == [3, 3, 1]
    assert asyncio.run(collect(products(7))) == [3, 3, 1]
