"""TransactionService.summarize_movements over fakes: the range rules and what is counted as in/out."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from inventory_server.domain.errors import InvalidArgument
from inventory_server.domain.movement_summary import MAX_SUMMARY_RANGE, Grouping, TypeTotal
from inventory_server.domain.paging import ListQuery
from inventory_server.domain.stock import AdjustStock, ReceiveStock, ReserveStock, ShipStock, TransferStock
from inventory_server.domain.transaction import TransactionType
from inventory_server.services.transactions import TransactionService
from tests.unit.fakes import make_world

START = datetime(2000, 1, 1, tzinfo=UTC)


def _rid() -> str:
    return f"req-{uuid.uuid4().hex[:8]}"


async def test_reversed_and_too_long_ranges_are_invalid_argument() -> None:
    service = TransactionService(make_world().transactor)
    with pytest.raises(InvalidArgument) as reversed_:
        await service.summarize_movements(Grouping.PRODUCT, START, START - timedelta(seconds=1), ListQuery())
    assert [v.field for v in reversed_.value.violations] == ["end_time"]
    end = START + MAX_SUMMARY_RANGE + timedelta(microseconds=1)
    with pytest.raises(InvalidArgument) as too_long:
        await service.summarize_movements(Grouping.PRODUCT, START, end, ListQuery())
    assert [v.field for v in too_long.value.violations] == ["end_time"]
    empty = await service.summarize_movements(Grouping.PRODUCT, START, START + MAX_SUMMARY_RANGE, ListQuery())
    assert empty.items == []


async def test_transfers_count_on_both_sides_and_reservations_move_no_goods() -> None:
    world = make_world()
    a, b, _ = world.warehouses
    common: dict[str, Any] = {"product_id": world.product, "performed_by": world.user}
    await world.service.receive(ReceiveStock(warehouse_id=a, quantity=10, request_id=_rid(), **common))
    await world.service.ship(ShipStock(warehouse_id=a, quantity=2, request_id=_rid(), **common))
    await world.service.transfer(
        TransferStock(from_warehouse_id=a, to_warehouse_id=b, quantity=3, request_id=_rid(), **common)
    )
    await world.service.adjust(
        AdjustStock(warehouse_id=b, delta=-1, reason="count", request_id=_rid(), **common)
    )
    await world.service.reserve(ReserveStock(warehouse_id=a, quantity=4, request_id=_rid(), **common))
    service = TransactionService(world.transactor)
    now = world.db.now()
    window = (now - timedelta(days=1), now + timedelta(days=1))

    by_level = await service.summarize_movements(Grouping.PRODUCT_AND_WAREHOUSE, *window, ListQuery())
    totals = {s.warehouse_id: (s.total_in, s.total_out, s.net) for s in by_level.items}
    assert totals == {a: (10, 5, 5), b: (3, 1, 2)}
    level_a = next(s for s in by_level.items if s.warehouse_id == a)
    assert TypeTotal(TransactionType.RESERVATION, 0, 4) in level_a.by_type

    by_product = await service.summarize_movements(Grouping.PRODUCT, *window, ListQuery())
    [only] = by_product.items
    assert (only.product_id, only.warehouse_id, only.total_in, only.total_out) == (world.product, None, 13, 6)
    assert TypeTotal(TransactionType.TRANSFER, 3, 3) in only.by_type
