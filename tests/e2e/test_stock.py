"""StockService end to end: every RPC's happy path and every error it answers, through the client."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from inventory_client import (
    FailedPreconditionError,
    InvalidArgumentError,
    InventoryClient,
    NotFoundError,
)
from inventory_client.v1 import stock_pb2 as pb
from inventory_client.v1 import transaction_pb2 as tx

from .stock_helpers import (
    World,
    create_product,
    insert_user,
    insert_warehouse,
    ledger_rows,
    make_world,
    raw_stock,
)


@pytest.fixture
def world(client: InventoryClient, migrated_dsn: str) -> World:
    return make_world(client, migrated_dsn)


def fields_of(error: InvalidArgumentError) -> set[str]:
    return {v.field for v in error.field_violations}


# ReceiveStock -------------------------------------------------------------------
def test_receive_writes_a_receipt_and_returns_the_new_level(world: World) -> None:
    reply = world.receive(12, reference="PO-1", request_id="receive-1")
    row, level = reply.transaction, reply.stock_level
    assert row.type == tx.TRANSACTION_TYPE_RECEIPT
    assert (row.product_id, row.to_warehouse_id, row.from_warehouse_id) == (
        world.product,
        world.warehouse,
        "",
    )
    assert (row.quantity, row.reference, row.performed_by, row.request_id, row.caller) == (
        12,
        "PO-1",
        world.user,
        "receive-1",
        "",
    )
    assert (level.on_hand, level.reserved, level.available) == (12, 0, 12)
    assert world.receive(3).stock_level.on_hand == 15
    assert (
        world.level()
        == world.client.stock.GetStockLevel(
            pb.GetStockLevelRequest(product_id=world.product, warehouse_id=world.warehouse)
        ).stock_level
    )
    assert world.level().on_hand == 15
    fetched = world.client.transactions.GetTransaction(tx.GetTransactionRequest(id=row.id)).transaction
    assert fetched == row


def test_receive_reports_every_bad_field_at_once(world: World) -> None:
    with pytest.raises(InvalidArgumentError) as caught:
        world.receive(0, product_id="nope", performed_by="", reference="r" * 201)
    assert fields_of(caught.value) == {"product_id", "quantity", "performed_by", "reference"}
    with pytest.raises(InvalidArgumentError) as negative:
        world.receive(-5)
    assert fields_of(negative.value) == {"quantity"}
    assert ledger_rows(world.dsn) == 0


def test_request_id_is_required_and_at_most_128_characters(world: World) -> None:
    request = pb.ReceiveStockRequest(
        product_id=world.product, warehouse_id=world.warehouse, quantity=1, performed_by=world.user
    )
    with pytest.raises(InvalidArgumentError) as missing:
        raw_stock(world.client, "ReceiveStock", request)
    assert fields_of(missing.value) == {"request_id"}
    request.request_id = "x" * 129
    with pytest.raises(InvalidArgumentError) as too_long:
        raw_stock(world.client, "ReceiveStock", request)
    assert fields_of(too_long.value) == {"request_id"}
    request.request_id = "x" * 128
    assert raw_stock(world.client, "ReceiveStock", request).stock_level.on_hand == 1


def test_unknown_or_deleted_product_warehouse_and_user_are_not_found(world: World) -> None:
    deleted_warehouse = insert_warehouse(world.dsn, deleted=True)
    deleted_user = insert_user(world.dsn, deleted=True)
    cases = [
        ({"product_id": str(uuid.uuid4())}, "product"),
        ({"warehouse": str(uuid.uuid4())}, "warehouse"),
        ({"warehouse": deleted_warehouse}, "warehouse"),
        ({"performed_by": str(uuid.uuid4())}, "user"),
        ({"performed_by": deleted_user}, "user"),
    ]
    for fields, resource in cases:
        with pytest.raises(NotFoundError) as caught:
            world.receive(1, **fields)
        assert caught.value.metadata["resource"] == resource
    assert ledger_rows(world.dsn) == 0


def test_a_retried_request_returns_the_original_result_and_writes_nothing(world: World) -> None:
    first = world.receive(5, request_id="retry-me")
    world.receive(7)  # the level moves on
    again = world.receive(5, request_id="retry-me")
    assert again == first
    assert again.stock_level.on_hand == 5
    assert ledger_rows(world.dsn, "request_id = %s", ("retry-me",)) == 1
    assert world.level().on_hand == 12


def test_the_same_request_id_with_other_content_is_invalid(world: World) -> None:
    world.receive(5, request_id="used-once")
    with pytest.raises(InvalidArgumentError) as caught:
        world.receive(6, request_id="used-once")
    assert fields_of(caught.value) == {"request_id"}
    assert world.level().on_hand == 5


def test_request_ids_are_scoped_per_method(world: World) -> None:
    world.receive(5, request_id="shared")
    assert world.ship(2, request_id="shared").stock_level.on_hand == 3


# ShipStock --------------------------------------------------------------------------
def test_ship_books_goods_out_and_refuses_more_than_available(world: World) -> None:
    world.receive(10)
    world.reserve(4)
    reply = world.ship(5, reference="SO-9")
    assert reply.transaction.type == tx.TRANSACTION_TYPE_SHIPMENT
    assert (reply.transaction.from_warehouse_id, reply.transaction.to_warehouse_id) == (world.warehouse, "")
    assert (reply.stock_level.on_hand, reply.stock_level.reserved, reply.stock_level.available) == (5, 4, 1)
    rows_before = ledger_rows(world.dsn)
    with pytest.raises(FailedPreconditionError) as caught:
        world.ship(2)
    error = caught.value
    assert error.reason == "INSUFFICIENT_STOCK"
    assert error.metadata["available"] == "1"
    [violation] = error.precondition_violations
    assert violation.type == "STOCK"
    assert violation.subject == f"products/{world.product}/warehouses/{world.warehouse}"
    assert "1 available" in violation.description
    assert ledger_rows(world.dsn) == rows_before
    assert world.level().on_hand == 5


def test_ship_from_a_pair_never_stocked_has_zero_available(world: World) -> None:
    with pytest.raises(FailedPreconditionError) as caught:
        world.ship(1, warehouse=world.warehouses[2])
    assert caught.value.metadata["available"] == "0"


def test_ship_against_a_reservation_consumes_it(world: World) -> None:
    world.receive(10)
    reservation = world.reserve(6, reference="order-1").transaction.id
    shipped = world.ship(4, reservation_id=reservation)
    assert shipped.transaction.reservation_id == reservation
    assert (shipped.stock_level.on_hand, shipped.stock_level.reserved) == (6, 2)
    with pytest.raises(FailedPreconditionError) as too_much:
        world.ship(3, reservation_id=reservation)
    assert too_much.value.reason == "INSUFFICIENT_RESERVATION"
    assert too_much.value.metadata["remaining"] == "2"
    assert too_much.value.precondition_violations[0].subject == f"reservations/{reservation}"
    assert world.ship(2, reservation_id=reservation).stock_level.reserved == 0


def test_ship_against_a_reservation_elsewhere_unknown_or_malformed_is_refused(world: World) -> None:
    world.receive(5, warehouse=world.warehouses[1])
    elsewhere = world.reserve(2, warehouse=world.warehouses[1]).transaction.id
    world.receive(5)
    with pytest.raises(InvalidArgumentError) as wrong_place:
        world.ship(1, reservation_id=elsewhere)
    assert fields_of(wrong_place.value) == {"reservation_id"}
    receipt = world.receive(1).transaction.id
    for not_a_reservation in (str(uuid.uuid4()), receipt):
        with pytest.raises(NotFoundError) as unknown:
            world.ship(1, reservation_id=not_a_reservation)
        assert unknown.value.metadata["resource"] == "reservation"
    with pytest.raises(InvalidArgumentError) as malformed:
        world.ship(1, reservation_id="res-1")
    assert fields_of(malformed.value) == {"reservation_id"}


# TransferStock ------------------------------------------------------------------------
def test_transfer_moves_units_atomically_in_one_ledger_row(world: World) -> None:
    source, destination, _ = world.warehouses
    world.receive(10, warehouse=source)
    reply = world.transfer(4, source, destination, reference="rebalance")
    row = reply.transaction
    assert row.type == tx.TRANSACTION_TYPE_TRANSFER
    assert (row.from_warehouse_id, row.to_warehouse_id, row.quantity) == (source, destination, 4)
    assert (reply.from_stock_level.on_hand, reply.to_stock_level.on_hand) == (6, 4)
    assert (reply.from_stock_level.warehouse_id, reply.to_stock_level.warehouse_id) == (source, destination)
    assert world.level(source).on_hand + world.level(destination).on_hand == 10
    assert ledger_rows(world.dsn, "type = 'transfer'") == 1


def test_transfer_refuses_reserved_units_the_same_warehouse_and_unknown_warehouses(world: World) -> None:
    source, destination, _ = world.warehouses
    world.receive(5, warehouse=source)
    world.reserve(3, warehouse=source)
    with pytest.raises(FailedPreconditionError) as short:
        world.transfer(3, source, destination)
    assert short.value.reason == "INSUFFICIENT_STOCK"
    assert short.value.metadata["available"] == "2"
    assert short.value.precondition_violations[0].subject.endswith(f"/warehouses/{source}")
    with pytest.raises(InvalidArgumentError) as same:
        world.transfer(1, source, source)
    assert fields_of(same.value) == {"to_warehouse_id"}
    with pytest.raises(NotFoundError) as unknown:
        world.transfer(1, source, str(uuid.uuid4()))
    assert "to_warehouse_id" in unknown.value.message
    assert (world.level(source).on_hand, world.level(destination).on_hand) == (5, 0)
    assert world.level(destination).update_time.seconds == 0  # the failed transfer left no level behind


# AdjustStock ----------------------------------------------------------------------------
def test_adjust_to_a_count_or_by_a_delta_records_the_direction(world: World) -> None:
    up = world.adjust(counted_quantity=8, reason="first count")
    assert (up.transaction.type, up.transaction.to_warehouse_id, up.transaction.quantity) == (
        tx.TRANSACTION_TYPE_ADJUSTMENT,
        world.warehouse,
        8,
    )
    assert up.transaction.reason == "first count"
    down = world.adjust(counted_quantity=5)
    assert (down.transaction.from_warehouse_id, down.transaction.to_warehouse_id) == (world.warehouse, "")
    assert (down.transaction.quantity, down.stock_level.on_hand) == (3, 5)
    assert world.adjust(delta=4).stock_level.on_hand == 9
    lost = world.adjust(delta=-2)
    assert (lost.transaction.from_warehouse_id, lost.transaction.quantity, lost.stock_level.on_hand) == (
        world.warehouse,
        2,
        7,
    )


def test_a_count_that_matches_changes_nothing(world: World) -> None:
    world.receive(6)
    rows_before = ledger_rows(world.dsn)
    reply = world.adjust(counted_quantity=6)
    assert not reply.HasField("transaction")
    assert reply.stock_level.on_hand == 6
    assert ledger_rows(world.dsn) == rows_before


def test_adjust_cannot_go_below_reserved(world: World) -> None:
    world.receive(10)
    world.reserve(7)
    with pytest.raises(FailedPreconditionError) as counted:
        world.adjust(counted_quantity=6)
    assert counted.value.reason == "INSUFFICIENT_STOCK"
    assert counted.value.metadata["available"] == "3"
    with pytest.raises(FailedPreconditionError):
        world.adjust(delta=-4)
    assert world.adjust(delta=-3).stock_level.on_hand == 7


def test_adjust_validates_the_oneof_the_delta_and_the_reason(world: World) -> None:
    cases = [
        ({}, {"adjustment"}),
        ({"delta": 0}, {"delta"}),
        ({"counted_quantity": -1}, {"counted_quantity"}),
        ({"delta": 2, "reason": "  "}, {"reason"}),
    ]
    for fields, expected in cases:
        with pytest.raises(InvalidArgumentError) as caught:
            world.adjust(**fields)  # type: ignore[arg-type]
        assert fields_of(caught.value) == expected


# ReserveStock / ReleaseReservation --------------------------------------------------------
def test_reserve_sets_units_aside_and_refuses_more_than_available(world: World) -> None:
    world.receive(5)
    reply = world.reserve(3, reference="order-7")
    assert reply.transaction.type == tx.TRANSACTION_TYPE_RESERVATION
    assert reply.transaction.from_warehouse_id == world.warehouse
    assert (reply.stock_level.reserved, reply.stock_level.available) == (3, 2)
    with pytest.raises(FailedPreconditionError) as caught:
        world.reserve(3)
    assert (caught.value.reason, caught.value.metadata["available"]) == ("INSUFFICIENT_STOCK", "2")
    with pytest.raises(InvalidArgumentError):
        world.reserve(0)


def test_release_gives_back_part_or_all_of_what_remains(world: World) -> None:
    world.receive(10)
    reservation = world.reserve(6).transaction.id
    part = world.release(reservation, 2)
    assert part.transaction.type == tx.TRANSACTION_TYPE_RELEASE
    assert (part.transaction.reservation_id, part.transaction.from_warehouse_id) == (
        reservation,
        world.warehouse,
    )
    assert part.stock_level.reserved == 4
    world.ship(1, reservation_id=reservation)
    with pytest.raises(FailedPreconditionError) as too_much:
        world.release(reservation, 4)
    assert (too_much.value.reason, too_much.value.metadata["remaining"]) == ("INSUFFICIENT_RESERVATION", "3")
    rest = world.release(reservation)
    assert (rest.transaction.quantity, rest.stock_level.reserved, rest.stock_level.on_hand) == (3, 0, 9)
    with pytest.raises(FailedPreconditionError) as nothing_left:
        world.release(reservation)
    assert nothing_left.value.reason == "RESERVATION_CONSUMED"


def test_release_of_unknown_or_malformed_reservations(world: World) -> None:
    receipt = world.receive(1).transaction.id
    for unknown in (str(uuid.uuid4()), receipt):
        with pytest.raises(NotFoundError) as caught:
            world.release(unknown)
        assert caught.value.metadata["resource"] == "reservation"
    with pytest.raises(InvalidArgumentError) as malformed:
        world.release("", -1)
    assert fields_of(malformed.value) == {"reservation_id", "quantity"}
    with pytest.raises(NotFoundError):
        world.release(str(uuid.uuid4()), performed_by=str(uuid.uuid4()))


# GetStockLevel / ListStockLevels ----------------------------------------------------------
def test_get_level_of_a_pair_never_stocked_is_zeros_but_unknown_ids_are_not_found(world: World) -> None:
    never = world.level()
    assert (never.on_hand, never.reserved, never.available) == (0, 0, 0)
    assert not never.HasField("update_time")
    assert (never.product_id, never.warehouse_id) == (world.product, world.warehouse)
    with pytest.raises(NotFoundError) as product:
        world.level(product=str(uuid.uuid4()))
    assert product.value.metadata["resource"] == "product"
    with pytest.raises(NotFoundError) as warehouse:
        world.level(warehouse=str(uuid.uuid4()))
    assert warehouse.value.metadata["resource"] == "warehouse"
    with pytest.raises(InvalidArgumentError) as malformed:
        world.level(warehouse="w-1", product="p-1")
    assert fields_of(malformed.value) == {"product_id", "warehouse_id"}


def test_list_levels_by_product_warehouse_and_reorder_point_with_pages(
    client: InventoryClient, migrated_dsn: str
) -> None:
    world = make_world(client, migrated_dsn, reorder_point=5)
    other_product = create_product(client)
    for index, warehouse in enumerate(world.warehouses):
        world.receive(3 + 2 * index, warehouse=warehouse)  # 3, 5, 7: only the first is below 5
        world.receive(1, warehouse=warehouse, product_id=other_product)

    def listed(**fields: Any) -> list[pb.StockLevel]:
        seen: list[pb.StockLevel] = []
        token = ""
        while True:
            reply = client.stock.ListStockLevels(
                pb.ListStockLevelsRequest(page_size=2, page_token=token, **fields)
            )
            seen += reply.stock_levels
            token = reply.next_page_token
            if not token:
                return seen

    assert len(listed()) == 6
    by_product = listed(product_id=world.product, order_by="on_hand desc")
    assert [level.on_hand for level in by_product] == [7, 5, 3]
    assert {level.product_id for level in listed(warehouse_id=world.warehouse)} == {
        world.product,
        other_product,
    }
    low = listed(below_reorder_point=True, product_id=world.product)
    assert [(level.warehouse_id, level.on_hand) for level in low] == [(world.warehouse, 3)]
    assert {level.available for level in listed(filter="available >= 5")} == {5, 7}


def test_list_levels_rejects_bad_input(world: World) -> None:
    bad_requests = [
        (pb.ListStockLevelsRequest(page_size=-1), "page_size"),
        (pb.ListStockLevelsRequest(filter="sku = 'x'"), "filter"),
        (pb.ListStockLevelsRequest(order_by="name"), "order_by"),
        (pb.ListStockLevelsRequest(page_token="bogus"), "page_token"),
        (pb.ListStockLevelsRequest(product_id="p-1"), "product_id"),
    ]
    for request, field in bad_requests:
        with pytest.raises(InvalidArgumentError) as caught:
            world.client.stock.ListStockLevels(request)
        assert fields_of(caught.value) == {field}
