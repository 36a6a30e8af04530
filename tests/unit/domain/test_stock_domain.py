"""The stock rules without I/O: commands, levels, ledger effects, errors and stored results."""

from __future__ import annotations

import doctest
import importlib
from datetime import UTC, datetime
from types import ModuleType
from uuid import UUID, uuid4

import pytest

from inventory_server.domain.errors import FailedPrecondition, InvalidArgument
from inventory_server.domain.stock import (
    AdjustStock,
    LevelKey,
    ReceiveStock,
    ReleaseReservation,
    ReserveStock,
    ShipStock,
    StockLevel,
    TransferStock,
    insufficient_stock,
)
from inventory_server.domain.transaction import NewTransaction, StockTransaction, TransactionType
from inventory_server.services.stock_results import MovementResult

P, W1, W2, U = UUID(int=1), UUID(int=2), UUID(int=3), UUID(int=4)


def fields(
    command: ReceiveStock | ShipStock | TransferStock | AdjustStock | ReserveStock | ReleaseReservation,
) -> set[str]:
    return {v.field for v in command.violations()}


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        (ReceiveStock(product_id=P, warehouse_id=W1, quantity=1, request_id="r", performed_by=U), set()),
        (
            ReceiveStock(product_id=P, warehouse_id=W1, quantity=0, request_id="", performed_by=U),
            {"quantity", "request_id"},
        ),
        (
            ReceiveStock(product_id=P, warehouse_id=W1, quantity=-3, request_id="r" * 129, performed_by=U),
            {"quantity", "request_id"},
        ),
        (
            ShipStock(
                product_id=P, warehouse_id=W1, quantity=2, request_id="r", performed_by=U, reference="x" * 201
            ),
            {"reference"},
        ),
        (
            TransferStock(
                product_id=P,
                from_warehouse_id=W1,
                to_warehouse_id=W1,
                quantity=1,
                request_id="r",
                performed_by=U,
            ),
            {"to_warehouse_id"},
        ),
        (
            ReserveStock(product_id=P, warehouse_id=W1, quantity=0, request_id="r", performed_by=U),
            {"quantity"},
        ),
        (ReleaseReservation(reservation_id=P, quantity=0, request_id="r", performed_by=U), set()),
        (ReleaseReservation(reservation_id=P, quantity=-1, request_id="r", performed_by=U), {"quantity"}),
        (
            AdjustStock(
                product_id=P, warehouse_id=W1, reason="count", delta=3, request_id="r", performed_by=U
            ),
            set(),
        ),
        (
            AdjustStock(
                product_id=P,
                warehouse_id=W1,
                reason="count",
                counted_quantity=0,
                request_id="r",
                performed_by=U,
            ),
            set(),
        ),
        (
            AdjustStock(product_id=P, warehouse_id=W1, reason="count", request_id="r", performed_by=U),
            {"adjustment"},
        ),
        (
            AdjustStock(
                product_id=P,
                warehouse_id=W1,
                reason="c",
                delta=1,
                counted_quantity=1,
                request_id="r",
                performed_by=U,
            ),
            {"adjustment"},
        ),
        (
            AdjustStock(
                product_id=P, warehouse_id=W1, reason="count", delta=0, request_id="r", performed_by=U
            ),
            {"delta"},
        ),
        (
            AdjustStock(
                product_id=P, warehouse_id=W1, reason=" ", counted_quantity=-1, request_id="r", performed_by=U
            ),
            {"counted_quantity", "reason"},
        ),
        (
            ReceiveStock(product_id=P, warehouse_id=W1, quantity=10**12 + 1, request_id="r", performed_by=U),
            {"quantity"},
        ),
        (
            ReleaseReservation(reservation_id=P, quantity=10**12 + 1, request_id="r", performed_by=U),
            {"quantity"},
        ),
        (
            AdjustStock(
                product_id=P, warehouse_id=W1, reason="c", delta=-(10**12) - 1, request_id="r", performed_by=U
            ),
            {"delta"},
        ),
        (
            AdjustStock(
                product_id=P,
                warehouse_id=W1,
                reason="c",
                counted_quantity=10**12 + 1,
                request_id="r",
                performed_by=U,
            ),
            {"counted_quantity"},
        ),
    ],
)
def test_commands_name_every_bad_field(
    command: ReceiveStock | ShipStock | TransferStock | AdjustStock | ReserveStock | ReleaseReservation,
    expected: set[str],
) -> None:
    assert fields(command) == expected
    if expected:
        with pytest.raises(InvalidArgument) as caught:
            command.check()
        assert {v.field for v in caught.value.violations} == expected
    else:
        command.check()


def test_a_level_allows_only_changes_that_keep_reserved_between_zero_and_on_hand() -> None:
    level = StockLevel(P, W1, on_hand=10, reserved=4)
    assert level.available == 6
    assert level.allows(on_hand=-6)
    assert not level.allows(on_hand=-7)
    assert level.allows(reserved=6)
    assert not level.allows(reserved=7)
    assert level.allows(on_hand=-4, reserved=-4)
    assert not level.allows(reserved=-5)


def test_level_keys_sort_in_primary_key_order_warehouse_first() -> None:
    keys = [LevelKey(W2, UUID(int=1)), LevelKey(W1, UUID(int=9)), LevelKey(W1, UUID(int=5))]
    assert sorted(keys) == [LevelKey(W1, UUID(int=5)), LevelKey(W1, UUID(int=9)), LevelKey(W2, UUID(int=1))]


