"""Real PostgreSQL errors become the right domain errors; infrastructure errors pass through."""

from __future__ import annotations

import uuid
from typing import Any

import psycopg
import pytest

from inventory_server.db.query import Statement, col, delete, insert, update
from inventory_server.domain.errors import AlreadyExists, FailedPrecondition, InvalidArgument, NotFound
from inventory_server.repositories.executor import StatementExecutor
from inventory_server.repositories.instrumentation import QueryStats

Conn = psycopg.AsyncConnection[Any]


async def run(conn: Conn, statement: Statement) -> None:
    """Run ``statement`` the way every repository call does: inside an operation."""
    executor = StatementExecutor(conn, stats=QueryStats())
    with executor.operation("test"):
        await executor.execute(statement)


async def make_stock(conn: Conn, on_hand: int = 5, reserved: int = 0) -> tuple[uuid.UUID, uuid.UUID]:
    product_id, warehouse_id = uuid.uuid4(), uuid.uuid4()
    await run(conn, insert("products").values({"id": product_id, "sku": "P-1", "name": "P"}))
    await run(conn, insert("warehouses").values({"id": warehouse_id, "code": "W-1", "name": "W"}))
    level = {"product_id": product_id, "warehouse_id": warehouse_id, "on_hand": on_hand, "reserved": reserved}
    await run(conn, insert("stock_levels").values(level))
    return product_id, warehouse_id


async def test_unique_index_violation_names_resource_and_field(conn: Conn) -> None:
    await run(conn, insert("warehouses").values({"code": "Main", "name": "W"}))
    with pytest.raises(AlreadyExists) as caught:
        await run(conn, insert("warehouses").values({"code": "MAIN", "name": "W2"}))
    assert (caught.value.resource, caught.value.field_name, caught.value.value) == (
        "warehouse",
        "code",
        "main",
    )


async def test_missing_reference_is_not_found(conn: Conn) -> None:
    missing = uuid.uuid4()
    with pytest.raises(NotFound) as caught:
        await run(conn, insert("stock_levels").values({"product_id": missing, "warehouse_id": uuid.uuid4()}))
    assert caught.value.resource == "product"
    assert caught.value.key == str(missing)


async def test_deleting_a_referenced_row_is_failed_precondition(conn: Conn) -> None:
    product_id, _ = await make_stock(conn)
    with pytest.raises(FailedPrecondition) as caught:
        await run(conn, delete("products").where(col("id").eq(product_id)))
    assert caught.value.reason == "STILL_REFERENCED"


@pytest.mark.parametrize(
    "change",
    [{"on_hand": col("on_hand") - 6}, {"reserved": col("on_hand") + 1}, {"reserved": -1}],
)
async def test_stock_check_violations_are_insufficient_stock(conn: Conn, change: dict[str, Any]) -> None:
    product_id, _ = await make_stock(conn, on_hand=5)
    with pytest.raises(FailedPrecondition) as caught:
        await run(conn, update("stock_levels").set(change).where(col("product_id").eq(product_id)))
    assert caught.value.reason == "INSUFFICIENT_STOCK"
    assert caught.value.violations[0].type == "STOCK"


async def test_other_check_violations_are_failed_preconditions(conn: Conn) -> None:
    with pytest.raises(FailedPrecondition) as caught:
        await run(conn, insert("products").values({"sku": "X", "name": "X", "unit_price_minor": -1}))
    assert caught.value.reason == "CONSTRAINT_VIOLATION"


async def test_not_null_violation_names_the_column(conn: Conn) -> None:
    with pytest.raises(InvalidArgument) as caught:
        await run(conn, insert("products").values({"sku": "X", "name": None}))
    assert caught.value.violations[0].field == "name"


async def test_malformed_uuid_text_is_invalid_argument(conn: Conn) -> None:
    with pytest.raises(InvalidArgument) as caught:
        await run(conn, update("products").set(name="x").where(col("id").eq("not-a-uuid")))
    assert "uuid" in caught.value.message


async def test_ledger_rows_cannot_change(conn: Conn) -> None:
    product_id, warehouse_id = await make_stock(conn)
    user_id = uuid.uuid4()
    user = {"id": user_id, "email": "a@b.c", "role": "admin", "password_hash": "h"}
    await run(conn, insert("users").values(user))
    movement = {
        "type": "receipt",
        "product_id": product_id,
        "to_warehouse_id": warehouse_id,
        "quantity": 5,
        "performed_by": user_id,
        "request_id": "r1",
    }
    await run(conn, insert("stock_transactions").values(movement))
    with pytest.raises(FailedPrecondition) as caught:
        await run(conn, update("stock_transactions").set(quantity=6).where(col("request_id").eq("r1")))
    assert caught.value.reason == "CHANGE_NOT_ALLOWED"


async def test_infrastructure_errors_pass_through_untouched(conn: Conn) -> None:
    serialization_failure = "DO $$ BEGIN RAISE EXCEPTION 'x' USING ERRCODE = 'serialization_failure'; END $$"
    executor = StatementExecutor(conn, stats=QueryStats())
    with pytest.raises(psycopg.errors.SerializationFailure), executor.operation("test"):
        await conn.execute(serialization_failure)
    await conn.rollback()
    await conn.execute("SET statement_timeout = '10ms'")
    with pytest.raises(psycopg.errors.QueryCanceled), executor.operation("test"):
        await conn.execute("SELECT pg_sleep(1)")
