"""StockMoveRepository on PostgreSQL: a one-level movement in one statement, all or nothing but the claim."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import psycopg
import pytest

from inventory_server.domain.errors import InvalidArgument
from inventory_server.domain.stock import LevelKey
from inventory_server.domain.transaction import NewTransaction, TransactionType
from inventory_server.repositories.idempotency import IdempotencyRepository
from inventory_server.repositories.stock_interfaces import Claim, LevelMove, Reference
from inventory_server.repositories.stock_levels import StockLevelRepository
from inventory_server.repositories.stock_moves import StockMoveRepository

Conn = psycopg.AsyncConnection[Any]
Factory = Callable[..., Awaitable[uuid.UUID]]
SCOPE = "inventory.v1.StockService/ShipStock"


def a_move(
    product: uuid.UUID,
    warehouse: uuid.UUID,
    user: uuid.UUID,
    *,
    on_hand: int,
    reserved: int = 0,
    request_id: str | None = "req",
) -> LevelMove:
    incoming = on_hand > 0
    return LevelMove(
        Claim(SCOPE, request_id, "fp") if request_id else None,
        [
            Reference("product", "product_id", product),
            Reference("warehouse", "warehouse_id", warehouse),
            Reference("user", "performed_by", user),
        ],
        LevelKey(warehouse, product),
        on_hand,
        reserved,
        incoming,
        NewTransaction(
            type=TransactionType.RECEIPT if incoming else TransactionType.SHIPMENT,
            product_id=product,
            quantity=abs(on_hand) or reserved,
            performed_by=user,
            request_id=request_id or "",
            to_warehouse_id=warehouse if incoming else None,
            from_warehouse_id=None if incoming else warehouse,
            caller="spiffe://test/clerk",
        ),
    )


async def ledger_rows(conn: Conn) -> int:
    row = await (await conn.execute("SELECT count(*) FROM stock_transactions")).fetchone()
    return int(row[0]) if row else -1


async def test_a_receipt_claims_creates_the_level_and_appends_its_row_at_once(
    conn: Conn, new_product: Factory, new_warehouse: Factory, new_user: Factory
) -> None:
    product, warehouse, user = await new_product(), await new_warehouse(), await new_user()
    outcome = await StockMoveRepository(conn).apply(a_move(product, warehouse, user, on_hand=5))
    assert outcome.claimed
    assert outcome.missing is None
    assert outcome.level is not None
    assert (outcome.level.on_hand, outcome.level.reserved) == (5, 0)
    assert outcome.transaction is not None
    assert outcome.transaction.type is TransactionType.RECEIPT
    assert (outcome.transaction.performed_by, outcome.transaction.caller) == (user, "spiffe://test/clerk")
    # the claim is this transaction's own: the step-by-step claim still owns it, and the store works
    assert await IdempotencyRepository(conn).claim(SCOPE, "req", "fp") is None
    await IdempotencyRepository(conn).store(SCOPE, "req", {"done": True})


async def test_a_shipment_is_guarded_and_refused_whole_when_too_few_are_available(
    conn: Conn, new_product: Factory, new_warehouse: Factory, new_user: Factory
) -> None:
    product, warehouse, user = await new_product(), await new_warehouse(), await new_user()
    moves = StockMoveRepository(conn)
    await moves.apply(a_move(product, warehouse, user, on_hand=5, request_id=None))
    refused = await moves.apply(a_move(product, warehouse, user, on_hand=-6))
    assert refused.claimed
    assert refused.missing is None
    assert (refused.level, refused.transaction) == (None, None)
    assert await ledger_rows(conn) == 1
    shipped = await moves.apply(a_move(product, warehouse, user, on_hand=-5, request_id="req-2"))
    assert shipped.level is not None
    assert shipped.level.on_hand == 0


async def test_a_reservation_cannot_take_more_than_is_available(
    conn: Conn, new_product: Factory, new_warehouse: Factory, new_user: Factory
) -> None:
    product, warehouse, user = await new_product(), await new_warehouse(), await new_user()
    moves = StockMoveRepository(conn)
    await moves.apply(a_move(product, warehouse, user, on_hand=3, request_id=None))
    assert (await moves.apply(a_move(product, warehouse, user, on_hand=0, reserved=4))).level is None
    reserved = await moves.apply(a_move(product, warehouse, user, on_hand=0, reserved=3, request_id="r2"))
    assert reserved.level is not None
    assert (reserved.level.on_hand, reserved.level.reserved) == (3, 3)


@pytest.mark.parametrize("missing", ["product", "warehouse", "user"])
async def test_a_deleted_reference_is_named_and_nothing_is_written(
    conn: Conn, new_product: Factory, new_warehouse: Factory, new_user: Factory, missing: str
) -> None:
    product = await new_product(deleted=missing == "product")
    warehouse = await new_warehouse(deleted=missing == "warehouse")
    user = await new_user(deleted=missing == "user")
    outcome = await StockMoveRepository(conn).apply(a_move(product, warehouse, user, on_hand=5))
    assert outcome.missing is not None
    assert outcome.missing.resource == missing
    assert outcome.transaction is None
    assert await ledger_rows(conn) == 0
    assert (await StockLevelRepository(conn).read(product, warehouse)).level is None


async def test_an_unknown_reference_is_named_not_a_foreign_key_error(
    conn: Conn, new_warehouse: Factory, new_user: Factory
) -> None:
    outcome = await StockMoveRepository(conn).apply(
        a_move(uuid.uuid4(), await new_warehouse(), await new_user(), on_hand=5)
    )
    assert outcome.missing is not None
    assert outcome.missing.field == "product_id"


async def test_a_used_request_id_is_not_claimed_and_nothing_moves(
    conn: Conn, new_product: Factory, new_warehouse: Factory, new_user: Factory
) -> None:
    product, warehouse, user = await new_product(), await new_warehouse(), await new_user()
    moves = StockMoveRepository(conn)
    await moves.apply(a_move(product, warehouse, user, on_hand=5))
    await IdempotencyRepository(conn).store(SCOPE, "req", {"first": True})
    await conn.commit()
    again = await moves.apply(a_move(product, warehouse, user, on_hand=5))
    assert not again.claimed
    assert again.transaction is None
    assert await ledger_rows(conn) == 1
    # the step-by-step claim then replays it, or refuses other content
    assert await IdempotencyRepository(conn).claim(SCOPE, "req", "fp") == {"first": True}
    with pytest.raises(InvalidArgument):
        await IdempotencyRepository(conn).claim(SCOPE, "req", "other")


async def test_a_concurrent_move_with_the_same_request_id_waits_for_the_first_and_moves_nothing(
    conn: Conn, migrated_dsn: str, new_product: Factory, new_warehouse: Factory, new_user: Factory
) -> None:
    product, warehouse, user = await new_product(), await new_warehouse(), await new_user()
    await conn.commit()
    first = await StockMoveRepository(conn).apply(a_move(product, warehouse, user, on_hand=5))
    assert first.transaction is not None
    async with await psycopg.AsyncConnection.connect(migrated_dsn) as other_conn:
        second = asyncio.create_task(
            StockMoveRepository(other_conn).apply(a_move(product, warehouse, user, on_hand=5))
        )
        await asyncio.sleep(0.2)
        assert not second.done(), "the second claim must wait for the first transaction"
        await IdempotencyRepository(conn).store(SCOPE, "req", {"first": True})
        await conn.commit()
        outcome = await asyncio.wait_for(second, 5)
        assert not outcome.claimed
        assert outcome.transaction is None
        await other_conn.commit()
    assert await ledger_rows(conn) == 1
    assert (await StockLevelRepository(conn).read(product, warehouse)).level.on_hand == 5  # type: ignore[union-attr]


async def test_a_sum_beyond_bigint_is_invalid_argument(
    conn: Conn, new_product: Factory, new_warehouse: Factory, new_user: Factory
) -> None:
    product, warehouse, user = await new_product(), await new_warehouse(), await new_user()
    moves = StockMoveRepository(conn)
    await moves.apply(a_move(product, warehouse, user, on_hand=2**63 - 1, request_id=None))
    with pytest.raises(InvalidArgument, match="out of range"):
        await moves.apply(a_move(product, warehouse, user, on_hand=1, request_id=None))
