"""Each stock movement request becomes its domain command through one helper; every bad field is named."""

from __future__ import annotations

from datetime import timedelta
from uuid import uuid4

import pytest

from inventory_client.v1 import stock_pb2 as pb
from inventory_server.api.stock import stock_command
from inventory_server.domain.errors import InvalidArgument
from inventory_server.domain.stock import (
    AdjustStock,
    ReceiveStock,
    ReleaseReservation,
    ReserveStock,
    ShipStock,
    TransferStock,
)

PRODUCT, SOURCE, DESTINATION, USER, RESERVATION = (uuid4() for _ in range(5))
IDS = {"product_id": str(PRODUCT), "warehouse_id": str(SOURCE), "performed_by": str(USER)}


def test_receive_and_reserve_copy_every_field_and_parse_the_ids() -> None:
    receive = stock_command(
        ReceiveStock, pb.ReceiveStockRequest(**IDS, quantity=3, request_id="r", reference="PO")
    )
    assert receive == ReceiveStock(
        product_id=PRODUCT, warehouse_id=SOURCE, performed_by=USER, quantity=3, request_id="r", reference="PO"
    )
    request = pb.ReserveStockRequest(
        product_id=str(PRODUCT), warehouse_id=str(SOURCE), performed_by=str(USER), quantity=4, request_id="s"
    )
    reserve = stock_command(ReserveStock, request)
    assert reserve == ReserveStock(
        product_id=PRODUCT, warehouse_id=SOURCE, performed_by=USER, quantity=4, request_id="s"
    )
    request.ttl.FromSeconds(90)
    assert stock_command(ReserveStock, request).ttl == timedelta(seconds=90)


def test_an_optional_id_is_none_when_empty_and_parsed_when_given() -> None:
    request = pb.ShipStockRequest(**IDS, quantity=1, request_id="r")
    assert stock_command(ShipStock, request).reservation_id is None
    request.reservation_id = str(RESERVATION)
    assert stock_command(ShipStock, request).reservation_id == RESERVATION


def test_a_transfer_names_both_warehouses() -> None:
    request = pb.TransferStockRequest(
        product_id=str(PRODUCT),
        from_warehouse_id=str(SOURCE),
        to_warehouse_id=str(DESTINATION),
        quantity=2,
        request_id="r",
        performed_by=str(USER),
    )
    command = stock_command(TransferStock, request)
    assert (command.from_warehouse_id, command.to_warehouse_id) == (SOURCE, DESTINATION)
    assert command.reference == ""


@pytest.mark.parametrize(("counted", "delta"), [(9, None), (0, None), (None, -2)])
def test_only_the_set_member_of_the_adjustment_oneof_is_taken(counted: int | None, delta: int | None) -> None:
    request = pb.AdjustStockRequest(
        product_id=str(PRODUCT),
        warehouse_id=str(SOURCE),
        performed_by=str(USER),
        reason="count",
        request_id="r",
    )
    if counted is not None:
        request.counted_quantity = counted
    if delta is not None:
        request.delta = delta
    command = stock_command(AdjustStock, request)
    assert (command.counted_quantity, command.delta) == (counted, delta)


def test_a_release_needs_its_reservation() -> None:
    request = pb.ReleaseReservationRequest(
        reservation_id=str(RESERVATION), quantity=0, request_id="r", performed_by=str(USER)
    )
    assert stock_command(ReleaseReservation, request) == ReleaseReservation(
        reservation_id=RESERVATION, quantity=0, request_id="r", performed_by=USER
    )
    missing = pb.ReleaseReservationRequest(request_id="r", performed_by=str(USER))
    with pytest.raises(InvalidArgument) as error:
        stock_command(ReleaseReservation, missing)
    assert [v.field for v in error.value.violations] == ["reservation_id"]


def test_every_bad_id_and_rule_is_reported_at_once_in_request_order() -> None:
    request = pb.TransferStockRequest(
        product_id="nope", from_warehouse_id="", to_warehouse_id="x", quantity=0, performed_by="?"
    )
    with pytest.raises(InvalidArgument) as error:
        stock_command(TransferStock, request)
    assert [v.field for v in error.value.violations] == [
        "product_id",
        "from_warehouse_id",
        "to_warehouse_id",
        "performed_by",
        "request_id",
        "quantity",
    ]


def test_two_bad_warehouse_ids_are_not_also_reported_as_the_same_warehouse() -> None:
    request = pb.TransferStockRequest(
        product_id=str(PRODUCT),
        from_warehouse_id="bad",
        to_warehouse_id="worse",
        quantity=1,
        request_id="r",
        performed_by=str(USER),
    )
    with pytest.raises(InvalidArgument) as error:
        stock_command(TransferStock, request)
    assert [v.field for v in error.value.violations] == ["from_warehouse_id", "to_warehouse_id"]


@pytest.mark.parametrize("seconds", [2**63 - 1, -(2**63), 10**15, -(10**15)])
def test_a_ttl_beyond_any_timedelta_is_an_invalid_ttl_not_an_overflow(seconds: int) -> None:
    """Found by the RPC fuzz (tests/e2e/test_fuzz_rpcs.py): Duration.ToTimedelta overflowed -> INTERNAL."""
    request = pb.ReserveStockRequest(
        product_id=str(PRODUCT), warehouse_id=str(SOURCE), performed_by=str(USER), quantity=1, request_id="r"
    )
    request.ttl.seconds = seconds
    with pytest.raises(InvalidArgument) as caught:
        stock_command(ReserveStock, request)
    assert [v.field for v in caught.value.violations] == ["ttl"]
