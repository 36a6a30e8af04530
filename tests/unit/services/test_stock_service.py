"""StockService over in-memory fakes: movement semantics, idempotency and errors, no I/O."""

from __future__ import annotations

import uuid
from typing import Any
from uuid import UUID

import pytest

from inventory_server import context
from inventory_server.domain.errors import FailedPrecondition, InvalidArgument, NotFound
from inventory_server.domain.paging import ListQuery
from inventory_server.domain.stock import (
    AdjustStock,
    ReceiveStock,
    ReleaseReservation,
    ReserveStock,
    ShipStock,
    TransferStock,
)
from inventory_server.domain.transaction import TransactionType
from inventory_server.services.stock_results import MovementResult
from tests.unit.fakes import StockWorld, make_world


def request_id() -> str:
    return f"req-{uuid.uuid4().hex[:8]}"


async def receive(
    world: StockWorld, quantity: int, warehouse: UUID | None = None, **extra: Any
) -> MovementResult:
    fields: dict[str, Any] = {"request_id": request_id(), "performed_by": world.user, **extra}
    return await world.service.receive(
        ReceiveStock(
            product_id=world.product, warehouse_id=warehouse or world.warehouse, quantity=quantity, **fields
        )
    )


async def ship(world: StockWorld, quantity: int, **extra: Any) -> MovementResult:
    fields: dict[str, Any] = {"request_id": request_id(), "performed_by": world.user, **extra}
    return await world.service.ship(
        ShipStock(product_id=world.product, warehouse_id=world.warehouse, quantity=quantity, **fields)
    )


async def reserve(world: StockWorld, quantity: int) -> MovementResult:
    return await world.service.reserve(
        ReserveStock(
            product_id=world.product,
            warehouse_id=world.warehouse,
            quantity=quantity,
            request_id=request_id(),
            performed_by=world.user,
        )
    )


async def release(world: StockWorld, reservation: UUID, quantity: int = 0) -> MovementResult:
    return await world.service.release(
        ReleaseReservation(
            reservation_id=reservation, quantity=quantity, request_id=request_id(), performed_by=world.user
        )
    )


async def adjust(world: StockWorld, **extra: Any) -> MovementResult:
    return await world.service.adjust(
        AdjustStock(
            product_id=world.product,
            warehouse_id=world.warehouse,
            reason="count",
            request_id=request_id(),
            performed_by=world.user,
            **extra,
        )
    )


async def transfer(world: StockWorld, quantity: int, source: UUID, destination: UUID) -> MovementResult:
    return await world.service.transfer(
        TransferStock(
            product_id=world.product,
            from_warehouse_id=source,
            to_warehouse_id=destination,
            quantity=quantity,
            request_id=request_id(),
            performed_by=world.user,
        )
    )


async def test_a_receipt_adds_on_hand_and_records_who_and_which_caller() -> None:
    world = make_world()
    token = context.principal.set("purchasing")
    try:
        result = await receive(world, 7, reference="PO-1")
    finally:
        context.principal.reset(token)
    row = result.transaction
    assert row is not None
    assert (row.type, row.quantity, row.to_warehouse_id, row.from_warehouse_id) == (
        TransactionType.RECEIPT,
        7,
        world.warehouse,
        None,
    )
    assert (row.performed_by, row.caller, row.reference) == (world.user, "purchasing", "PO-1")
    assert result.level.on_hand == 7
    assert world.level().on_hand == 7


async def test_shipping_more_than_available_is_refused_and_writes_nothing() -> None:
    world = make_world()
    await receive(world, 5)
    await reserve(world, 2)
    rows_before = len(world.db.ledger)
    with pytest.raises(FailedPrecondition) as caught:
        await ship(world, 4)
    assert caught.value.reason == "INSUFFICIENT_STOCK"
    assert caught.value.metadata["available"] == "3"
    assert len(world.db.ledger) == rows_before
    assert (world.level().on_hand, world.level().reserved) == (5, 2)
    assert (await ship(world, 3)).level.available == 0


