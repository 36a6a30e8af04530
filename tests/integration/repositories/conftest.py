"""Repositories against a freshly migrated database, one per test (``conn``, from tests/integration).

The ``new_*`` fixtures insert catalogue rows directly (for the stock
repositories' tests, which are about stock); the test commits when other
connections must see them.
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import psycopg
import pytest

Conn = psycopg.AsyncConnection[Any]


async def insert_product(conn: Conn, *, reorder_point: int = 0, deleted: bool = False) -> uuid.UUID:
    """A product row (written directly: the tests are about stock, not products)."""
    product_id = uuid.uuid4()
    await conn.execute(
        "INSERT INTO products (id, sku, name, reorder_point, delete_time)"
        " VALUES (%s, %s, 'Widget', %s, CASE WHEN %s THEN now() END)",
        (product_id, f"SKU-{product_id.hex[:10]}", reorder_point, deleted),
    )
    return product_id


async def insert_warehouse(conn: Conn, *, deleted: bool = False) -> uuid.UUID:
    warehouse_id = uuid.uuid4()
    await conn.execute(
        "INSERT INTO warehouses (id, code, name, delete_time)"
        " VALUES (%s, %s, 'Depot', CASE WHEN %s THEN now() END)",
        (warehouse_id, f"WH-{warehouse_id.hex[:10]}", deleted),
    )
    return warehouse_id


async def insert_user(conn: Conn, *, deleted: bool = False) -> uuid.UUID:
    user_id = uuid.uuid4()
    await conn.execute(
        "INSERT INTO users (id, email, role, password_hash, delete_time)"
        " VALUES (%s, %s, 'clerk', 'x', CASE WHEN %s THEN now() END)",
        (user_id, f"{user_id.hex[:10]}@example.com", deleted),
    )
    return user_id


Factory = Callable[..., Awaitable[uuid.UUID]]


@pytest.fixture
def new_product(conn: Conn) -> Factory:
    """``await new_product(reorder_point=5, deleted=False)`` inserts a product and returns its id."""
    return functools.partial(insert_product, conn)


@pytest.fixture
def new_warehouse(conn: Conn) -> Factory:
    return functools.partial(insert_warehouse, conn)


@pytest.fixture
def new_user(conn: Conn) -> Factory:
    return functools.partial(insert_user, conn)
