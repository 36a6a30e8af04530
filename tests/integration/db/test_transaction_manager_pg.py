"""TransactionManager on PostgreSQL: write units commit on return, retries conflicts, maps failures.

The unit of work here is the bare connection: the manager knows no repository.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from typing import Any

import psycopg
import pytest
from psycopg import errors as pg_errors

from inventory_server import context
from inventory_server.config import Settings
from inventory_server.db.database import Database
from inventory_server.db.transaction_manager import TransactionManager
from inventory_server.domain.errors import Conflict, DeadlineExceeded, Unavailable

Conn = psycopg.AsyncConnection[Any]


def manager(database: Database, **options: Any) -> TransactionManager[Conn]:
    return TransactionManager(database, lambda conn: conn, **options)


async def _database(dsn: str, **settings: object) -> Database:
    database = Database(dsn, Settings(pool_min_size=0, pool_max_size=2, **settings))  # type: ignore[arg-type]
    await database.open(wait=False)
    return database


@pytest.fixture
async def database(migrated_dsn: str) -> AsyncIterator[Database]:
    db = await _database(migrated_dsn)
    yield db
    await db.close()


async def _count(dsn: str) -> int:
    async with await psycopg.AsyncConnection.connect(dsn) as conn:
        row = await (await conn.execute("SELECT count(*) FROM warehouses")).fetchone()
    return int(row[0]) if row else -1


async def test_a_write_unit_commits_when_its_work_returns(database: Database, migrated_dsn: str) -> None:
    async def work(conn: Conn) -> None:
        await conn.execute("INSERT INTO warehouses (code, name) VALUES ('KEPT', 'kept')")

    await manager(database).write(work)
    assert await _count(migrated_dsn) == 1


async def test_a_write_unit_whose_work_raises_is_rolled_back(database: Database, migrated_dsn: str) -> None:
    async def work(conn: Conn) -> None:
        await conn.execute("INSERT INTO warehouses (code, name) VALUES ('RB', 'rolled back')")
        raise LookupError("changed my mind")

    with pytest.raises(LookupError):
        await manager(database).write(work)
    assert await _count(migrated_dsn) == 0


async def test_a_read_unit_runs_in_autocommit_and_a_write_unit_in_a_transaction(database: Database) -> None:
    async def in_transaction(conn: Conn) -> bool:
        await conn.execute("SELECT 1")
        return conn.info.transaction_status == psycopg.pq.TransactionStatus.INTRANS

    assert await manager(database).read(in_transaction) is False
    assert await manager(database).write(in_transaction) is True


async def test_serialization_failures_are_retried_until_the_work_succeeds(database: Database) -> None:
    attempts = 0

    async def work(conn: Conn) -> int:
        nonlocal attempts
        attempts += 1
        if attempts < 3:
            raise pg_errors.SerializationFailure("simulated")
        return attempts

    transactions = manager(database, max_attempts=5, base_backoff=0.001)
    assert await transactions.write(work) == 3
    assert transactions.retries == 2


async def test_persistent_deadlocks_become_conflict_and_non_retryable_work_is_not_rerun(
    database: Database,
) -> None:
    attempts = 0

    async def work(conn: Conn) -> None:
        nonlocal attempts
        attempts += 1
        raise pg_errors.DeadlockDetected("simulated")

    with pytest.raises(Conflict):
        await manager(database, max_attempts=3, base_backoff=0.001).write(work)
    assert attempts == 3
    attempts = 0
    with pytest.raises(Conflict):
        await manager(database, max_attempts=3).write(work, retryable=False)
    assert attempts == 1


async def test_statement_timeout_becomes_deadline_exceeded(migrated_dsn: str) -> None:
    database = await _database(migrated_dsn, statement_timeout_ms=100)
    try:

        async def work(conn: Conn) -> None:
            await conn.execute("SELECT pg_sleep(2)")

        started = time.monotonic()
        with pytest.raises(DeadlineExceeded):
            await manager(database).write(work)
        assert time.monotonic() - started < 1.5
    finally:
        await database.close()


async def test_the_callers_deadline_cancels_the_query(database: Database) -> None:
    async def work(conn: Conn) -> None:
        await conn.execute("SELECT pg_sleep(5)")

    token = context.deadline.set(time.monotonic() + 0.3)
    try:
        started = time.monotonic()
        with pytest.raises(DeadlineExceeded):
            await manager(database).write(work)
        assert time.monotonic() - started < 2.0
    finally:
        context.deadline.reset(token)


async def test_an_exhausted_pool_is_unavailable(migrated_dsn: str) -> None:
    database = Database(migrated_dsn, Settings(pool_min_size=0, pool_max_size=1, pool_timeout=0.2))
    await database.open(wait=False)
    held = await database.getconn()
    try:

        async def work(conn: Conn) -> None:
            await conn.execute("SELECT 1")

        with pytest.raises(Unavailable):
            await manager(database).write(work)
    finally:
        await database.putconn(held)
        await database.close()
