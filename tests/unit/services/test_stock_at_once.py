"""The one-statement path of the common movements (``stock_movements.at_once``) over fakes.

Receipts, shipments without a reservation, reservations and delta adjustments
finish in one ``StockMoveRepository.apply``; whenever it does not finish, the
step-by-step path runs in the same unit and gives the exact answer.
"""

from __future__ import annotations

from typing import Any

import pytest

from inventory_server.domain.errors import FailedPrecondition, NotFound
from inventory_server.domain.stock import AdjustStock, ReceiveStock, TransferStock
from inventory_server.repositories.stock_interfaces import LevelMove, LevelMoveOutcome
from tests.unit import fakes
from tests.unit.fakes import make_world
from tests.unit.services.test_stock_service import receive, request_id, reserve, ship


@pytest.fixture
def applied(monkeypatch: pytest.MonkeyPatch) -> list[LevelMoveOutcome]:
    """Every outcome of FakeStockMoves.apply, in order."""
    outcomes: list[LevelMoveOutcome] = []
    real = fakes.FakeStockMoves.apply

    async def spy(self: fakes.FakeStockMoves, move: LevelMove) -> LevelMoveOutcome:
        outcome = await real(self, move)
        outcomes.append(outcome)
        return outcome

    monkeypatch.setattr(fakes.FakeStockMoves, "apply", spy)
    return outcomes


@pytest.fixture
def no_step_by_step(monkeypatch: pytest.MonkeyPatch) -> None:
    """The step-by-step claim and reference check fail the test if they run."""

    async def refuse(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("the step-by-step path ran")

    monkeypatch.setattr(fakes.FakeIdempotency, "claim", refuse)
    monkeypatch.setattr(fakes.FakeLedger, "ensure_live", refuse)


@pytest.mark.usefixtures("no_step_by_step")
async def test_receipt_shipment_reservation_and_delta_each_finish_in_one_apply(
    applied: list[LevelMoveOutcome],
) -> None:
    world = make_world()
    await receive(world, 10)
    await ship(world, 3)
    await reserve(world, 2)
    await world.service.adjust(
        AdjustStock(
            product_id=world.product,
            warehouse_id=world.warehouse,
            delta=-1,
            reason="broken",
            request_id=request_id(),
            performed_by=world.user,
        )
    )
    assert [outcome.transaction is not None for outcome in applied] == [True] * 4
    assert (world.level().on_hand, world.level().reserved) == (6, 2)
    assert len(world.db.idempotency_keys) == 4
    assert all(response is not None for _, response in world.db.idempotency_keys.values())


async def test_not_enough_stock_falls_back_and_reports_what_was_available(
    applied: list[LevelMoveOutcome],
) -> None:
    world = make_world()
    await receive(world, 2)
    with pytest.raises(FailedPrecondition) as caught:
        await ship(world, 5)
    assert caught.value.metadata["available"] == "2"
    assert applied[-1].claimed
    assert applied[-1].transaction is None
    assert len(world.db.ledger) == 1


async def test_a_retry_is_not_claimed_at_once_and_replays_the_first_result(
    applied: list[LevelMoveOutcome],
) -> None:
    world = make_world()
    command = ReceiveStock(
        product_id=world.product,
        warehouse_id=world.warehouse,
        quantity=4,
        request_id=request_id(),
        performed_by=world.user,
    )
    first = await world.service.receive(command)
    again = await world.service.receive(command)
    assert again == first
    assert not applied[-1].claimed
    assert len(world.db.ledger) == 1


async def test_a_deleted_reference_falls_back_to_the_named_not_found(applied: list[LevelMoveOutcome]) -> None:
    world = make_world()
    with pytest.raises(NotFound) as caught:
        await receive(world, 1, warehouse=world.db.add("warehouse", deleted=True))
    assert caught.value.resource == "warehouse"
    assert applied[-1].missing is not None
    assert world.db.idempotency_keys == {}


async def test_a_transfer_takes_the_step_by_step_path(applied: list[LevelMoveOutcome]) -> None:
    world = make_world()
    await receive(world, 5)
    await world.service.transfer(
        TransferStock(
            product_id=world.product,
            from_warehouse_id=world.warehouses[0],
            to_warehouse_id=world.warehouses[1],
            quantity=2,
            request_id=request_id(),
            performed_by=world.user,
        )
    )
    assert len(applied) == 1  # the receipt only
    assert world.level(world.warehouses[1]).on_hand == 2
