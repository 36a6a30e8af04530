"""TransactionRepository on PostgreSQL: the append-only ledger, reservations, references and listing."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

import psycopg
import pytest

from inventory_server.domain.errors import FailedPrecondition, InvalidArgument, NotFound
from inventory_server.domain.paging import ListQuery
from inventory_server.domain.transaction import NewTransaction, StockTransaction, TransactionType
from inventory_server.repositories.instrumentation import QueryStats
from inventory_server.repositories.stock_interfaces import Reference
from inventory_server.repositories.transactions import TransactionRepository

Conn = psycopg.AsyncConnection[Any]
Factory = Callable[..., Awaitable[uuid.UUID]]


async def write(ledger: TransactionRepository, kind: TransactionType, **fields: Any) -> StockTransaction:
    defaults: dict[str, Any] = {"quantity": 1, "request_id": f"req-{uuid.uuid4().hex[:8]}"}
    return await ledger.append(NewTransaction(type=kind, **{**defaults, **fields}))


async def test_append_returns_the_stored_row_and_get_reads_it_back(
    conn: Conn, new_product: Factory, new_warehouse: Factory, new_user: Factory
) -> None:
    ledger = TransactionRepository(conn)
    product, warehouse, user = await new_product(), await new_warehouse(), await new_user()
    row = await write(
        ledger,
        TransactionType.RECEIPT,
        product_id=product,
        to_warehouse_id=warehouse,
        quantity=12,
        performed_by=user,
        reference="PO-7",
        caller="orders",
        request_id="r-1",
    )
    assert (row.type, row.quantity, row.to_warehouse_id, row.from_warehouse_id) == (
        TransactionType.RECEIPT,
        12,
        warehouse,
        None,
    )
    assert (row.reference, row.caller, row.request_id, row.performed_by) == ("PO-7", "orders", "r-1", user)
    assert await ledger.get(row.id) == row


async def test_get_of_an_unknown_id_is_not_found(conn: Conn) -> None:
    with pytest.raises(NotFound) as caught:
        await TransactionRepository(conn).get(uuid.uuid4())
    assert caught.value.resource == "transaction"


async def test_ledger_rows_cannot_be_changed_or_deleted(
    conn: Conn, new_product: Factory, new_warehouse: Factory, new_user: Factory
) -> None:
    ledger = TransactionRepository(conn)
    row = await write(
        ledger,
        TransactionType.RECEIPT,
        product_id=await new_product(),
        to_warehouse_id=await new_warehouse(),
        performed_by=await new_user(),
    )
    await conn.commit()
    for statement in (
        "UPDATE stock_transactions SET quantity = 99 WHERE id = %s",
        "DELETE FROM stock_transactions WHERE id = %s",
    ):
        with pytest.raises(FailedPrecondition, match="append-only"), ledger.operation("raw"):
            await conn.execute(statement, (row.id,))
        await conn.rollback()
    assert (await ledger.get(row.id)).quantity == 1


async def test_a_row_naming_an_unknown_user_is_not_found(
    conn: Conn, new_product: Factory, new_warehouse: Factory
) -> None:
    with pytest.raises(NotFound) as caught:
        await write(
            TransactionRepository(conn),
            TransactionType.RECEIPT,
            product_id=await new_product(),
            to_warehouse_id=await new_warehouse(),
            performed_by=uuid.uuid4(),
        )
    assert caught.value.resource == "user"


async def test_get_reservation_sums_what_shipped_and_was_released_against_it(
    conn: Conn, new_product: Factory, new_warehouse: Factory, new_user: Factory
) -> None:
    ledger = TransactionRepository(conn)
    product, warehouse, user = await new_product(), await new_warehouse(), await new_user()
    common = {"product_id": product, "performed_by": user, "from_warehouse_id": warehouse}
    reservation = await write(ledger, TransactionType.RESERVATION, quantity=10, **common)
    fresh = await ledger.get_reservation(reservation.id)
    assert (fresh.quantity, fresh.consumed, fresh.remaining) == (10, 0, 10)
    assert (fresh.product_id, fresh.warehouse_id) == (product, warehouse)
    await write(ledger, TransactionType.SHIPMENT, quantity=3, reservation_id=reservation.id, **common)
    await write(ledger, TransactionType.RELEASE, quantity=2, reservation_id=reservation.id, **common)
    await write(ledger, TransactionType.SHIPMENT, quantity=4, **common)  # not against the reservation
    assert (await ledger.get_reservation(reservation.id)).remaining == 5


async def test_get_reservation_of_another_kind_of_row_is_not_found(
    conn: Conn, new_product: Factory, new_warehouse: Factory, new_user: Factory
) -> None:
    ledger = TransactionRepository(conn)
    receipt = await write(
        ledger,
        TransactionType.RECEIPT,
        product_id=await new_product(),
        to_warehouse_id=await new_warehouse(),
        performed_by=await new_user(),
    )
    for id in (receipt.id, uuid.uuid4()):
        with pytest.raises(NotFound) as caught:
            await ledger.get_reservation(id)
        assert caught.value.resource == "reservation"


async def test_ensure_live_passes_for_live_rows_in_one_statement(
    conn: Conn, new_product: Factory, new_warehouse: Factory, new_user: Factory
) -> None:
    stats = QueryStats()
    ledger = TransactionRepository(conn, stats=stats)
    references = [
        Reference("product", "product_id", await new_product()),
        Reference("warehouse", "from_warehouse_id", await new_warehouse()),
        Reference("warehouse", "to_warehouse_id", await new_warehouse()),
        Reference("user", "performed_by", await new_user()),
    ]
    await ledger.ensure_live(references)
    assert stats.snapshot()["stock_transactions.ensure_live"].queries == 1


@pytest.mark.parametrize("kind", ["product", "warehouse", "user"])
@pytest.mark.parametrize("state", ["unknown", "deleted"])
async def test_ensure_live_names_the_first_unknown_or_deleted_reference(
    conn: Conn, new_product: Factory, new_warehouse: Factory, new_user: Factory, kind: str, state: str
) -> None:
    factories = {"product": new_product, "warehouse": new_warehouse, "user": new_user}
    ids = {name: await make() for name, make in factories.items()}
    ids[kind] = uuid.uuid4() if state == "unknown" else await factories[kind](deleted=True)
    references = [Reference(name, f"{name}_field", ids[name]) for name in ("product", "warehouse", "user")]
    with pytest.raises(NotFound) as caught:
        await TransactionRepository(conn).ensure_live(references)
    assert (caught.value.resource, caught.value.key) == (kind, str(ids[kind]))
    assert caught.value.message.startswith(f"{kind}_field:")


async def test_ensure_live_holds_a_key_share_lock_that_a_deleting_transaction_must_wait_for(
    conn: Conn, migrated_dsn: str, new_product: Factory, new_warehouse: Factory, new_user: Factory
) -> None:
    warehouse = await new_warehouse()
    references = [
        Reference("product", "product_id", await new_product()),
        Reference("warehouse", "warehouse_id", warehouse),
        Reference("user", "performed_by", await new_user()),
    ]
    await conn.commit()
    await TransactionRepository(conn).ensure_live(references)  # transaction left open
    async with await psycopg.AsyncConnection.connect(
        migrated_dsn, options="-c lock_timeout=200ms"
    ) as deleter:
        with pytest.raises(psycopg.errors.LockNotAvailable):
            await deleter.execute("SELECT 1 FROM warehouses WHERE id = %s FOR UPDATE", (warehouse,))


async def test_ensure_live_waits_for_a_concurrent_delete_and_then_sees_it(
    conn: Conn, migrated_dsn: str, new_product: Factory, new_warehouse: Factory, new_user: Factory
) -> None:
    warehouse = await new_warehouse()
    references = [
        Reference("product", "product_id", await new_product()),
        Reference("warehouse", "warehouse_id", warehouse),
        Reference("user", "performed_by", await new_user()),
    ]
    await conn.commit()
    async with await psycopg.AsyncConnection.connect(migrated_dsn) as deleter:
        await deleter.execute("SELECT 1 FROM warehouses WHERE id = %s FOR UPDATE", (warehouse,))
        await deleter.execute("UPDATE warehouses SET delete_time = now() WHERE id = %s", (warehouse,))
        check = asyncio.create_task(TransactionRepository(conn).ensure_live(references))
        await asyncio.sleep(0.3)
        assert not check.done()  # blocked behind the deleting transaction's row lock
        await deleter.commit()
        with pytest.raises(NotFound) as caught:
            await check
    assert caught.value.resource == "warehouse"


# listing -----------------------------------------------------------------------
async def ledger_history(
    conn: Conn, new_product: Factory, new_warehouse: Factory, new_user: Factory
) -> tuple[TransactionRepository, list[StockTransaction], dict[str, uuid.UUID]]:
    """A receipt, transfers both ways, a shipment, a reservation and a release, by two users."""
    ledger = TransactionRepository(conn)
    ids = {
        "product": await new_product(),
        "other_product": await new_product(),
        "a": await new_warehouse(),
        "b": await new_warehouse(),
        "alice": await new_user(),
        "bob": await new_user(),
    }
    p, a, b = ids["product"], ids["a"], ids["b"]
    rows = [
        await write(
            ledger, TransactionType.RECEIPT, product_id=p, to_warehouse_id=a, performed_by=ids["alice"]
        ),
        await write(
            ledger,
            TransactionType.TRANSFER,
            product_id=p,
            from_warehouse_id=a,
            to_warehouse_id=b,
            performed_by=ids["bob"],
            reference="move-1",
        ),
        await write(
            ledger,
            TransactionType.TRANSFER,
            product_id=p,
            from_warehouse_id=b,
            to_warehouse_id=a,
            performed_by=ids["bob"],
            reference="move-2",
        ),
        await write(
            ledger, TransactionType.SHIPMENT, product_id=p, from_warehouse_id=b, performed_by=ids["alice"]
        ),
        await write(
            ledger,
            TransactionType.RECEIPT,
            product_id=ids["other_product"],
            to_warehouse_id=b,
            performed_by=ids["alice"],
        ),
    ]
    reservation = await write(
        ledger, TransactionType.RESERVATION, product_id=p, from_warehouse_id=a, performed_by=ids["bob"]
    )
    release = await write(
        ledger,
        TransactionType.RELEASE,
        product_id=p,
        from_warehouse_id=a,
        reservation_id=reservation.id,
        performed_by=ids["bob"],
    )
    return ledger, [*rows, reservation, release], ids


async def every_row(ledger: TransactionRepository, **query: Any) -> list[StockTransaction]:
    seen: list[StockTransaction] = []
    token = ""
    while True:
        page = await ledger.list(ListQuery(page_size=2, page_token=token, **query))
        seen += page.items
        token = page.next_page_token
        if not token:
            return seen


async def test_list_pages_by_create_time_in_both_directions(
    conn: Conn, new_product: Factory, new_warehouse: Factory, new_user: Factory
) -> None:
    ledger, rows, _ = await ledger_history(conn, new_product, new_warehouse, new_user)
    ascending = await every_row(ledger)
    assert [r.id for r in ascending] == [r.id for r in rows]
    descending = await every_row(ledger, order_by="create_time desc")
    assert [r.id for r in descending] == [r.id for r in reversed(rows)]


async def test_warehouse_id_matches_either_side_of_a_movement(
    conn: Conn, new_product: Factory, new_warehouse: Factory, new_user: Factory
) -> None:
    ledger, rows, ids = await ledger_history(conn, new_product, new_warehouse, new_user)
    b = ids["b"]
    touching_b = [r.id for r in rows if b in (r.from_warehouse_id, r.to_warehouse_id)]
    assert [r.id for r in await every_row(ledger, filter=f'warehouse_id = "{b}"')] == touching_b
    not_b = [r.id for r in await every_row(ledger, filter=f'warehouse_id != "{b}"')]
    assert not_b == [r.id for r in rows if r.id not in touching_b]
    from_b = await every_row(ledger, filter=f'from_warehouse_id = "{b}"')
    assert {r.reference for r in from_b if r.type is TransactionType.TRANSFER} == {"move-2"}


@pytest.mark.parametrize("spelling", ["TRANSACTION_TYPE_TRANSFER", "TRANSFER", "transfer"])
async def test_type_filter_accepts_enum_names_and_short_names(
    conn: Conn, new_product: Factory, new_warehouse: Factory, new_user: Factory, spelling: str
) -> None:
    ledger, _, _ = await ledger_history(conn, new_product, new_warehouse, new_user)
    found = await every_row(ledger, filter=f"type = {spelling}")
    assert [r.reference for r in found] == ["move-1", "move-2"]


async def test_filters_combine_over_product_user_reference_reservation_and_time(
    conn: Conn, new_product: Factory, new_warehouse: Factory, new_user: Factory
) -> None:
    ledger, rows, ids = await ledger_history(conn, new_product, new_warehouse, new_user)
    by_alice_on_product = await every_row(
        ledger, filter=f'performed_by = "{ids["alice"]}" AND product_id = "{ids["product"]}"'
    )
    assert [r.type for r in by_alice_on_product] == [TransactionType.RECEIPT, TransactionType.SHIPMENT]
    assert [r.reference for r in await every_row(ledger, filter='reference : "move"')] == ["move-1", "move-2"]
    reservation = rows[-2]
    assert [r.id for r in await every_row(ledger, filter=f'reservation_id = "{reservation.id}"')] == [
        rows[-1].id
    ]
    middle = rows[3].create_time
    since = (middle - timedelta(microseconds=1)).isoformat()
    before = (middle + timedelta(microseconds=1)).isoformat()
    window = await every_row(ledger, filter=f'create_time > "{since}" AND create_time < "{before}"')
    assert [r.id for r in window] == [rows[3].id]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        (ListQuery(filter="type = TRANSACTION_TYPE_THEFT"), "filter"),
        (ListQuery(filter="quantity > 3"), "filter"),
        (ListQuery(filter='warehouse_id = "nope"'), "filter"),
        (ListQuery(filter='warehouse_id > "00000000-0000-0000-0000-000000000000"'), "filter"),
        (ListQuery(order_by="quantity"), "order_by"),
        (ListQuery(order_by="id"), "order_by"),
        (ListQuery(page_token="garbage"), "page_token"),
    ],
)
async def test_bad_list_input_is_invalid_argument(conn: Conn, query: ListQuery, field: str) -> None:
    with pytest.raises(InvalidArgument) as caught:
        await TransactionRepository(conn).list(query)
    assert caught.value.violations[0].field == field
