"""ImportProducts' service over a real pool and a fresh migrated database per test."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import psycopg
import pytest

from inventory_server.config import Settings
from inventory_server.db.database import Database
from inventory_server.db.uow import TransactionRunner


@pytest.fixture
async def runner(migrated_dsn: str) -> AsyncIterator[TransactionRunner]:
    database = Database(migrated_dsn, Settings(pool_min_size=1, pool_max_size=3))
    await database.open(wait=True)
    try:
        yield TransactionRunner(database)
    finally:
        await database.close()


@pytest.fixture
async def db(migrated_dsn: str) -> AsyncIterator[psycopg.AsyncConnection[Any]]:
    """A session to look at (and prepare) the data, committing each statement."""
    conn = await psycopg.AsyncConnection.connect(migrated_dsn, autocommit=True)
    try:
        yield conn
    finally:
        await conn.close()
