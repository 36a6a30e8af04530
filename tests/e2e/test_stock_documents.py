"""ApplyStockMovements: many lines, one transaction, one request_id, one document id."""

from __future__ import annotations

import threading
import uuid
from collections import Counter

import psycopg
import pytest

from inventory_client import (
    FailedPreconditionError,
    InvalidArgumentError,
    InventoryClient,
    InventoryError,
    NotFoundError,
)
from inventory_client.v1 import stock_pb2 as pb
from inventory_client.v1 import transaction_pb2

from .stock_helpers import World, create_product, make_world


@pytest.fixture
def world(client: InventoryClient, migrated_dsn: str) -> World:
    return make_world(client, migrated_dsn)


def receive(product: str, warehouse: str, quantity: int) -> pb.StockMovementLine:
    return pb.StockMovementLine(
        receive=pb.ReceiveLine(product_id=product, warehouse_id=warehouse, quantity=quantity)
    )


def ship(product: str, warehouse: str, quantity: int) -> pb.StockMovementLine:
    return pb.StockMovementLine(
        ship=pb.ShipLine(product_id=product, warehouse_id=warehouse, quantity=quantity)
    )


def transfer(product: str, source: str, destination: str, quantity: int) -> pb.StockMovementLine:
    return pb.StockMovementLine(
        transfer=pb.TransferLine(
            product_id=product, from_warehouse_id=source, to_warehouse_id=destination, quantity=quantity
        )
    )


def apply(world: World, *lines: pb.StockMovementLine, **fields: str) -> pb.ApplyStockMovementsResponse:
    request = pb.ApplyStockMovementsRequest(lines=lines, performed_by=world.user, **fields)
    return world.client.stock.ApplyStockMovements(request)


def test_a_document_applies_every_line_with_one_document_id(world: World) -> None:
    w0, w1, w2 = world.warehouses
    p = world.product
    reply = apply(
        world,
        receive(p, w0, 10),
        transfer(p, w0, w1, 3),
        pb.StockMovementLine(reserve=pb.ReserveLine(product_id=p, warehouse_id=w1, quantity=2)),
        ship(p, w0, 1),
        pb.StockMovementLine(adjust=pb.AdjustLine(product_id=p, warehouse_id=w2, delta=5, reason="found")),
        reference="delivery-note-7",
    )
    assert [row.document_id for row in reply.transactions] == [reply.document_id] * 5
    assert [row.type for row in reply.transactions] == [
        transaction_pb2.TRANSACTION_TYPE_RECEIPT,
        transaction_pb2.TRANSACTION_TYPE_TRANSFER,
        transaction_pb2.TRANSACTION_TYPE_RESERVATION,
        transaction_pb2.TRANSACTION_TYPE_SHIPMENT,
        transaction_pb2.TRANSACTION_TYPE_ADJUSTMENT,
    ]
    assert {row.reference for row in reply.transactions[:4]} == {"delivery-note-7"}
    levels = {lv.warehouse_id: (lv.on_hand, lv.reserved) for lv in reply.stock_levels}
    assert levels == {w0: (6, 0), w1: (3, 2), w2: (5, 0)}
    listed = world.client.transactions.ListTransactions(
        transaction_pb2.ListTransactionsRequest(filter=f'document_id = "{reply.document_id}"')
    )
    assert [row.id for row in listed.transactions] == [row.id for row in reply.transactions]
    assert world.receive(1).transaction.document_id == ""


def test_a_failing_line_rolls_back_every_line_and_is_named(world: World) -> None:
    other = create_product(world.client)
    with pytest.raises(FailedPreconditionError) as refused:
        apply(
            world,
            receive(world.product, world.warehouse, 5),
            receive(other, world.warehouse, 1),
            ship(other, world.warehouse, 9),
        )
    assert refused.value.reason == "INSUFFICIENT_STOCK"
    assert refused.value.message.startswith("lines[2]: ")
    assert refused.value.metadata["line"] == "2"
    assert world.level().on_hand == 0
    with psycopg.connect(world.dsn) as conn:
        rows = conn.execute("SELECT count(*) FROM stock_transactions").fetchone()
    assert rows == (0,)


def test_bad_fields_are_named_by_line_and_all_reported_at_once(world: World) -> None:
    with pytest.raises(InvalidArgumentError) as bad:
        apply(
            world,
            receive(world.product, world.warehouse, 0),
            receive(world.product, world.warehouse, 1),
            ship("not-a-uuid", world.warehouse, 1),
            pb.StockMovementLine(),
        )
    assert [v.field for v in bad.value.field_violations] == [
        "lines[0].receive.quantity",
        "lines[2].ship.product_id",
        "lines[3]",
    ]
    with pytest.raises(InvalidArgumentError) as empty:
        apply(world)
    assert [v.field for v in empty.value.field_violations] == ["lines"]
    with pytest.raises(InvalidArgumentError) as too_long:
        apply(world, *[receive(world.product, world.warehouse, 1)] * 101)
    assert [v.field for v in too_long.value.field_violations] == ["lines"]


def test_a_missing_warehouse_is_not_found_naming_its_line(world: World) -> None:
    with pytest.raises(NotFoundError) as missing:
        apply(world, receive(world.product, world.warehouse, 1), receive(world.product, str(uuid.uuid4()), 1))
    assert missing.value.message.startswith("lines[1].warehouse_id: warehouse ")


def test_one_request_id_for_the_whole_document(world: World) -> None:
    lines = (receive(world.product, world.warehouse, 4), ship(world.product, world.warehouse, 1))
    first = apply(world, *lines, request_id="doc-1")
    again = apply(world, *lines, request_id="doc-1")
    assert again == first
    assert world.level().on_hand == 3
    with pytest.raises(InvalidArgumentError) as reused:
        apply(world, receive(world.product, world.warehouse, 5), request_id="doc-1")
    assert [v.field for v in reused.value.field_violations] == ["request_id"]


def test_documents_in_opposite_orders_never_fail_with_a_deadlock(world: World) -> None:
    """Each document moves stock both ways between two warehouses; half list the lines the other way round."""
    w0, w1, _ = world.warehouses
    products = [world.product, create_product(world.client)]
    apply(world, *[receive(p, w, 1000) for p in products for w in (w0, w1)])
    forward = [transfer(products[0], w0, w1, 1), transfer(products[1], w1, w0, 1), ship(products[0], w1, 1)]
    codes: Counter[str] = Counter()

    def run(lines: list[pb.StockMovementLine]) -> None:
        for _ in range(15):
            try:
                apply(world, *lines)
                codes["OK"] += 1
            except InventoryError as error:
                codes[error.code.name] += 1

    threads = [threading.Thread(target=run, args=(forward if n % 2 else forward[::-1],)) for n in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert codes == Counter({"OK": 12 * 15})
    totals = [world.level(w, p).on_hand for p in products for w in (w0, w1)]
    assert sum(totals) == 4000 - 12 * 15
