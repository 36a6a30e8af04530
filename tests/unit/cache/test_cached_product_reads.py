"""ProductService reads through the cache and invalidates on its own writes (fakes, no I/O)."""

from __future__ import annotations

import asyncio
import dataclasses
import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, TypeVar
from uuid import UUID

import pytest

from inventory_server.cache import ProductCache
from inventory_server.db.uow import TransactionRunner, UnitOfWork
from inventory_server.domain.errors import EtagMismatch, NotFound
from inventory_server.domain.product import Product
from inventory_server.services.products import ProductService

T = TypeVar("T")


class FakeProductRepository:
    """Products in a dict; counts reads; a read can be held open with ``hold``."""

    def __init__(self) -> None:
        self.rows: dict[UUID, Product] = {}
        self.reads = 0
        self.read_ids: list[UUID] = []
        self.hold: asyncio.Event | None = None

    def add(self, name: str = "Widget") -> Product:
        now = datetime(2026, 1, 1, tzinfo=UTC)
        product = Product(
            id=uuid.uuid4(),
            sku=f"SKU-{name}",
            name=name,
            description="",
            unit_price_minor=0,
            currency_code="",
            reorder_point=0,
            attributes={},
            create_time=now,
            update_time=now,
            delete_time=None,
            version=1,
        )
        self.rows[product.id] = product
        return product

    async def get(self, id: UUID, *, for_update: bool = False) -> Product:
        self.reads += 1
        self.read_ids.append(id)
        row = self.rows.get(id)  # the snapshot this read sees
        if self.hold is not None:
            await self.hold.wait()
        if row is None:
            raise NotFound("product", str(id))
        return row

    async def get_many(self, ids: Sequence[UUID]) -> list[Product]:
        self.reads += 1
        self.read_ids.extend(ids)
        return [self.rows[i] for i in ids if i in self.rows]

    async def update(self, id: UUID, changes: Mapping[str, Any], *, expected_version: int | None) -> Product:
        current = self.rows[id]
        if expected_version is not None and expected_version != current.version:
            raise EtagMismatch("product", str(id))
        updated = dataclasses.replace(current, **changes, version=current.version + 1)
        self.rows[id] = updated
        return updated


class FakeUnitOfWork(UnitOfWork):
    def __init__(self, products: FakeProductRepository) -> None:
        self.committing = False
        self.committed = False
        self.fake_products = products

    @property
    def products(self) -> Any:
        return self.fake_products

    async def commit(self) -> None:
        self.committed = True


class FakeRunner(TransactionRunner):
    def __init__(self, products: FakeProductRepository) -> None:
        self.products = products

    async def run(
        self, work: Callable[[UnitOfWork], Awaitable[T]], *, retryable: bool = True, read_only: bool = False
    ) -> T:
        return await work(FakeUnitOfWork(self.products))


@pytest.fixture
def repo() -> FakeProductRepository:
    return FakeProductRepository()


@pytest.fixture
def cache() -> ProductCache:
    cache = ProductCache(100, 30.0)
    cache.resume()
    return cache


@pytest.fixture
def service(repo: FakeProductRepository, cache: ProductCache) -> ProductService:
    return ProductService(FakeRunner(repo), cache)


async def test_a_second_get_is_answered_from_the_cache(
    service: ProductService, repo: FakeProductRepository, cache: ProductCache
) -> None:
    p = repo.add()
    assert await service.get(p.id) == p
    assert await service.get(p.id) == p
    assert repo.reads == 1
    assert (cache.figures().hits, cache.figures().misses) == (1, 1)


async def test_an_update_here_is_seen_by_the_next_get(
    service: ProductService, repo: FakeProductRepository
) -> None:
    p = repo.add()
    await service.get(p.id)
    await service.update(p.id, {"name": "Renamed"}, expected_version=None)
    assert (await service.get(p.id)).name == "Renamed"


async def test_a_failed_update_still_invalidates(
    service: ProductService, repo: FakeProductRepository, cache: ProductCache
) -> None:
    p = repo.add()
    await service.get(p.id)
    with pytest.raises(EtagMismatch):
        await service.update(p.id, {"name": "x"}, expected_version=99)
    assert cache.figures().size == 0


async def test_a_slow_read_overtaken_by_an_update_does_not_cache_the_old_row(
    service: ProductService, repo: FakeProductRepository
) -> None:
    p = repo.add("Old")
    repo.hold = asyncio.Event()
    slow_read = asyncio.create_task(service.get(p.id))
    await asyncio.sleep(0)  # the read has its snapshot and waits
    await service.update(p.id, {"name": "New"}, expected_version=None)
    repo.hold.set()
    repo.hold = None
    assert (await slow_read).name == "Old"  # that call began before the write: fine
    assert (await service.get(p.id)).name == "New"  # but the old row was not cached


async def test_batch_get_reads_only_what_the_cache_lacks_and_keeps_request_order(
    service: ProductService, repo: FakeProductRepository
) -> None:
    a, b, c = repo.add("a"), repo.add("b"), repo.add("c")
    await service.get(b.id)
    repo.read_ids.clear()
    got = await service.batch_get([c.id, b.id, a.id, c.id])
    assert [p.id for p in got] == [c.id, b.id, a.id, c.id]
    assert sorted(map(str, repo.read_ids)) == sorted([str(c.id), str(a.id)])
    repo.read_ids.clear()
    await service.batch_get([a.id, b.id, c.id])
    assert repo.read_ids == []


async def test_batch_get_of_an_unknown_id_is_still_not_found(
    service: ProductService, repo: FakeProductRepository
) -> None:
    a = repo.add()
    await service.get(a.id)
    with pytest.raises(NotFound):
        await service.batch_get([a.id, uuid.uuid4()])


async def test_without_a_cache_every_get_reads_the_database(repo: FakeProductRepository) -> None:
    service = ProductService(FakeRunner(repo))
    p = repo.add()
    await service.get(p.id)
    await service.get(p.id)
    assert repo.reads == 2
