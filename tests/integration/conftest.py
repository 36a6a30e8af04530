"""Integration fixtures: a connection to a fresh migrated database per test, and a private query recorder.

(A folder may override ``conn``: tests/integration/db uses its own scratch tables.)
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import psycopg
import pytest

from inventory_server.repositories.instrumentation import QueryStats


@pytest.fixture
async def conn(migrated_dsn: str) -> AsyncIterator[psycopg.AsyncConnection[Any]]:
    """A connection to a fresh migrated database; the test decides when to commit."""
    connection = await psycopg.AsyncConnection.connect(migrated_dsn)
    try:
        yield connection
    finally:
        await connection.rollback()
        await connection.close()


@pytest.fixture
def stats() -> QueryStats:
    """A private recorder so tests can assert on query counts."""
    return QueryStats()