async def test_shipping_against_a_reservation_takes_from_reserved_and_on_hand() -> None:
    world = make_world()
    await receive(world, 10)
    reservation = (await reserve(world, 6)).transaction
    assert reservation is not None
    shipped = await ship(world, 4, reservation_id=reservation.id)
    assert (shipped.level.on_hand, shipped.level.reserved) == (6, 2)
    assert shipped.transaction is not None
    assert shipped.transaction.reservation_id == reservation.id
    with pytest.raises(FailedPrecondition) as caught:
        await ship(world, 3, reservation_id=reservation.id)
    assert (caught.value.reason, caught.value.metadata["remaining"]) == ("INSUFFICIENT_RESERVATION", "2")


async def test_a_reservation_ships_only_from_its_own_warehouse() -> None:
    world = make_world()
    await receive(world, 5)
    await receive(world, 5, warehouse=world.warehouses[1])
    reservation = (await reserve(world, 2)).transaction
    assert reservation is not None
    with pytest.raises(InvalidArgument) as caught:
        await world.service.ship(
            ShipStock(
                product_id=world.product,
                warehouse_id=world.warehouses[1],
                quantity=1,
                reservation_id=reservation.id,
                request_id=request_id(),
                performed_by=world.user,
            )
        )
    assert caught.value.violations[0].field == "reservation_id"
    with pytest.raises(NotFound):
        await ship(world, 1, reservation_id=uuid.uuid4())


async def test_a_transfer_conserves_stock_and_refuses_reserved_units() -> None:
    world = make_world()
    source, destination, _ = world.warehouses
    await receive(world, 10, warehouse=source)
    moved = await transfer(world, 4, source, destination)
    assert [level.on_hand for level in moved.levels] == [6, 4]
    assert moved.transaction is not None
    assert (moved.transaction.from_warehouse_id, moved.transaction.to_warehouse_id) == (source, destination)
    await reserve(world, 5)
    with pytest.raises(FailedPrecondition) as caught:
        await transfer(world, 2, source, destination)
    assert caught.value.metadata["available"] == "1"
    assert world.level(source).on_hand + world.level(destination).on_hand == 10


async def test_a_transfer_between_the_same_warehouse_is_refused_before_any_work() -> None:
    world = make_world()
    with pytest.raises(InvalidArgument):
        await transfer(world, 1, world.warehouse, world.warehouse)
    assert world.transactor.attempts == 0


async def test_adjustments_move_on_hand_either_way_and_a_matching_count_changes_nothing() -> None:
    world = make_world()
    up = await adjust(world, counted_quantity=8)
    assert up.transaction is not None
    assert (up.transaction.to_warehouse_id, up.transaction.quantity) == (world.warehouse, 8)
    down = await adjust(world, delta=-3)
    assert down.transaction is not None
    assert (down.transaction.from_warehouse_id, down.transaction.quantity, down.level.on_hand) == (
        world.warehouse,
        3,
        5,
    )
    rows_before = len(world.db.ledger)
    same = await adjust(world, counted_quantity=5)
    assert same.transaction is None
    assert same.level.on_hand == 5
    assert len(world.db.ledger) == rows_before


async def test_an_adjustment_cannot_take_on_hand_below_reserved() -> None:
    world = make_world()
    await receive(world, 10)
    await reserve(world, 7)
    for change in ({"counted_quantity": 6}, {"delta": -4}):
        with pytest.raises(FailedPrecondition) as caught:
            await adjust(world, **change)
        assert caught.value.metadata["available"] == "3"
    assert (await adjust(world, counted_quantity=7)).level.available == 0


async def test_releasing_gives_back_what_remains_of_a_reservation() -> None:
    world = make_world()
    await receive(world, 10)
    reservation = (await reserve(world, 5)).transaction
    assert reservation is not None
    assert (await release(world, reservation.id, 2)).level.reserved == 3
    with pytest.raises(FailedPrecondition) as too_much:
        await release(world, reservation.id, 4)
    assert too_much.value.reason == "INSUFFICIENT_RESERVATION"
    rest = await release(world, reservation.id)
    assert rest.transaction is not None
    assert (rest.transaction.quantity, rest.level.reserved) == (3, 0)
    with pytest.raises(FailedPrecondition) as empty:
        await release(world, reservation.id)
    assert empty.value.reason == "RESERVATION_CONSUMED"


