"""WarehouseService end to end: real server, real PostgreSQL, the client package."""

from __future__ import annotations

import uuid

import psycopg
import pytest
from google.protobuf.field_mask_pb2 import FieldMask

from inventory_client import (
    AbortedError,
    AlreadyExistsError,
    FailedPreconditionError,
    InvalidArgumentError,
    InventoryClient,
    NotFoundError,
)
from inventory_client.v1 import warehouse_pb2 as pb


def create(client: InventoryClient, code: str, name: str = "Main", address: str = "") -> pb.Warehouse:
    request = pb.CreateWarehouseRequest(warehouse=pb.Warehouse(code=code, name=name, address=address))
    return client.warehouses.CreateWarehouse(request).warehouse


def hold_stock(dsn: str, warehouse_id: str, on_hand: int, reserved: int = 0) -> None:
    """Put stock into the warehouse directly in the database (a product and its level row)."""
    product_id = uuid.uuid4()
    with psycopg.connect(dsn) as conn:
        conn.execute(
            "INSERT INTO products (id, sku, name) VALUES (%s, %s, 'Bolt')", [product_id, product_id.hex]
        )
        conn.execute(
            "INSERT INTO stock_levels (product_id, warehouse_id, on_hand, reserved) VALUES (%s, %s, %s, %s)",
            [product_id, warehouse_id, on_hand, reserved],
        )


def test_create_then_get_returns_the_same_warehouse(client: InventoryClient) -> None:
    created = create(client, "BER-1", "Berlin", "Hauptstr. 1")
    assert uuid.UUID(created.id)
    assert (created.code, created.name, created.address, created.etag) == (
        "BER-1",
        "Berlin",
        "Hauptstr. 1",
        'W/"1"',
    )
    assert created.create_time.seconds > 0
    assert not created.HasField("delete_time")
    assert client.warehouses.GetWarehouse(pb.GetWarehouseRequest(id=created.id)).warehouse == created


def test_duplicate_code_is_already_exists_case_insensitively(client: InventoryClient) -> None:
    create(client, "ber-1")
    with pytest.raises(AlreadyExistsError) as caught:
        create(client, "BER-1")
    assert caught.value.metadata == {"resource": "warehouse", "field": "code"}
    assert "BER-1" in caught.value.message


def test_invalid_warehouse_names_every_bad_field(client: InventoryClient) -> None:
    with pytest.raises(InvalidArgumentError) as caught:
        create(client, "no spaces allowed", name="", address="x" * 1001)
    fields = {v.field for v in caught.value.field_violations}
    assert fields == {"warehouse.code", "warehouse.name", "warehouse.address"}


def test_unknown_id_is_not_found_and_malformed_id_is_invalid_argument(client: InventoryClient) -> None:
    missing = str(uuid.uuid4())
    with pytest.raises(NotFoundError) as caught:
        client.warehouses.GetWarehouse(pb.GetWarehouseRequest(id=missing))
    assert caught.value.metadata["key"] == missing
    with pytest.raises(InvalidArgumentError) as malformed:
        client.warehouses.GetWarehouse(pb.GetWarehouseRequest(id="not-a-uuid"))
    assert malformed.value.field_violations[0].field == "id"
    with pytest.raises(NotFoundError):
        client.warehouses.DeleteWarehouse(pb.DeleteWarehouseRequest(id=missing))


def test_create_with_the_same_request_id_returns_the_first_result(client: InventoryClient) -> None:
    request = pb.CreateWarehouseRequest(
        warehouse=pb.Warehouse(code="IDEM-1", name="Once"), request_id="wh-req-1"
    )
    first = client.warehouses.CreateWarehouse(request).warehouse
    second = client.warehouses.CreateWarehouse(request).warehouse
    assert second == first
    listed = client.warehouses.ListWarehouses(pb.ListWarehousesRequest(filter='code = "IDEM-1"'))
    assert [w.id for w in listed.warehouses] == [first.id]
    other = pb.CreateWarehouseRequest(
        warehouse=pb.Warehouse(code="IDEM-2", name="Other"), request_id="wh-req-1"
    )
    with pytest.raises(InvalidArgumentError) as caught:
        client.warehouses.CreateWarehouse(other)
    assert caught.value.field_violations[0].field == "request_id"


def test_list_pages_through_everything_with_keyset_tokens(client: InventoryClient) -> None:
    ids = {create(client, f"PAGE-{n:02d}").id for n in range(7)}
    seen: list[str] = []
    token, pages = "", 0
    while True:
        reply = client.warehouses.ListWarehouses(
            pb.ListWarehousesRequest(page_size=3, page_token=token, order_by="code desc")
        )
        seen += [w.code for w in reply.warehouses]
        pages += 1
        token = reply.next_page_token
        if not token:
            break
    assert pages == 3
    assert seen == [f"PAGE-{n:02d}" for n in reversed(range(7))]
    everything = client.warehouses.ListWarehouses(pb.ListWarehousesRequest()).warehouses
    assert {w.id for w in everything} == ids


