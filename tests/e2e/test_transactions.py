"""TransactionService end to end: reading the ledger that stock movements write."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest

from inventory_client import InvalidArgumentError, InventoryClient, NotFoundError
from inventory_client.v1 import transaction_pb2 as pb

from .stock_helpers import World, insert_user, make_world


@pytest.fixture
def world(client: InventoryClient, migrated_dsn: str) -> World:
    return make_world(client, migrated_dsn)


def every_row(client: InventoryClient, filter: str = "", order_by: str = "") -> list[pb.StockTransaction]:
    seen: list[pb.StockTransaction] = []
    token = ""
    while True:
        reply = client.transactions.ListTransactions(
            pb.ListTransactionsRequest(page_size=2, page_token=token, filter=filter, order_by=order_by)
        )
        seen += reply.transactions
        token = reply.next_page_token
        if not token:
            return seen


def history(world: World) -> list[pb.StockTransaction]:
    """Receipt, transfer a->b, shipment at b, reservation and release at a (by a second user), adjustment."""
    a, b, _ = world.warehouses
    clerk = insert_user(world.dsn)
    rows = [
        world.receive(10, warehouse=a, reference="PO-1").transaction,
        world.transfer(4, a, b, reference="move").transaction,
        world.ship(1, warehouse=b, reference="SO-1").transaction,
    ]
    reservation = world.reserve(2, warehouse=a, performed_by=clerk).transaction
    rows += [
        reservation,
        world.release(reservation.id, performed_by=clerk).transaction,
        world.adjust(warehouse=b, delta=-1, reason="damaged").transaction,
    ]
    return rows


def test_get_transaction_returns_the_row_and_unknown_or_malformed_ids_fail(world: World) -> None:
    row = world.receive(3, reference="PO-3").transaction
    fetched = world.client.transactions.GetTransaction(pb.GetTransactionRequest(id=row.id)).transaction
    assert fetched == row
    assert fetched.create_time.seconds > 0
    with pytest.raises(NotFoundError) as unknown:
        world.client.transactions.GetTransaction(pb.GetTransactionRequest(id=str(uuid.uuid4())))
    assert unknown.value.metadata["resource"] == "transaction"
    for bad in ("", "tx-1"):
        with pytest.raises(InvalidArgumentError) as malformed:
            world.client.transactions.GetTransaction(pb.GetTransactionRequest(id=bad))
        assert malformed.value.field_violations[0].field == "id"


def test_list_pages_through_the_ledger_oldest_or_newest_first(world: World) -> None:
    rows = history(world)
    assert [r.id for r in every_row(world.client)] == [r.id for r in rows]
    assert [r.id for r in every_row(world.client, order_by="create_time desc")] == [
        r.id for r in reversed(rows)
    ]


def test_list_filters_by_warehouse_on_either_side_and_by_direction(world: World) -> None:
    rows = history(world)
    _, b, c = world.warehouses
    touching_b = [r.id for r in rows if b in (r.from_warehouse_id, r.to_warehouse_id)]
    assert [r.id for r in every_row(world.client, f'warehouse_id = "{b}"')] == touching_b
    assert len(touching_b) == 3  # transfer in, shipment, adjustment
    assert [r.reference for r in every_row(world.client, f'to_warehouse_id = "{b}"')] == ["move"]
    assert every_row(world.client, f'from_warehouse_id = "{c}"') == []


def test_list_filters_by_type_name_user_reference_product_and_time(world: World) -> None:
    rows = history(world)
    for spelling in ("TRANSACTION_TYPE_RESERVATION", "RESERVATION"):
        [found] = every_row(world.client, f"type = {spelling}")
        assert found.id == rows[3].id
    clerk = rows[3].performed_by
    assert [r.type for r in every_row(world.client, f'performed_by = "{clerk}"')] == [
        pb.TRANSACTION_TYPE_RESERVATION,
        pb.TRANSACTION_TYPE_RELEASE,
    ]
    assert [r.id for r in every_row(world.client, 'reference = "SO-1"')] == [rows[2].id]
    assert len(every_row(world.client, f'product_id = "{world.product}"')) == len(rows)
    assert every_row(world.client, f'product_id = "{uuid.uuid4()}"') == []
    moment = rows[2].create_time.ToDatetime()
    after = (moment - timedelta(microseconds=1)).isoformat() + "Z"
    until = (moment + timedelta(microseconds=1)).isoformat() + "Z"
    window = every_row(world.client, f'create_time > "{after}" AND create_time < "{until}"')
    assert [r.id for r in window] == [rows[2].id]


def test_list_rejects_bad_input(world: World) -> None:
    bad_requests = [
        (pb.ListTransactionsRequest(page_size=-1), "page_size"),
        (pb.ListTransactionsRequest(filter="type = THEFT"), "filter"),
        (pb.ListTransactionsRequest(filter="quantity > 1"), "filter"),
        (pb.ListTransactionsRequest(filter='create_time > "yesterday"'), "filter"),
        (pb.ListTransactionsRequest(order_by="quantity"), "order_by"),
        (pb.ListTransactionsRequest(page_token="bogus"), "page_token"),
    ]
    for request, field in bad_requests:
        with pytest.raises(InvalidArgumentError) as caught:
            world.client.transactions.ListTransactions(request)
        assert [v.field for v in caught.value.field_violations] == [field]


def test_a_page_token_only_works_with_its_own_filter(world: World) -> None:
    history(world)
    first = world.client.transactions.ListTransactions(pb.ListTransactionsRequest(page_size=1))
    with pytest.raises(InvalidArgumentError) as caught:
        world.client.transactions.ListTransactions(
            pb.ListTransactionsRequest(page_size=1, page_token=first.next_page_token, filter="type = RECEIPT")
        )
    assert caught.value.field_violations[0].field == "page_token"
