"""Services over a real pool and a fresh migrated database per test.

``transactor`` is what the services run on; ``db`` a session to look at (and
prepare) the data.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import psycopg
import pytest

from inventory_server.config import Settings
from inventory_server.db.database import Database
from inventory_server.db.transaction_manager import TransactionManager
from inventory_server.repositories.unit_of_work import PostgresUnitOfWork


@pytest.fixture
async def transactor(migrated_dsn: str) -> AsyncIterator[TransactionManager[PostgresUnitOfWork]]:
    database = Database(migrated_dsn, Settings(pool_min_size=1, pool_max_size=3))
    await database.open(wait=True)
    try:
        yield TransactionManager(database, PostgresUnitOfWork)
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
