"""Fixtures of the db layer's integration tests.

The query builder's tests share one scratch database (``builder_dsn``) and run
each in a rolled-back transaction (``conn``); the outage tests get a throwaway
PostgreSQL of their own that they may stop and restart (``cluster``).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator

import psycopg
import pytest
from psycopg.rows import dict_row

from tests.pg_cluster import PgCluster, throwaway_cluster

SCHEMA = """
CREATE TABLE items (
    id bigint PRIMARY KEY,
    sku text NOT NULL,
    name text NOT NULL,
    price bigint NOT NULL,
    category text,
    attributes jsonb NOT NULL DEFAULT '{}',
    delete_time timestamptz,
    version bigint NOT NULL DEFAULT 1
);
CREATE UNIQUE INDEX items_sku_key ON items (lower(sku));
CREATE TABLE levels (
    item_id bigint NOT NULL REFERENCES items (id),
    place text NOT NULL,
    qty bigint NOT NULL,
    PRIMARY KEY (place, item_id)
);
CREATE TABLE tree (id bigint PRIMARY KEY, parent_id bigint REFERENCES tree (id), label text NOT NULL);
"""


@pytest.fixture(scope="module")
def builder_dsn(database_factory: Callable[..., str]) -> str:
    dsn = database_factory()
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(SCHEMA)
    return dsn


@pytest.fixture
async def conn(builder_dsn: str) -> AsyncIterator[psycopg.AsyncConnection[dict[str, object]]]:
    """A connection inside a transaction that is rolled back after the test."""
    connection = await psycopg.AsyncConnection.connect(builder_dsn, row_factory=dict_row)
    try:
        yield connection
    finally:
        await connection.rollback()
        await connection.close()


@pytest.fixture
def cluster() -> Iterator[PgCluster]:
    """A PostgreSQL of this test's own (never the shared one on 5432)."""
    with throwaway_cluster() as started:
        yield started