def test_insufficient_stock_carries_the_precondition_and_what_was_available() -> None:
    key = LevelKey(W1, P)
    error = insufficient_stock(key, StockLevel(P, W1, on_hand=5, reserved=3), requested=4)
    assert isinstance(error, FailedPrecondition)
    assert error.reason == "INSUFFICIENT_STOCK"
    assert error.metadata == {"available": "2", "requested": "4"}
    [violation] = error.violations
    assert (violation.type, violation.subject) == ("STOCK", f"products/{P}/warehouses/{W1}")
    assert "only 2 available" in violation.description
    assert insufficient_stock(key, None, 1).metadata["available"] == "0"


@pytest.mark.parametrize(
    ("requested", "remaining", "units", "reason"),
    [
        (0, 5, 5, None),
        (2, 5, 2, None),
        (5, 5, 5, None),
        (6, 5, None, "INSUFFICIENT_RESERVATION"),
        (0, 0, None, "RESERVATION_CONSUMED"),
    ],
)
def test_release_takes_what_is_asked_or_everything_left(
    requested: int, remaining: int, units: int | None, reason: str | None
) -> None:
    command = ReleaseReservation(reservation_id=P, quantity=requested, request_id="r", performed_by=U)
    if reason is None:
        assert command.units_from(remaining) == units
    else:
        with pytest.raises(FailedPrecondition) as caught:
            command.units_from(remaining)
        assert caught.value.reason == reason
        assert caught.value.metadata["remaining"] == str(remaining)


def test_an_adjustment_is_the_difference_to_the_count_or_the_delta() -> None:
    counted = AdjustStock(
        product_id=P, warehouse_id=W1, reason="c", counted_quantity=7, request_id="r", performed_by=U
    )
    assert (counted.change_from(10), counted.change_from(7), counted.change_from(2)) == (-3, 0, 5)
    delta = AdjustStock(product_id=P, warehouse_id=W1, reason="c", delta=-2, request_id="r", performed_by=U)
    assert delta.change_from(10) == -2


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("TRANSACTION_TYPE_SHIPMENT", TransactionType.SHIPMENT),
        ("SHIPMENT", TransactionType.SHIPMENT),
        ("release", TransactionType.RELEASE),
        (" transaction_type_receipt ", TransactionType.RECEIPT),
        ("TRANSACTION_TYPE_UNSPECIFIED", None),
        ("THEFT", None),
    ],
)
def test_transaction_types_are_named_like_the_proto_enum_or_shorter(
    text: str, expected: TransactionType | None
) -> None:
    assert TransactionType.from_name(text) is expected


@pytest.mark.parametrize(
    ("kind", "source", "destination", "reservation", "effects"),
    [
        # effects: (on_hand at W1, on_hand at W2, reserved at W1)
        (TransactionType.RECEIPT, None, W1, None, (5, 0, 0)),
        (TransactionType.SHIPMENT, W1, None, None, (-5, 0, 0)),
        (TransactionType.SHIPMENT, W1, None, P, (-5, 0, -5)),
        (TransactionType.TRANSFER, W1, W2, None, (-5, 5, 0)),
        (TransactionType.ADJUSTMENT, None, W1, None, (5, 0, 0)),
        (TransactionType.ADJUSTMENT, W1, None, None, (-5, 0, 0)),
        (TransactionType.RESERVATION, W1, None, None, (0, 0, 5)),
        (TransactionType.RELEASE, W1, None, P, (0, 0, -5)),
    ],
)
def test_each_ledger_row_changes_its_levels_as_the_proto_says(
    kind: TransactionType,
    source: UUID | None,
    destination: UUID | None,
    reservation: UUID | None,
    effects: tuple[int, int, int],
) -> None:
    row = NewTransaction(
        type=kind,
        product_id=P,
        quantity=5,
        performed_by=U,
        request_id="r",
        from_warehouse_id=source,
        to_warehouse_id=destination,
        reservation_id=reservation,
    )
    assert (row.on_hand_change(W1), row.on_hand_change(W2), row.reserved_change(W1)) == effects
    assert row.reserved_change(W2) == 0


def test_a_stored_result_comes_back_exactly() -> None:
    moment = datetime(2024, 5, 1, 12, 0, 0, 123456, tzinfo=UTC)
    row = StockTransaction(
        id=uuid4(),
        type=TransactionType.TRANSFER,
        product_id=P,
        quantity=3,
        performed_by=U,
        request_id="r-1",
        from_warehouse_id=W1,
        to_warehouse_id=W2,
        reference="move",
        caller="orders",
        create_time=moment,
    )
    levels = (StockLevel(P, W1, 2, 1, moment), StockLevel(P, W2, 3, 0, None))
    result = MovementResult(row, levels)
    assert MovementResult.from_json(result.to_json()) == result


MODULES_WITH_EXAMPLES = (
    "inventory_server.domain.stock",
    "inventory_server.domain.transaction",
    "inventory_server.domain.movement_summary",
    "inventory_server.repositories.movement_summary",
    "inventory_server.repositories.stock_levels",
    "inventory_server.repositories.transactions",
    "inventory_server.services.stock_results",
)


@pytest.mark.parametrize("name", MODULES_WITH_EXAMPLES)
def test_docstring_examples_hold(name: str) -> None:
    module: ModuleType = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0
    assert result.failed == 0
