"""A soft-deleted product, warehouse or user cannot be changed: FAILED_PRECONDITION, reason DELETED.

One rule for the three (issue 9, finding 11): Get still returns a deleted
resource, so NOT_FOUND would contradict it; the state forbids the change.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

import pytest
from google.protobuf.field_mask_pb2 import FieldMask

from inventory_client import FailedPreconditionError, InventoryClient
from inventory_client.v1 import product_pb2, user_pb2, warehouse_pb2


def _refused(update: Callable[[], Any]) -> FailedPreconditionError:
    with pytest.raises(FailedPreconditionError) as caught:
        update()
    assert caught.value.reason == "DELETED"
    return caught.value


def test_a_deleted_product_cannot_be_updated_until_undeleted(client: InventoryClient) -> None:
    products = client.products
    created = products.CreateProduct(
        product_pb2.CreateProductRequest(product=product_pb2.Product(sku="DEL-1", name="Before"))
    ).product
    deleted = products.DeleteProduct(product_pb2.DeleteProductRequest(id=created.id)).product

    def rename(etag: str = "") -> product_pb2.Product:
        request = product_pb2.UpdateProductRequest(
            product=product_pb2.Product(id=created.id, name="After", etag=etag),
            update_mask=FieldMask(paths=["name"]),
        )
        return products.UpdateProduct(request).product

    _refused(rename)
    _refused(lambda: rename(deleted.etag))
    after = products.GetProduct(product_pb2.GetProductRequest(id=created.id)).product
    assert (after.name, after.etag) == ("Before", deleted.etag)
    products.UndeleteProduct(product_pb2.UndeleteProductRequest(id=created.id))
    assert rename().name == "After"


def test_a_deleted_warehouse_cannot_be_updated(client: InventoryClient) -> None:
    warehouses = client.warehouses
    created = warehouses.CreateWarehouse(
        warehouse_pb2.CreateWarehouseRequest(warehouse=warehouse_pb2.Warehouse(code="DEL-W", name="W"))
    ).warehouse
    warehouses.DeleteWarehouse(warehouse_pb2.DeleteWarehouseRequest(id=created.id))
    _refused(
        lambda: warehouses.UpdateWarehouse(
            warehouse_pb2.UpdateWarehouseRequest(
                warehouse=warehouse_pb2.Warehouse(id=created.id, name="Renamed"),
                update_mask=FieldMask(paths=["name"]),
            )
        )
    )


def test_a_deleted_user_cannot_be_updated_nor_get_a_new_password(client: InventoryClient) -> None:
    users = client.users
    created = users.CreateUser(
        user_pb2.CreateUserRequest(
            user=user_pb2.User(email="gone@example.com", display_name="Gone", role=user_pb2.ROLE_CLERK),
            password="correct-horse-battery",
        )
    ).user
    users.DeleteUser(user_pb2.DeleteUserRequest(id=created.id))
    for paths, password in ((["display_name"], ""), (["password"], "another-long-password")):
        request = user_pb2.UpdateUserRequest(
            user=user_pb2.User(id=created.id, display_name="Back"),
            update_mask=FieldMask(paths=paths),
            password=password,
        )
        _refused(partial(users.UpdateUser, request))
