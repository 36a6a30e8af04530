"""Page iterators: follow next_page_token lazily with the same request fields (no network)."""

from __future__ import annotations

import inspect
from typing import Any

import pytest

from inventory_client import AsyncInventoryClient, InventoryClient, _pages
from inventory_client.v1 import product_pb2, stock_pb2, transaction_pb2, user_pb2, warehouse_pb2

ITERATORS = {
    "iter_products": product_pb2.ListProductsRequest,
    "iter_warehouses": warehouse_pb2.ListWarehousesRequest,
    "iter_users": user_pb2.ListUsersRequest,
    "iter_stock_levels": stock_pb2.ListStockLevelsRequest,
    "iter_transactions": transaction_pb2.ListTransactionsRequest,
}


class FakeList:
    """A List method over ``items`` in pages of ``size``, recording every request and its kwargs."""

    def __init__(self, items: list[str], size: int) -> None:
        self.items = items
        self.size = size
        self.calls: list[tuple[product_pb2.ListProductsRequest, dict[str, Any]]] = []

    def __call__(self, request: product_pb2.ListProductsRequest, **kwargs: Any) -> Any:
        self.calls.append((request, kwargs))
        start = int(request.page_token or 0)
        end = start + self.size
        page = [product_pb2.Product(sku=sku) for sku in self.items[start:end]]
        token = str(end) if end < len(self.items) else ""
        return product_pb2.ListProductsResponse(products=page, next_page_token=token)


def test_items_follow_page_tokens_with_the_same_filter_and_order() -> None:
    fake = FakeList([f"S{i}" for i in range(7)], size=3)
    request = product_pb2.ListProductsRequest(filter='sku = "x"', order_by="sku", page_size=3)
    skus = [p.sku for p in _pages.items(fake, request, "products", timeout=None)]
    assert skus == [f"S{i}" for i in range(7)]
    assert [r.page_token for r, _ in fake.calls] == ["", "3", "6"]
    assert {(r.filter, r.order_by, r.page_size) for r, _ in fake.calls} == {('sku = "x"', "sku", 3)}
    assert request.page_token == ""  # the caller's request is never changed
    assert all(kwargs == {} for _, kwargs in fake.calls)  # no timeout given: the client's default applies


def test_pages_are_fetched_only_when_the_previous_one_is_used_up() -> None:
    fake = FakeList([f"S{i}" for i in range(10)], size=4)
    iterator = _pages.items(fake, product_pb2.ListProductsRequest(), "products", timeout=2.5)
    assert fake.calls == []
    assert [next(iterator).sku for _ in range(4)] == ["S0", "S1", "S2", "S3"]
    assert len(fake.calls) == 1
    next(iterator)
    assert len(fake.calls) == 2
    assert fake.calls[1][1] == {"timeout": 2.5}


def test_an_empty_listing_is_one_call_and_no_items() -> None:
    fake = FakeList([], size=5)
    assert list(_pages.items(fake, product_pb2.ListProductsRequest(), "products", timeout=None)) == []
    assert len(fake.calls) == 1


def test_a_server_repeating_its_page_token_does_not_loop_for_ever() -> None:
    def stuck(request: Any, **kwargs: Any) -> Any:
        return product_pb2.ListProductsResponse(products=[product_pb2.Product()], next_page_token="same")

    with pytest.raises(RuntimeError, match="same page token"):
        list(_pages.items(stuck, product_pb2.ListProductsRequest(), "products", timeout=None))


async def test_async_items_follow_page_tokens() -> None:
    fake = FakeList([f"A{i}" for i in range(5)], size=2)

    async def call(request: Any, **kwargs: Any) -> Any:
        return fake(request, **kwargs)

    request = product_pb2.ListProductsRequest(show_deleted=True)
    skus = [p.sku async for p in _pages.async_items(call, request, "products", timeout=1.0)]
    assert skus == [f"A{i}" for i in range(5)]
    assert [r.page_token for r, _ in fake.calls] == ["", "2", "4"]
    assert all(r.show_deleted for r, _ in fake.calls)
    assert all(kwargs == {"timeout": 1.0} for _, kwargs in fake.calls)


@pytest.mark.parametrize("client_class", [InventoryClient, AsyncInventoryClient])
@pytest.mark.parametrize(("name", "request_type"), ITERATORS.items())
def test_iterators_take_every_field_of_their_list_request(
    client_class: type[Any], name: str, request_type: type[Any]
) -> None:
    """A field added to a List request must be added to both clients' iterators (this fails until it is)."""
    parameters = inspect.signature(getattr(client_class, name)).parameters
    accepted = {p for p in parameters if p not in ("self", "timeout")}
    assert accepted == set(request_type.DESCRIPTOR.fields_by_name) - {"page_token"}
    assert all(parameters[p].kind is inspect.Parameter.KEYWORD_ONLY for p in accepted)


def test_sync_iterators_are_generators_and_async_ones_async_generators() -> None:
    client = InventoryClient("127.0.0.1:1")
    try:
        assert inspect.isgenerator(client.iter_products(filter="x"))
    finally:
        client.close()
    assert inspect.isasyncgen(
        _pages.async_items(FakeList([], 1), product_pb2.ListProductsRequest(), "x", None)
    )
