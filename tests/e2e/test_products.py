"""ProductService end to end: real server, real PostgreSQL, the client package."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from google.protobuf.field_mask_pb2 import FieldMask

from inventory_client import (
    AbortedError,
    AlreadyExistsError,
    InvalidArgumentError,
    InventoryClient,
    NotFoundError,
)
from inventory_client.v1 import product_pb2 as pb


def create(client: InventoryClient, sku: str, name: str = "Widget", **fields: Any) -> pb.Product:
    reply = client.products.CreateProduct(
        pb.CreateProductRequest(product=pb.Product(sku=sku, name=name, **fields))
    )
    return reply.product


def test_create_then_get_returns_the_same_product(client: InventoryClient) -> None:
    created = create(
        client, "SKU-1", "Blue widget", unit_price_minor=1999, currency_code="EUR", attributes={"c": "b"}
    )
    assert uuid.UUID(created.id)
    assert created.etag
    assert created.create_time.seconds > 0
    fetched = client.products.GetProduct(pb.GetProductRequest(id=created.id)).product
    assert fetched == created
    assert fetched.attributes["c"] == "b"


def test_duplicate_sku_is_already_exists_case_insensitively(client: InventoryClient) -> None:
    create(client, "dup-1")
    with pytest.raises(AlreadyExistsError) as info:
        create(client, "DUP-1")
    assert "sku" in info.value.message


def test_unknown_id_is_not_found_and_malformed_id_is_invalid_argument(client: InventoryClient) -> None:
    with pytest.raises(NotFoundError):
        client.products.GetProduct(pb.GetProductRequest(id=str(uuid.uuid4())))
    with pytest.raises(InvalidArgumentError) as info:
        client.products.GetProduct(pb.GetProductRequest(id="not-a-uuid"))
    assert info.value.field_violations[0].field == "id"


def test_invalid_product_names_every_bad_field(client: InventoryClient) -> None:
    with pytest.raises(InvalidArgumentError) as info:
        create(client, "", name="", currency_code="euro", unit_price_minor=-1)
    fields = {v.field for v in info.value.field_violations}
    assert {"product.sku", "product.name", "product.currency_code", "product.unit_price_minor"} <= fields


def test_create_with_same_request_id_returns_first_result(client: InventoryClient) -> None:
    request = pb.CreateProductRequest(product=pb.Product(sku="IDEM-1", name="Once"), request_id="req-42")
    first = client.products.CreateProduct(request).product
    second = client.products.CreateProduct(request).product
    assert first.id == second.id


def test_list_pages_through_everything_with_keyset_tokens(client: InventoryClient) -> None:
    ids = {create(client, f"PAGE-{i:02d}").id for i in range(7)}
    seen: list[str] = []
    token = ""
    pages = 0
    while True:
        reply = client.products.ListProducts(
            pb.ListProductsRequest(page_size=3, page_token=token, order_by="sku")
        )
        seen += [p.id for p in reply.products]
        pages += 1
        token = reply.next_page_token
        if not token:
            break
    assert pages == 3
    assert len(seen) == len(set(seen)) == 7
    assert set(seen) == ids


def test_list_filter_and_bad_filter(client: InventoryClient) -> None:
    create(client, "F-CHEAP", unit_price_minor=100)
    create(client, "F-DEAR", unit_price_minor=10_000)
    reply = client.products.ListProducts(pb.ListProductsRequest(filter="unit_price_minor > 1000"))
    assert [p.sku for p in reply.products] == ["F-DEAR"]
    with pytest.raises(InvalidArgumentError):
        client.products.ListProducts(pb.ListProductsRequest(filter="password_hash = 'x'"))
    with pytest.raises(InvalidArgumentError):
        client.products.ListProducts(pb.ListProductsRequest(page_size=-1))


def test_update_with_mask_changes_only_named_fields(client: InventoryClient) -> None:
    product = create(client, "UPD-1", "Old name", description="keep me")
    change = pb.Product(id=product.id, name="New name", description="ignored", etag=product.etag)
    updated = client.products.UpdateProduct(
        pb.UpdateProductRequest(product=change, update_mask=FieldMask(paths=["name"]))
    ).product
    assert updated.name == "New name"
    assert updated.description == "keep me"
    assert updated.etag != product.etag


def test_update_with_stale_etag_is_aborted(client: InventoryClient) -> None:
    product = create(client, "ETAG-1")
    mask = FieldMask(paths=["name"])
    client.products.UpdateProduct(
        pb.UpdateProductRequest(
            product=pb.Product(id=product.id, name="first", etag=product.etag), update_mask=mask
        )
    )
    with pytest.raises(AbortedError):
        client.products.UpdateProduct(
            pb.UpdateProductRequest(
                product=pb.Product(id=product.id, name="second", etag=product.etag), update_mask=mask
            )
        )


def test_update_of_immutable_field_is_invalid_argument(client: InventoryClient) -> None:
    product = create(client, "IMM-1")
    with pytest.raises(InvalidArgumentError):
        client.products.UpdateProduct(
            pb.UpdateProductRequest(
                product=pb.Product(id=product.id, sku="NEW"), update_mask=FieldMask(paths=["sku"])
            )
        )


def test_delete_hides_from_list_and_undelete_restores(client: InventoryClient) -> None:
    product = create(client, "DEL-1")
    deleted = client.products.DeleteProduct(pb.DeleteProductRequest(id=product.id)).product
    assert deleted.HasField("delete_time")
    listed = client.products.ListProducts(pb.ListProductsRequest(filter='sku = "DEL-1"')).products
    assert listed == []
    with_deleted = client.products.ListProducts(
        pb.ListProductsRequest(filter='sku = "DEL-1"', show_deleted=True)
    )
    assert [p.id for p in with_deleted.products] == [product.id]
    restored = client.products.UndeleteProduct(pb.UndeleteProductRequest(id=product.id)).product
    assert not restored.HasField("delete_time")


def test_batch_get_returns_request_order_and_fails_on_unknown(client: InventoryClient) -> None:
    a, b = create(client, "BG-A"), create(client, "BG-B")
    reply = client.products.BatchGetProducts(pb.BatchGetProductsRequest(ids=[b.id, a.id]))
    assert [p.id for p in reply.products] == [b.id, a.id]
    with pytest.raises(NotFoundError):
        client.products.BatchGetProducts(pb.BatchGetProductsRequest(ids=[a.id, str(uuid.uuid4())]))


def test_batch_create_is_atomic_and_names_the_failing_index(client: InventoryClient) -> None:
    create(client, "BC-TAKEN")
    requests = [
        pb.CreateProductRequest(product=pb.Product(sku=s, name="x")) for s in ("BC-1", "BC-TAKEN", "BC-3")
    ]
    with pytest.raises(AlreadyExistsError) as info:
        client.products.BatchCreateProducts(pb.BatchCreateProductsRequest(requests=requests))
    assert info.value.metadata.get("index") == "1"
    listed = client.products.ListProducts(pb.ListProductsRequest(filter='sku = "BC-1"')).products
    assert listed == []
