"""Fixtures for the cache listener against real PostgreSQL: a cache, a running listener, a writer."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import psycopg
import pytest

from inventory_server.cache import ProductCache
from inventory_server.cache.listener import ProductChangeListener, listener_connect_kwargs

from .cache_helpers import APPLICATION, HEARTBEAT


@pytest.fixture
def cache() -> ProductCache:
    return ProductCache(1000, 60.0)


@pytest.fixture
async def listener(migrated_dsn: str, cache: ProductCache) -> AsyncIterator[ProductChangeListener]:
    """A listener on the test database, LISTENing before the test starts."""
    running = ProductChangeListener(
        migrated_dsn,
        cache,
        heartbeat_interval=HEARTBEAT,
        max_backoff=0.5,
        connect_kwargs=listener_connect_kwargs(APPLICATION, HEARTBEAT),
    )
    await running.start()
    try:
        assert await running.wait_listening(10), "the listener did not come up"
        yield running
    finally:
        await running.stop()


@pytest.fixture
async def writer(migrated_dsn: str) -> AsyncIterator[psycopg.AsyncConnection[Any]]:
    """Another session that changes products, committing each statement."""
    conn = await psycopg.AsyncConnection.connect(migrated_dsn, autocommit=True)
    try:
        yield conn
    finally:
        await conn.close()