async def test_a_retry_returns_the_first_result_even_after_the_level_moved_on() -> None:
    world = make_world()
    command = ReceiveStock(
        product_id=world.product,
        warehouse_id=world.warehouse,
        quantity=5,
        request_id="once",
        performed_by=world.user,
    )
    first = await world.service.receive(command)
    await receive(world, 3)
    again = await world.service.receive(command)
    assert again == first
    assert again.level.on_hand == 5
    assert [row.request_id for row in world.db.ledger].count("once") == 1
    assert world.level().on_hand == 8


async def test_the_same_request_id_with_other_content_is_invalid_but_other_methods_may_reuse_it() -> None:
    world = make_world()
    await receive(world, 5, request_id="shared")
    with pytest.raises(InvalidArgument) as caught:
        await receive(world, 6, request_id="shared")
    assert caught.value.violations[0].field == "request_id"
    assert (await ship(world, 1, request_id="shared")).level.on_hand == 4


async def test_a_failed_movement_does_not_keep_its_request_id() -> None:
    world = make_world()
    with pytest.raises(FailedPrecondition):
        await ship(world, 1, request_id="later")
    await receive(world, 3)
    assert (await ship(world, 1, request_id="later")).level.on_hand == 2


@pytest.mark.parametrize("missing", ["product", "warehouse", "user"])
async def test_unknown_or_deleted_references_are_not_found(missing: str) -> None:
    world = make_world()
    ids = {"product": world.product, "warehouse": world.warehouse, "user": world.user}
    ids[missing] = world.db.add(missing, deleted=True)
    with pytest.raises(NotFound) as caught:
        await world.service.receive(
            ReceiveStock(
                product_id=ids["product"],
                warehouse_id=ids["warehouse"],
                quantity=1,
                request_id=request_id(),
                performed_by=ids["user"],
            )
        )
    assert caught.value.resource == missing
    assert world.db.ledger == []


async def test_every_movement_is_safe_to_run_again_after_a_rolled_back_attempt() -> None:
    """The real transactor re-runs work after a deadlock; the second attempt must not double anything."""
    world = make_world(rerun_first=True)
    source, destination, _ = world.warehouses
    await receive(world, 10)
    reservation = (await reserve(world, 4)).transaction
    assert reservation is not None
    await ship(world, 1, reservation_id=reservation.id)
    await release(world, reservation.id, 1)
    await transfer(world, 3, source, destination)
    await adjust(world, delta=-1)
    assert len(world.db.ledger) == 6
    assert (world.level(source).on_hand, world.level(source).reserved, world.level(destination).on_hand) == (
        5,
        2,
        3,
    )
    assert world.transactor.attempts == 12


async def test_get_level_answers_zeros_for_a_pair_never_stocked_and_not_found_for_unknown_ids() -> None:
    world = make_world()
    never = await world.service.get_level(world.product, world.warehouse)
    assert (never.on_hand, never.reserved, never.update_time) == (0, 0, None)
    deleted_product = world.db.add("product", deleted=True)
    assert (await world.service.get_level(deleted_product, world.warehouse)).on_hand == 0
    with pytest.raises(NotFound) as product:
        await world.service.get_level(uuid.uuid4(), world.warehouse)
    assert product.value.resource == "product"
    with pytest.raises(NotFound) as warehouse:
        await world.service.get_level(world.product, uuid.uuid4())
    assert warehouse.value.resource == "warehouse"


async def test_list_levels_passes_the_scope_to_the_repository() -> None:
    world = make_world()
    await receive(world, 1, warehouse=world.warehouses[0])
    await receive(world, 2, warehouse=world.warehouses[1])
    page = await world.service.list_levels(ListQuery(), warehouse_id=world.warehouses[1])
    assert [level.on_hand for level in page.items] == [2]
