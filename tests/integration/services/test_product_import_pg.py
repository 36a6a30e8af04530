"""ProductImportService against PostgreSQL: staging, batching, rejections, merge and atomicity."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import psycopg
import pytest

from inventory_server.cache import ProductCache
from inventory_server.db.transaction_manager import TransactionManager
from inventory_server.domain.errors import InvalidArgument
from inventory_server.repositories.instrumentation import query_stats
from inventory_server.repositories.unit_of_work import PostgresUnitOfWork
from inventory_server.services.product_import import ImportLimits, ImportRow, ProductImportService

from .import_helpers import by_sku, product_count, row, rows

Conn = psycopg.AsyncConnection[Any]

Transactions = TransactionManager[PostgresUnitOfWork]


def copies() -> int:
    snapshot = query_stats().snapshot().get("product_import.copy")
    return snapshot.calls if snapshot else 0


async def test_new_skus_are_inserted_and_existing_ones_updated_with_a_new_version(
    transactor: Transactions, db: Conn
) -> None:
    await db.execute("INSERT INTO products (sku, name, unit_price_minor) VALUES ('Keep-Case', 'Old', 1)")
    before = await by_sku(db, "keep-case")
    result = await ProductImportService(transactor).import_products(
        rows([row("NEW-1"), row("KEEP-CASE", "New", unit_price_minor=9)]), all_or_nothing=False
    )
    assert (result.inserted, result.updated, result.rejected_count) == (1, 1, 0)
    after = await by_sku(db, "keep-case")
    assert after["sku"] == "Keep-Case"  # the sku keeps its first spelling
    assert (after["name"], after["unit_price_minor"], after["version"]) == ("New", 9, before["version"] + 1)
    assert after["update_time"] > before["update_time"]
    assert after["create_time"] == before["create_time"]


async def test_the_stream_is_read_before_any_database_work_then_copied_a_batch_at_a_time(
    transactor: Transactions, db: Conn
) -> None:
    # Issue 9, finding 1: reading a client's stream inside the transaction let silent clients
    # hold pooled connections; now nothing reaches the database until the stream has ended.
    seen_while_streaming: list[int] = []
    start = copies()

    async def slow_stream() -> AsyncIterator[ImportRow]:
        for i in range(10):
            if i == 7:
                seen_while_streaming.append(copies() - start)
            yield row(f"B-{i}")

    service = ProductImportService(transactor, batch_rows=3)
    result = await service.import_products(slow_stream(), all_or_nothing=False)
    assert result.inserted == 10
    assert seen_while_streaming == [0]
    assert copies() - start == 4
    assert await product_count(db) == 10


async def test_a_stream_past_the_limit_is_invalid_argument_and_loads_nothing(
    transactor: Transactions, db: Conn
) -> None:
    service = ProductImportService(transactor, limits=ImportLimits(max_rows=5), batch_rows=2)
    with pytest.raises(InvalidArgument) as info:
        await service.import_products(rows(row(f"L-{i}") for i in range(6)), all_or_nothing=False)
    assert info.value.reason == "IMPORT_TOO_LARGE"
    assert info.value.violations[0].field == "stream"
    assert await product_count(db) == 0
    exactly = await service.import_products(rows(row(f"L-{i}") for i in range(5)), all_or_nothing=False)
    assert exactly.inserted == 5


async def test_a_stream_that_breaks_half_way_loads_nothing(transactor: Transactions, db: Conn) -> None:
    async def broken() -> AsyncIterator[ImportRow]:
        for i in range(7):
            yield row(f"X-{i}")
        raise ConnectionResetError("the client went away")

    with pytest.raises(ConnectionResetError):
        await ProductImportService(transactor, batch_rows=2).import_products(broken(), all_or_nothing=False)
    assert await product_count(db) == 0


async def test_later_duplicates_are_rejected_even_across_batches(transactor: Transactions, db: Conn) -> None:
    stream = [row("D-1", "first"), row("D-2"), row("D-3"), row("d-1", "second"), row("D-2", "again")]
    result = await ProductImportService(transactor, batch_rows=2).import_products(
        rows(stream), all_or_nothing=False
    )
    assert (result.inserted, result.updated, result.rejected_count) == (3, 0, 2)
    assert [(r.index, r.sku, r.reason) for r in result.rejected] == [
        (3, "d-1", "duplicates the sku of row 0"),
        (4, "D-2", "duplicates the sku of row 1"),
    ]
    assert (await by_sku(db, "D-1"))["name"] == "first"


async def test_soft_deleted_skus_are_rejected_and_stay_deleted(transactor: Transactions, db: Conn) -> None:
    await db.execute("INSERT INTO products (sku, name, delete_time) VALUES ('DEL-1', 'Gone', now())")
    result = await ProductImportService(transactor).import_products(
        rows([row("del-1", "Back"), row("LIVE-1")]), all_or_nothing=False
    )
    assert (result.inserted, result.updated, result.rejected_count) == (1, 0, 1)
    assert result.rejected[0].index == 0
    assert "deleted" in result.rejected[0].reason
    gone = await by_sku(db, "DEL-1")
    assert gone["delete_time"] is not None
    assert gone["name"] == "Gone"


async def test_all_or_nothing_rolls_back_for_any_kind_of_rejection(
    transactor: Transactions, db: Conn
) -> None:
    await db.execute("INSERT INTO products (sku, name, delete_time) VALUES ('DEL-2', 'Gone', now())")
    service = ProductImportService(transactor)
    for bad in (row("", "no sku"), row("A-1", "duplicate"), row("DEL-2")):
        result = await service.import_products(rows([row("A-1"), row("A-2"), bad]), all_or_nothing=True)
        assert (result.inserted, result.updated, result.rejected_count) == (0, 0, 1)
        assert result.rejected[0].index == 2
        assert await product_count(db) == 1  # only DEL-2


async def test_the_listing_keeps_the_first_rejections_by_index_and_the_count_all_of_them(
    transactor: Transactions,
) -> None:
    stream = [row("", "bad"), row("S-1"), row("S-1"), row("", "bad"), row("s-1"), row("", "bad")]
    result = await ProductImportService(transactor, limits=ImportLimits(max_listed=3)).import_products(
        rows(stream), all_or_nothing=False
    )
    assert result.rejected_count == 5
    assert [r.index for r in result.rejected] == [0, 2, 3]
    assert result.inserted == 1


async def test_nul_characters_are_rejected_rows_not_failed_imports(
    transactor: Transactions, db: Conn
) -> None:
    stream = [row("N-1", "a\x00b"), row("N-2", attributes={"k": "v\x00"}), row("N-3")]
    result = await ProductImportService(transactor).import_products(rows(stream), all_or_nothing=False)
    assert (result.inserted, result.rejected_count) == (1, 2)
    assert "NUL" in result.rejected[0].reason


async def test_concurrent_imports_of_the_same_skus_in_opposite_orders_both_succeed(
    transactor: Transactions, db: Conn
) -> None:
    skus = [f"C-{i:04d}" for i in range(600)]
    service = ProductImportService(transactor, batch_rows=100)
    first, second = await asyncio.gather(
        service.import_products(rows(row(s) for s in skus), all_or_nothing=False),
        service.import_products(rows(row(s) for s in reversed(skus)), all_or_nothing=False),
    )
    assert first.inserted + first.updated == second.inserted + second.updated == 600
    assert first.inserted + second.inserted == 600
    assert await product_count(db) == 600


async def test_an_import_that_updates_clears_the_local_cache_and_notifies_other_replicas(
    transactor: Transactions, db: Conn, migrated_dsn: str
) -> None:
    await db.execute(
        "INSERT INTO products (sku, name) SELECT 'U-' || g, 'old' FROM generate_series(1, 1200) g"
    )
    cache = ProductCache(10, 30.0)
    cache.resume()
    service = ProductImportService(transactor, cache)
    async with await psycopg.AsyncConnection.connect(migrated_dsn, autocommit=True) as listening:
        await listening.execute("LISTEN inventory_products")
        await service.import_products(rows(row(f"NEW-{i}") for i in range(3)), all_or_nothing=False)
        inserts_only = [n.payload async for n in listening.notifies(timeout=0.3)]
        ticket = cache.ticket()
        result = await service.import_products(
            rows(row(f"u-{i}", "new") for i in range(1, 1201)), all_or_nothing=False
        )
        assert result.updated == 1200
        assert [n.payload async for n in listening.notifies(timeout=0.5)] == ["*"]
    assert inserts_only == []
    assert cache.ticket().generation > ticket.generation  # cleared


@pytest.mark.parametrize("rows_count", [4, 5])
async def test_the_merge_runs_in_sku_ordered_chunks_and_counts_every_row(
    transactor: Transactions, db: Conn, rows_count: int
) -> None:
    await db.execute("INSERT INTO products (sku, name) VALUES ('M-1', 'old'), ('m-3', 'old')")
    stream = [row(f"M-{i}", "new") for i in reversed(range(rows_count))]
    result = await ProductImportService(transactor, merge_rows=2).import_products(
        rows(stream), all_or_nothing=False
    )
    assert (result.inserted, result.updated) == (rows_count - 2, 2)
    assert await product_count(db) == rows_count
    assert {(await by_sku(db, f"M-{i}"))["name"] for i in range(rows_count)} == {"new"}
