"""ImportProducts end to end: a client stream through the real server into PostgreSQL."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

from inventory_client import AsyncInventoryClient, DeadlineExceededError, InventoryClient
from inventory_client.v1 import product_pb2 as pb
from tests.e2e.conftest import ServerProcess


def stream(products: list[pb.Product], all_or_nothing: bool = False) -> Iterator[pb.ImportProductsRequest]:
    for index, product in enumerate(products):
        yield pb.ImportProductsRequest(product=product, all_or_nothing=all_or_nothing and index == 0)


def product(sku: str, name: str = "Imported", **fields: Any) -> pb.Product:
    return pb.Product(sku=sku, name=name, **fields)


def by_sku(client: InventoryClient, sku: str) -> pb.Product:
    reply = client.products.ListProducts(
        pb.ListProductsRequest(filter=f'sku = "{sku}"', page_size=2, show_deleted=True)
    )
    (found,) = reply.products
    return found


def test_import_inserts_new_and_updates_existing_skus_case_insensitively(client: InventoryClient) -> None:
    existing = client.products.CreateProduct(
        pb.CreateProductRequest(product=product("OLD-1", "Before", unit_price_minor=5))
    ).product
    reply = client.products.ImportProducts(
        stream(
            [
                product("NEW-1", unit_price_minor=100, currency_code="EUR", attributes={"c": "red"}),
                product("old-1", "After", unit_price_minor=7),
                product("NEW-2"),
            ]
        )
    )
    assert (reply.inserted_count, reply.updated_count, reply.rejected_count) == (2, 1, 0)
    assert list(reply.rejected) == []
    updated = client.products.GetProduct(pb.GetProductRequest(id=existing.id)).product
    assert (updated.sku, updated.name, updated.unit_price_minor) == ("OLD-1", "After", 7)
    assert updated.etag != existing.etag
    assert updated.update_time.ToDatetime() > existing.update_time.ToDatetime()
    new = by_sku(client, "NEW-1")
    assert (new.unit_price_minor, new.currency_code, dict(new.attributes)) == (100, "EUR", {"c": "red"})


def test_invalid_and_duplicate_rows_are_rejected_and_the_rest_loaded(client: InventoryClient) -> None:
    reply = client.products.ImportProducts(
        stream(
            [
                product("GOOD-1"),
                product("bad sku!"),
                product("GOOD-2", name=""),
                product("good-1", "Second"),
                product("GOOD-3", unit_price_minor=-1),
            ]
        )
    )
    assert (reply.inserted_count, reply.updated_count, reply.rejected_count) == (1, 0, 4)
    rejected = {r.index: r for r in reply.rejected}
    assert sorted(rejected) == [1, 2, 3, 4]
    assert rejected[1].sku == "bad sku!"
    assert "product.sku" in rejected[1].reason
    assert "product.name" in rejected[2].reason
    assert rejected[3].reason == "duplicates the sku of row 0"
    assert "product.unit_price_minor" in rejected[4].reason
    assert by_sku(client, "GOOD-1").name == "Imported"  # the first row of a duplicated sku wins


def test_all_or_nothing_loads_nothing_when_a_row_is_rejected(client: InventoryClient) -> None:
    reply = client.products.ImportProducts(stream([product("AON-1"), product("")], all_or_nothing=True))
    assert (reply.inserted_count, reply.updated_count, reply.rejected_count) == (0, 0, 1)
    assert reply.rejected[0].index == 1
    listed = client.products.ListProducts(pb.ListProductsRequest(filter='sku = "AON-1"'))
    assert list(listed.products) == []


def test_all_or_nothing_is_read_from_the_first_message_only(client: InventoryClient) -> None:
    requests = [
        pb.ImportProductsRequest(product=product("FIRST-1")),
        pb.ImportProductsRequest(product=product(""), all_or_nothing=True),
    ]
    reply = client.products.ImportProducts(iter(requests))
    assert (reply.inserted_count, reply.rejected_count) == (1, 1)


def test_a_soft_deleted_sku_is_rejected_not_undeleted(client: InventoryClient) -> None:
    created = client.products.CreateProduct(pb.CreateProductRequest(product=product("GONE-1"))).product
    client.products.DeleteProduct(pb.DeleteProductRequest(id=created.id))
    reply = client.products.ImportProducts(stream([product("gone-1", "Back?")]))
    assert (reply.inserted_count, reply.updated_count, reply.rejected_count) == (0, 0, 1)
    assert "deleted" in reply.rejected[0].reason
    still = client.products.GetProduct(pb.GetProductRequest(id=created.id)).product
    assert still.HasField("delete_time")
    assert still.name == "Imported"


def test_an_empty_stream_loads_nothing(client: InventoryClient) -> None:
    reply = client.products.ImportProducts(iter([]))
    assert reply == pb.ImportProductsResponse()


def test_a_cached_product_is_fresh_after_an_import_updates_it(client: InventoryClient) -> None:
    created = client.products.CreateProduct(pb.CreateProductRequest(product=product("CACHED-1"))).product
    for _ in range(2):
        client.products.GetProduct(pb.GetProductRequest(id=created.id))
    client.products.ImportProducts(stream([product("CACHED-1", "Reloaded")]))
    assert client.products.GetProduct(pb.GetProductRequest(id=created.id)).product.name == "Reloaded"


def test_only_the_first_1000_rejections_are_listed_but_all_are_counted(client: InventoryClient) -> None:
    rows = [product(f"OK-{i}") for i in range(5)] + [product("", name="x")] * 1200
    reply = client.products.ImportProducts(stream(rows), timeout=60)
    assert (reply.inserted_count, reply.rejected_count, len(reply.rejected)) == (5, 1200, 1000)
    assert [r.index for r in reply.rejected] == list(range(5, 1005))


def test_many_rows_are_loaded_in_batches(client: InventoryClient) -> None:
    rows = [product(f"BULK-{i:05d}", unit_price_minor=i) for i in range(5000)]
    reply = client.products.ImportProducts(stream(rows), timeout=60)
    assert (reply.inserted_count, reply.updated_count) == (5000, 0)
    again = client.products.ImportProducts(stream(rows), timeout=60)
    assert (again.inserted_count, again.updated_count) == (0, 5000)
    assert by_sku(client, "BULK-04321").unit_price_minor == 4321


def test_a_malformed_sku_in_an_import_is_never_internal(client: InventoryClient) -> None:
    reply = client.products.ImportProducts(stream([product("A\x00B"), product("NUL-1", name="a\x00b")]))
    assert reply.rejected_count == 2


def test_an_import_cut_off_by_its_deadline_loads_nothing(client: InventoryClient) -> None:
    def slow() -> Iterator[pb.ImportProductsRequest]:
        for i in range(3000):
            yield pb.ImportProductsRequest(product=product(f"LATE-{i}"))
        time.sleep(3)  # the client stalls past its deadline with rows already staged on the server

    with pytest.raises(DeadlineExceededError):
        client.products.ImportProducts(slow(), timeout=1.5)
    listed = client.products.ListProducts(pb.ListProductsRequest(filter='sku = "LATE-1"'))
    assert list(listed.products) == []
    # the server is fine afterwards and its connection went back to the pool
    reply = client.products.ImportProducts(stream([product("AFTER-1")]))
    assert reply.inserted_count == 1


def test_a_message_s_products_follow_its_product_and_indices_span_messages(
    client: InventoryClient,
) -> None:
    """A message's rows are ``product`` then ``products``; indices run over the whole stream."""
    messages = [
        pb.ImportProductsRequest(products=[product("MIX-0"), product("MIX-1")]),
        pb.ImportProductsRequest(product=product("MIX-2")),  # an old-style message in between
        pb.ImportProductsRequest(product=product("MIX-3"), products=[product("bad sku!"), product("mix-0")]),
    ]
    reply = client.products.ImportProducts(iter(messages))
    assert (reply.inserted_count, reply.updated_count, reply.rejected_count) == (4, 0, 2)
    assert [(r.index, r.sku) for r in reply.rejected] == [(4, "bad sku!"), (5, "mix-0")]
    assert reply.rejected[1].reason == "duplicates the sku of row 0"


