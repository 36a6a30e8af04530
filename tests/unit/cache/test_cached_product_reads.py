"""ProductService reads through the cache and invalidates on its own writes (fakes, no I/O)."""

from __future__ import annotations

import asyncio
import dataclasses
import uuid
from uuid import UUID

import pytest

from inventory_server.cache import ProductCache
from inventory_server.domain.errors import EtagMismatch, NotFound
from inventory_server.domain.product import Product
from inventory_server.services.products import ProductService
from tests.unit.fakes import FakeDatabase, Fakes, fake_transactor


class Products:
    """The fake database's products, and what the service read from it."""

    def __init__(self, db: FakeDatabase) -> None:
        self.db = db

    def add(self, name: str = "Widget") -> Product:
        id = self.db.add("product")
        product = dataclasses.replace(self.db.products[id], sku=f"SKU-{name}", name=name)
        self.db.products[id] = product
        return product

    @property
    def reads(self) -> int:
        return self.db.product_reads

    @property
    def read_ids(self) -> list[UUID]:
        return self.db.product_read_ids

    @property
    def hold(self) -> asyncio.Event | None:
        return self.db.hold

    @hold.setter
    def hold(self, event: asyncio.Event | None) -> None:
        self.db.hold = event


@pytest.fixture
def transactor() -> Fakes:
    return fake_transactor()


@pytest.fixture
def repo(transactor: Fakes) -> Products:
    return Products(transactor.db)


@pytest.fixture
def cache() -> ProductCache:
    cache = ProductCache(100, 30.0)
    cache.resume()
    return cache


@pytest.fixture
def service(transactor: Fakes, cache: ProductCache) -> ProductService:
    return ProductService(transactor, cache)


async def test_a_second_get_is_answered_from_the_cache(
    service: ProductService, repo: Products, cache: ProductCache
) -> None:
    p = repo.add()
    assert await service.get(p.id) == p
    assert await service.get(p.id) == p
    assert repo.reads == 1
    assert (cache.figures().hits, cache.figures().misses) == (1, 1)


async def test_an_update_here_is_seen_by_the_next_get(service: ProductService, repo: Products) -> None:
    p = repo.add()
    await service.get(p.id)
    await service.update(p.id, {"name": "Renamed"}, expected_version=None)
    assert (await service.get(p.id)).name == "Renamed"


async def test_a_failed_update_still_invalidates(
    service: ProductService, repo: Products, cache: ProductCache
) -> None:
    p = repo.add()
    await service.get(p.id)
    with pytest.raises(EtagMismatch):
        await service.update(p.id, {"name": "x"}, expected_version=99)
    assert cache.figures().size == 0


async def test_a_slow_read_overtaken_by_an_update_does_not_cache_the_old_row(
    service: ProductService, repo: Products
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
    service: ProductService, repo: Products
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


async def test_batch_get_of_an_unknown_id_is_still_not_found(service: ProductService, repo: Products) -> None:
    a = repo.add()
    await service.get(a.id)
    with pytest.raises(NotFound):
        await service.batch_get([a.id, uuid.uuid4()])


async def test_without_a_cache_every_get_reads_the_database(transactor: Fakes, repo: Products) -> None:
    service = ProductService(transactor)
    p = repo.add()
    await service.get(p.id)
    await service.get(p.id)
    assert repo.reads == 2
