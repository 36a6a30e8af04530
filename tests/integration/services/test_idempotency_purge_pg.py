"""IdempotencyPurger on PostgreSQL: expired request_id keys go, recent ones stay."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta

import psycopg
import pytest

from inventory_server.config import Settings
from inventory_server.db.database import Database
from inventory_server.db.transaction_manager import TransactionManager
from inventory_server.repositories.unit_of_work import PostgresUnitOfWork
from inventory_server.services import maintenance
from inventory_server.services.maintenance import IdempotencyPurger


@pytest.fixture
async def transactor(migrated_dsn: str) -> AsyncIterator[TransactionManager[PostgresUnitOfWork]]:
    database = Database(migrated_dsn, Settings(pool_min_size=0, pool_max_size=2))
    await database.open(wait=False)
    yield TransactionManager(database, PostgresUnitOfWork)
    await database.close()


def _keys(dsn: str, old: int, recent: int) -> None:
    with psycopg.connect(dsn) as conn:
        conn.execute(
            "INSERT INTO idempotency_keys (scope, request_id, fingerprint, create_time) "
            "SELECT 'S', 'old-' || g, 'f', now() - interval '10 days' FROM generate_series(1, %s) g",
            [old],
        )
        conn.execute(
            "INSERT INTO idempotency_keys (scope, request_id, fingerprint) "
            "SELECT 'S', 'new-' || g, 'f' FROM generate_series(1, %s) g",
            [recent],
        )


def _remaining(dsn: str) -> list[str]:
    with psycopg.connect(dsn) as conn:
        return sorted({r[0].split("-")[0] for r in conn.execute("SELECT request_id FROM idempotency_keys")})


async def test_keys_past_retention_are_purged_in_batches_and_recent_ones_kept(
    transactor: TransactionManager[PostgresUnitOfWork], migrated_dsn: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(maintenance, "PURGE_BATCH", 7)
    _keys(migrated_dsn, old=20, recent=3)
    purger = IdempotencyPurger(transactor, retention=timedelta(days=7), interval=3600)
    assert await purger.run_once() == 20
    assert _remaining(migrated_dsn) == ["new"]
    assert await purger.run_once() == 0
    assert purger.purged == 20


async def test_the_background_loop_purges_on_its_interval(
    transactor: TransactionManager[PostgresUnitOfWork], migrated_dsn: str
) -> None:
    _keys(migrated_dsn, old=2, recent=1)
    purger = IdempotencyPurger(transactor, retention=timedelta(days=7), interval=0.05)
    purger.start()
    try:
        for _ in range(100):
            if purger.purged == 2:
                break
            await asyncio.sleep(0.05)
    finally:
        await purger.stop()
    assert purger.purged == 2
    assert _remaining(migrated_dsn) == ["new"]