def test_list_filters_and_refuses_what_is_not_on_the_allow_list(client: InventoryClient) -> None:
    create(client, "F-1", "North hub")
    create(client, "F-2", "South hub")
    reply = client.warehouses.ListWarehouses(pb.ListWarehousesRequest(filter='name:"north"'))
    assert [w.code for w in reply.warehouses] == ["F-1"]
    for bad in (
        pb.ListWarehousesRequest(filter='address = "x"'),
        pb.ListWarehousesRequest(order_by="address"),
        pb.ListWarehousesRequest(page_size=-1),
        pb.ListWarehousesRequest(page_token="garbage"),
    ):
        with pytest.raises(InvalidArgumentError):
            client.warehouses.ListWarehouses(bad)


def test_update_with_mask_changes_only_named_fields(client: InventoryClient) -> None:
    warehouse = create(client, "UPD-1", "Old name", "Old street")
    change = pb.Warehouse(id=warehouse.id, name="New name", address="ignored", etag=warehouse.etag)
    updated = client.warehouses.UpdateWarehouse(
        pb.UpdateWarehouseRequest(warehouse=change, update_mask=FieldMask(paths=["name"]))
    ).warehouse
    assert (updated.name, updated.address, updated.code) == ("New name", "Old street", "UPD-1")
    assert updated.etag != warehouse.etag


def test_update_with_a_stale_etag_is_aborted(client: InventoryClient) -> None:
    warehouse = create(client, "ETAG-1")
    mask = FieldMask(paths=["address"])
    first = pb.Warehouse(id=warehouse.id, address="first", etag=warehouse.etag)
    client.warehouses.UpdateWarehouse(pb.UpdateWarehouseRequest(warehouse=first, update_mask=mask))
    second = pb.Warehouse(id=warehouse.id, address="second", etag=warehouse.etag)
    with pytest.raises(AbortedError) as caught:
        client.warehouses.UpdateWarehouse(pb.UpdateWarehouseRequest(warehouse=second, update_mask=mask))
    assert caught.value.reason == "ETAG_MISMATCH"
    with pytest.raises(AbortedError):
        client.warehouses.DeleteWarehouse(pb.DeleteWarehouseRequest(id=warehouse.id, etag=warehouse.etag))


@pytest.mark.parametrize("path", ["code", "id", "create_time", "delete_time", "etag"])
def test_update_of_immutable_or_output_only_fields_is_invalid_argument(
    client: InventoryClient, path: str
) -> None:
    warehouse = create(client, "IMM-1")
    with pytest.raises(InvalidArgumentError) as caught:
        client.warehouses.UpdateWarehouse(
            pb.UpdateWarehouseRequest(
                warehouse=pb.Warehouse(id=warehouse.id, code="NEW"), update_mask=FieldMask(paths=[path])
            )
        )
    assert caught.value.field_violations[0].field == "update_mask"
    assert client.warehouses.GetWarehouse(pb.GetWarehouseRequest(id=warehouse.id)).warehouse == warehouse


def test_delete_hides_from_list_unless_show_deleted(client: InventoryClient) -> None:
    warehouse = create(client, "DEL-1")
    deleted = client.warehouses.DeleteWarehouse(
        pb.DeleteWarehouseRequest(id=warehouse.id, etag=warehouse.etag)
    ).warehouse
    assert deleted.HasField("delete_time")
    assert (
        client.warehouses.ListWarehouses(pb.ListWarehousesRequest(filter='code = "DEL-1"')).warehouses == []
    )
    shown = client.warehouses.ListWarehouses(
        pb.ListWarehousesRequest(filter='code = "DEL-1"', show_deleted=True)
    )
    assert [w.id for w in shown.warehouses] == [warehouse.id]
    assert client.warehouses.GetWarehouse(pb.GetWarehouseRequest(id=warehouse.id)).warehouse == deleted


def test_deleting_a_warehouse_that_holds_stock_is_a_failed_precondition(
    client: InventoryClient, migrated_dsn: str
) -> None:
    stocked = create(client, "STOCK-1")
    reserved = create(client, "STOCK-2")
    emptied = create(client, "STOCK-3")
    hold_stock(migrated_dsn, stocked.id, 5)
    hold_stock(migrated_dsn, reserved.id, 2, reserved=2)
    hold_stock(migrated_dsn, emptied.id, 0)
    for warehouse in (stocked, reserved):
        with pytest.raises(FailedPreconditionError) as caught:
            client.warehouses.DeleteWarehouse(pb.DeleteWarehouseRequest(id=warehouse.id))
        [violation] = caught.value.precondition_violations
        assert (violation.type, violation.subject) == ("STOCK", f"warehouses/{warehouse.id}")
        assert violation.description
        current = client.warehouses.GetWarehouse(pb.GetWarehouseRequest(id=warehouse.id)).warehouse
        assert not current.HasField("delete_time")
    gone = client.warehouses.DeleteWarehouse(pb.DeleteWarehouseRequest(id=emptied.id)).warehouse
    assert gone.HasField("delete_time")
