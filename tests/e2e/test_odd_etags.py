"""Odd etags are INVALID_ARGUMENT naming the etag field in all seven methods that take one (finding 5)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import pytest
from google.protobuf.field_mask_pb2 import FieldMask

from inventory_client import InvalidArgumentError, InventoryClient
from inventory_client.v1 import product_pb2, user_pb2, warehouse_pb2

ODD_ETAGS = ['W/"²"', 'W/"' + "9" * 4301 + '"', 'W/"' + "9" * 19 + '"', 'W/"٣"']


def _methods(client: InventoryClient) -> dict[str, tuple[str, Callable[[str], Any]]]:
    id = str(uuid.uuid4())
    name = FieldMask(paths=["name"])
    return {
        "UpdateProduct": (
            "product.etag",
            lambda e: client.products.UpdateProduct(
                product_pb2.UpdateProductRequest(
                    product=product_pb2.Product(id=id, name="x", etag=e), update_mask=name
                )
            ),
        ),
        "DeleteProduct": (
            "etag",
            lambda e: client.products.DeleteProduct(product_pb2.DeleteProductRequest(id=id, etag=e)),
        ),
        "UndeleteProduct": (
            "etag",
            lambda e: client.products.UndeleteProduct(product_pb2.UndeleteProductRequest(id=id, etag=e)),
        ),
        "UpdateWarehouse": (
            "warehouse.etag",
            lambda e: client.warehouses.UpdateWarehouse(
                warehouse_pb2.UpdateWarehouseRequest(
                    warehouse=warehouse_pb2.Warehouse(id=id, name="x", etag=e), update_mask=name
                )
            ),
        ),
        "DeleteWarehouse": (
            "etag",
            lambda e: client.warehouses.DeleteWarehouse(warehouse_pb2.DeleteWarehouseRequest(id=id, etag=e)),
        ),
        "UpdateUser": (
            "user.etag",
            lambda e: client.users.UpdateUser(
                user_pb2.UpdateUserRequest(
                    user=user_pb2.User(id=id, display_name="x", etag=e),
                    update_mask=FieldMask(paths=["display_name"]),
                )
            ),
        ),
        "DeleteUser": (
            "etag",
            lambda e: client.users.DeleteUser(user_pb2.DeleteUserRequest(id=id, etag=e)),
        ),
    }


def test_odd_etags_are_invalid_arguments_in_every_method_that_takes_one(client: InventoryClient) -> None:
    methods = _methods(client)
    assert len(methods) == 7
    for method, (field, call) in methods.items():
        for etag in ODD_ETAGS:
            with pytest.raises(InvalidArgumentError) as caught:
                call(etag)
            assert [v.field for v in caught.value.field_violations] == [field], (method, etag[:10])
