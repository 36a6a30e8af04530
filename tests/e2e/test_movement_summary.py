"""SummarizeMovements: totals agree with sums computed here from ListTransactions; paging and bad input."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from google.protobuf.timestamp_pb2 import Timestamp

from inventory_client import InvalidArgumentError, InventoryClient
from inventory_client.v1 import transaction_pb2 as pb

from .stock_helpers import World, create_product, make_world

ON_HAND_IN = {pb.TRANSACTION_TYPE_RECEIPT, pb.TRANSACTION_TYPE_TRANSFER, pb.TRANSACTION_TYPE_ADJUSTMENT}
ON_HAND_OUT = {pb.TRANSACTION_TYPE_SHIPMENT, pb.TRANSACTION_TYPE_TRANSFER, pb.TRANSACTION_TYPE_ADJUSTMENT}
GROUPINGS = (
    pb.MOVEMENT_GROUPING_PRODUCT,
    pb.MOVEMENT_GROUPING_WAREHOUSE,
    pb.MOVEMENT_GROUPING_PRODUCT_AND_WAREHOUSE,
)

# group key -> [total_in, total_out, {type: [in, out]}]
Totals = dict[tuple[str, str], tuple[int, int, dict[int, tuple[int, int]]]]


def stamp(moment: datetime) -> Timestamp:
    value = Timestamp()
    value.FromDatetime(moment)
    return value


@pytest.fixture
def world(client: InventoryClient, migrated_dsn: str) -> World:
    return make_world(client, migrated_dsn)


def seed(world: World) -> str:
    """Movements of every type for two products over three warehouses; returns the second product."""
    w0, w1, w2 = world.warehouses
    other = create_product(world.client)
    world.receive(20, w0)
    world.receive(7, w1, product_id=other)
    world.ship(3, w0)
    world.transfer(5, w0, w1)
    world.transfer(2, w1, w2, product_id=other)
    world.adjust(w2, delta=4)
    world.adjust(w0, delta=-1)
    reservation = world.reserve(4, w0).transaction.id
    world.release(reservation, 1)
    world.ship(2, w0, reservation_id=reservation)
    return other


def ledger(client: InventoryClient, filter: str = "") -> list[pb.StockTransaction]:
    rows: list[pb.StockTransaction] = []
    token = ""
    while True:
        reply = client.transactions.ListTransactions(
            pb.ListTransactionsRequest(page_size=1000, page_token=token, filter=filter)
        )
        rows.extend(reply.transactions)
        token = reply.next_page_token
        if not token:
            return rows


def expected(rows: list[pb.StockTransaction], grouping: int) -> Totals:
    """The summaries by hand: each side of each row added to its group."""
    raw: dict[tuple[str, str], dict[int, list[int]]] = defaultdict(lambda: defaultdict(lambda: [0, 0]))
    for row in rows:
        for warehouse, side in ((row.to_warehouse_id, 0), (row.from_warehouse_id, 1)):
            if not warehouse:
                continue
            product = row.product_id if grouping != pb.MOVEMENT_GROUPING_WAREHOUSE else ""
            where = warehouse if grouping != pb.MOVEMENT_GROUPING_PRODUCT else ""
            raw[(product, where)][row.type][side] += row.quantity
    return {
        key: (
            sum(q[0] for kind, q in by_type.items() if kind in ON_HAND_IN),
            sum(q[1] for kind, q in by_type.items() if kind in ON_HAND_OUT),
            {kind: (q[0], q[1]) for kind, q in by_type.items()},
        )
        for key, by_type in raw.items()
    }


def summarize(
    client: InventoryClient, grouping: Any, page_size: int = 0, **fields: Any
) -> list[pb.MovementSummary]:
    now = datetime.now(UTC)
    fields.setdefault("start_time", stamp(now - timedelta(hours=1)))
    fields.setdefault("end_time", stamp(now + timedelta(hours=1)))
    summaries: list[pb.MovementSummary] = []
    token = ""
    while True:
        request = pb.SummarizeMovementsRequest(
            group_by=grouping, page_size=page_size, page_token=token, **fields
        )
        reply = client.transactions.SummarizeMovements(request)
        summaries.extend(reply.summaries)
        token = reply.next_page_token
        if not token:
            return summaries


def as_totals(summaries: list[pb.MovementSummary]) -> Totals:
    result: Totals = {}
    for s in summaries:
        assert s.net == s.total_in - s.total_out
        result[(s.product_id, s.warehouse_id)] = (
            s.total_in,
            s.total_out,
            {t.type: (t.quantity_in, t.quantity_out) for t in s.by_type},
        )
    return result


@pytest.mark.parametrize("grouping", GROUPINGS)
def test_totals_agree_with_the_ledger_and_pages_cover_every_group_once(world: World, grouping: int) -> None:
    seed(world)
    want = expected(ledger(world.client), grouping)
    summaries = summarize(world.client, grouping, page_size=1)  # one group per page: keyset paging
    keys = [(s.product_id, s.warehouse_id) for s in summaries]
    assert len(keys) == len(set(keys)) == len(want)
    assert as_totals(summaries) == want
    assert as_totals(summarize(world.client, grouping)) == want


def test_a_transfer_is_out_of_its_source_and_into_its_destination(world: World) -> None:
    w0, w1, _ = world.warehouses
    world.receive(9, w0)
    world.transfer(4, w0, w1)
    by_level = as_totals(summarize(world.client, pb.MOVEMENT_GROUPING_PRODUCT_AND_WAREHOUSE))
    assert by_level[(world.product, w0)][:2] == (9, 4)
    assert by_level[(world.product, w1)][:2] == (4, 0)
    assert by_level[(world.product, w1)][2] == {pb.TRANSACTION_TYPE_TRANSFER: (4, 0)}


def test_the_filter_applies_to_each_side(world: World) -> None:
    seed(world)
    w0, w1, _ = world.warehouses
    filter = f'warehouse_id = "{w1}" AND type = "TRANSFER"'
    got = as_totals(summarize(world.client, pb.MOVEMENT_GROUPING_PRODUCT_AND_WAREHOUSE, filter=filter))
    sides = ledger(world.client, f'warehouse_id = "{w1}" AND type = "TRANSACTION_TYPE_TRANSFER"')
    want: Totals = {}
    for key, totals in expected(sides, pb.MOVEMENT_GROUPING_PRODUCT_AND_WAREHOUSE).items():
        if key[1] == w1:  # the rows' other sides are not in the filter
            want[key] = totals
    assert got
    assert got == want
    assert all(warehouse == w1 for _, warehouse in got)
    assert w0 not in {warehouse for _, warehouse in got}


def test_the_range_is_half_open(world: World) -> None:
    world.receive(5)
    [row] = ledger(world.client)
    at = row.create_time.ToDatetime(tzinfo=UTC)
    grouping = pb.MOVEMENT_GROUPING_PRODUCT
    assert summarize(
        world.client, grouping, start_time=stamp(at), end_time=stamp(at + timedelta(microseconds=1))
    )
    assert not summarize(
        world.client, grouping, start_time=stamp(at - timedelta(hours=1)), end_time=stamp(at)
    )


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"end_time": "reversed"}, "end_time"),
        ({"end_time": "too_long"}, "end_time"),
        ({"start_time": None}, "start_time"),
        ({"end_time": None}, "end_time"),
        ({"group_by": pb.MOVEMENT_GROUPING_UNSPECIFIED}, "group_by"),
        ({"filter": "quantity > 3"}, "filter"),
        ({"filter": 'type = "BOGUS"'}, "filter"),
        ({"page_size": -1}, "page_size"),
        ({"page_token": "not-a-token"}, "page_token"),
    ],
)
def test_bad_input_is_invalid_argument(
    client: InventoryClient, fields: dict[str, object], field: str
) -> None:
    start = datetime(2024, 1, 1, tzinfo=UTC)
    request = pb.SummarizeMovementsRequest(
        start_time=stamp(start),
        end_time=stamp(start + timedelta(days=1)),
        group_by=pb.MOVEMENT_GROUPING_PRODUCT,
    )
    for name, value in fields.items():
        if value is None:
            request.ClearField(name)  # type: ignore[arg-type]
        elif value == "reversed":
            request.end_time.CopyFrom(stamp(start - timedelta(seconds=1)))
        elif value == "too_long":
            request.end_time.CopyFrom(stamp(start + timedelta(days=366, seconds=1)))
        else:
            setattr(request, name, value)
    with pytest.raises(InvalidArgumentError) as error:
        client.transactions.SummarizeMovements(request)
    assert field in [violation.field for violation in error.value.field_violations]


def test_a_page_token_is_bound_to_the_request(world: World) -> None:
    seed(world)
    now = datetime.now(UTC)
    request = pb.SummarizeMovementsRequest(
        start_time=stamp(now - timedelta(hours=1)),
        end_time=stamp(now + timedelta(hours=1)),
        group_by=pb.MOVEMENT_GROUPING_PRODUCT_AND_WAREHOUSE,
        page_size=1,
    )
    token = world.client.transactions.SummarizeMovements(request).next_page_token
    assert token
    request.page_token = token
    request.filter = 'type = "RECEIPT"'
    with pytest.raises(InvalidArgumentError):
        world.client.transactions.SummarizeMovements(request)


def test_an_idle_range_has_no_summaries(world: World) -> None:
    world.receive(3)
    long_ago = datetime(2001, 1, 1, tzinfo=UTC)
    assert not summarize(
        world.client,
        pb.MOVEMENT_GROUPING_WAREHOUSE,
        start_time=stamp(long_ago),
        end_time=stamp(long_ago + timedelta(days=1)),
    )
