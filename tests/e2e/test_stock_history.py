"""Stock at a point in time (read_time), below_reorder_point on available stock, and the stream's mark."""

from __future__ import annotations

import random
import threading
from collections import defaultdict
from datetime import UTC, datetime, timedelta

import pytest
from google.protobuf.timestamp_pb2 import Timestamp

from inventory_client import FailedPreconditionError, InvalidArgumentError, InventoryClient
from inventory_client.v1 import stock_pb2 as pb
from inventory_client.v1 import transaction_pb2

from .stock_helpers import World, make_world
from .watch_helpers import Collected, collect

ADDS = {transaction_pb2.TRANSACTION_TYPE_RECEIPT, transaction_pb2.TRANSACTION_TYPE_TRANSFER}
ADDS |= {transaction_pb2.TRANSACTION_TYPE_ADJUSTMENT}
REMOVES = {transaction_pb2.TRANSACTION_TYPE_SHIPMENT, transaction_pb2.TRANSACTION_TYPE_TRANSFER}
REMOVES |= {transaction_pb2.TRANSACTION_TYPE_ADJUSTMENT}


@pytest.fixture
def world(client: InventoryClient, migrated_dsn: str) -> World:
    return make_world(client, migrated_dsn, reorder_point=5)


def stamp(moment: datetime) -> Timestamp:
    value = Timestamp()
    value.FromDatetime(moment)
    return value


def replay(rows: list[transaction_pb2.StockTransaction], until: datetime) -> dict[tuple[str, str], list[int]]:
    """(warehouse, product) -> [on_hand, reserved] after the rows written up to ``until``, by hand."""
    levels: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0])
    for row in rows:
        if row.create_time.ToDatetime(tzinfo=UTC) > until:
            continue
        if row.to_warehouse_id and row.type in ADDS:
            levels[(row.to_warehouse_id, row.product_id)][0] += row.quantity
        if row.from_warehouse_id:
            level = levels[(row.from_warehouse_id, row.product_id)]
            if row.type in REMOVES:
                level[0] -= row.quantity
            if row.type == transaction_pb2.TRANSACTION_TYPE_RESERVATION:
                level[1] += row.quantity
            if row.type == transaction_pb2.TRANSACTION_TYPE_RELEASE or (
                row.type == transaction_pb2.TRANSACTION_TYPE_SHIPMENT and row.reservation_id
            ):
                level[1] -= row.quantity
    return levels


def test_read_time_agrees_with_a_replay_of_the_ledger_at_random_instants(world: World) -> None:
    rng = random.Random(7)
    instants = [datetime.now(UTC) - timedelta(days=1)]  # before the first row: zeros
    w0, w1, w2 = world.warehouses
    for _ in range(40):
        kind = rng.choice(("receive", "receive", "ship", "transfer", "reserve", "release", "adjust"))
        try:
            if kind == "receive":
                world.receive(rng.randint(1, 9), rng.choice(world.warehouses))
            elif kind == "ship":
                world.ship(rng.randint(1, 3), rng.choice(world.warehouses))
            elif kind == "transfer":
                world.transfer(rng.randint(1, 3), *rng.sample([w0, w1, w2], 2))
            elif kind == "reserve":
                world.reserve(rng.randint(1, 3), rng.choice(world.warehouses))
            elif kind == "release":
                reservations = world.client.stock.ListReservations(pb.ListReservationsRequest()).reservations
                if reservations:
                    world.release(rng.choice(reservations).id, 1)
            else:
                world.adjust(rng.choice(world.warehouses), delta=rng.choice((-2, 3)))
        except FailedPreconditionError:
            pass
        instants.append(datetime.now(UTC))
    rows = list(world.client.iter_transactions())
    for moment in [*rng.sample(instants, 12), instants[0], instants[-1]]:
        expected = replay(rows, moment)
        for warehouse in world.warehouses:
            level = world.client.stock.GetStockLevel(
                pb.GetStockLevelRequest(
                    product_id=world.product, warehouse_id=warehouse, read_time=stamp(moment)
                )
            ).stock_level
            on_hand, reserved = expected.get((warehouse, world.product), [0, 0])
            assert (level.on_hand, level.reserved, level.available) == (on_hand, reserved, on_hand - reserved)
        listed = world.client.stock.ListStockLevels(
            pb.ListStockLevelsRequest(product_id=world.product, read_time=stamp(moment))
        ).stock_levels
        assert {(lv.warehouse_id, lv.on_hand, lv.reserved) for lv in listed} == {
            (w, *expected[(w, p)]) for (w, p) in expected
        }
    now = {(lv.warehouse_id, lv.on_hand, lv.reserved) for lv in world.client.iter_stock_levels()}
    assert now == {(w, *level) for (w, _), level in replay(rows, datetime.now(UTC)).items()}


def test_a_read_time_in_the_future_is_invalid(world: World) -> None:
    future = stamp(datetime.now(UTC) + timedelta(minutes=5))
    with pytest.raises(InvalidArgumentError) as single:
        world.client.stock.GetStockLevel(
            pb.GetStockLevelRequest(product_id=world.product, warehouse_id=world.warehouse, read_time=future)
        )
    assert [v.field for v in single.value.field_violations] == ["read_time"]
    with pytest.raises(InvalidArgumentError) as listed:
        world.client.stock.ListStockLevels(pb.ListStockLevelsRequest(read_time=future))
    assert [v.field for v in listed.value.field_violations] == ["read_time"]


def test_below_reorder_point_compares_available_stock(world: World) -> None:
    world.receive(8)
    low = world.client.stock.ListStockLevels(pb.ListStockLevelsRequest(below_reorder_point=True)).stock_levels
    assert list(low) == []
    world.reserve(4)  # on_hand 8 stays above 5, available 4 does not
    low = world.client.stock.ListStockLevels(pb.ListStockLevelsRequest(below_reorder_point=True)).stock_levels
    assert [(lv.on_hand, lv.available) for lv in low] == [(8, 4)]


def test_the_stream_marks_the_row_that_takes_a_level_below_its_reorder_point(world: World) -> None:
    seen = Collected()
    thread = threading.Thread(
        target=collect, args=(world.client, seen), kwargs={"until": lambda c: len(c.changes) >= 4}
    )
    thread.start()
    assert seen.started.wait(20)
    world.receive(10)  # 10: above
    world.ship(4)  # 6: still above
    world.reserve(2)  # available 4: below now
    world.ship(1)  # available 3: was below already
    thread.join(30)
    assert [c.below_reorder_point for c in seen.changes] == [False, False, True, False]
