"""Page tokens end to end: sealed with the configured key, forged or foreign ones INVALID_ARGUMENT."""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import Any

import pytest

from inventory_client import InvalidArgumentError, InventoryClient
from inventory_client.v1 import product_pb2, stock_pb2, transaction_pb2, user_pb2, warehouse_pb2
from inventory_server.api.page_tokens import PageTokens

KEY = "e2e-page-token-key-0123456789abcdef"
OTHER_KEY = "another-replica-set-key-0123456789abcdef"


@pytest.fixture
def server_env() -> dict[str, str]:
    return {"INVENTORY_HEALTH_CHECK_INTERVAL": "0.5", "INVENTORY_PAGE_TOKEN_KEYS": KEY}


def _raw(payload: str) -> str:
    return base64.urlsafe_b64encode(payload.encode()).decode().rstrip("=")


def _listers(client: InventoryClient) -> dict[str, Callable[[str], Any]]:
    return {
        "ListProducts": lambda t: client.products.ListProducts(product_pb2.ListProductsRequest(page_token=t)),
        "ListWarehouses": lambda t: client.warehouses.ListWarehouses(
            warehouse_pb2.ListWarehousesRequest(page_token=t)
        ),
        "ListUsers": lambda t: client.users.ListUsers(user_pb2.ListUsersRequest(page_token=t)),
        "ListStockLevels": lambda t: client.stock.ListStockLevels(
            stock_pb2.ListStockLevelsRequest(page_token=t)
        ),
        "ListTransactions": lambda t: client.transactions.ListTransactions(
            transaction_pb2.ListTransactionsRequest(page_token=t)
        ),
        "ListReservations": lambda t: client.stock.ListReservations(
            stock_pb2.ListReservationsRequest(page_token=t)
        ),
    }


FORGED = {
    "deeply nested": _raw('{"f":"x","k":' + "[" * 1500 + "]" * 1500 + "}"),
    "lone surrogate": _raw('{"f":"x","k":["\\ud800","00000000-0000-0000-0000-000000000000"]}'),
    "not base64": "!!!",
    "sealed nested": PageTokens([KEY]).seal(_raw('{"f":"x","k":' + "[" * 1500 + "]" * 1500 + "}")),
    "sealed surrogate": PageTokens([KEY]).seal(_raw('{"f":"x","k":["\\ud800"]}')),
}


def test_forged_page_tokens_are_invalid_arguments_in_every_list_method(client: InventoryClient) -> None:
    for name, call in _listers(client).items():
        for kind, token in FORGED.items():
            with pytest.raises(InvalidArgumentError) as caught:
                call(token)
            assert [v.field for v in caught.value.field_violations] == ["page_token"], (name, kind)


def test_paging_works_and_a_token_sealed_with_another_key_is_refused(client: InventoryClient) -> None:
    for number in range(3):
        client.products.CreateProduct(
            product_pb2.CreateProductRequest(product=product_pb2.Product(sku=f"TOK-{number}", name="Tok"))
        )
    first = client.products.ListProducts(product_pb2.ListProductsRequest(page_size=2))
    assert first.next_page_token
    second = client.products.ListProducts(
        product_pb2.ListProductsRequest(page_size=2, page_token=first.next_page_token)
    )
    assert [p.sku for p in [*first.products, *second.products]] == ["TOK-0", "TOK-1", "TOK-2"]
    cursor = first.next_page_token.rpartition(".")[0]
    assert cursor, "the token is a sealed cursor"
    for foreign in (cursor, PageTokens([OTHER_KEY]).seal(cursor)):
        with pytest.raises(InvalidArgumentError) as caught:
            client.products.ListProducts(product_pb2.ListProductsRequest(page_size=2, page_token=foreign))
        assert [v.field for v in caught.value.field_violations] == ["page_token"]