def test_all_or_nothing_on_a_batched_first_message_applies_to_every_row(client: InventoryClient) -> None:
    messages = [
        pb.ImportProductsRequest(products=[product("AON-B-1")], all_or_nothing=True),
        pb.ImportProductsRequest(products=[product("AON-B-2"), product("")]),
    ]
    reply = client.products.ImportProducts(iter(messages))
    assert (reply.inserted_count, reply.rejected_count) == (0, 1)
    assert reply.rejected[0].index == 2


def test_the_client_import_helper_batches_and_reports_positions_in_the_input(client: InventoryClient) -> None:
    rows = [product(f"HELP-{i:05d}", unit_price_minor=i) for i in range(1203)] + [product("", name="x")]
    reply = client.import_products(rows, batch_size=500)
    assert (reply.inserted_count, reply.rejected_count) == (1203, 1)
    assert reply.rejected[0].index == 1203
    assert by_sku(client, "HELP-01202").unit_price_minor == 1202
    refused = client.import_products(iter([product("HELP-NEW"), product("")]), all_or_nothing=True)
    assert (refused.inserted_count, refused.rejected_count) == (0, 1)


def test_the_async_client_import_helper_takes_an_async_iterable(server: ServerProcess) -> None:
    async def rows() -> AsyncIterator[pb.Product]:
        for i in range(700):
            yield product(f"ASYNC-{i:04d}")

    async def run() -> pb.ImportProductsResponse:
        async with AsyncInventoryClient(server.target) as client:
            return await client.import_products(rows(), batch_size=300)

    reply = asyncio.run(run())
    assert (reply.inserted_count, reply.rejected_count) == (700, 0)
