"""ProductCache: LRU bound, TTL, ticket-checked puts, suspension and figures (no I/O)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest

from inventory_server.cache import CacheFigures, ProductCache
from inventory_server.cache.product_cache import MIN_REMEMBERED_INVALIDATIONS
from inventory_server.domain.product import Product


class FakeClock:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def product(name: str = "Widget", version: int = 1, id: uuid.UUID | None = None) -> Product:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    return Product(
        id=id or uuid.uuid4(),
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
        version=version,
    )


def serving_cache(max_entries: int = 10, ttl: float = 30.0, clock: FakeClock | None = None) -> ProductCache:
    cache = ProductCache(max_entries, ttl, clock=clock or FakeClock())
    cache.resume()
    return cache


def test_a_put_product_is_served_until_invalidated() -> None:
    cache = serving_cache()
    p = product()
    assert cache.put(p, cache.ticket())
    assert cache.get(p.id) is p
    assert cache.invalidate([p.id]) == 1
    assert cache.get(p.id) is None


def test_lru_keeps_at_most_max_entries_and_evicts_the_least_recently_used() -> None:
    cache = serving_cache(max_entries=3)
    a, b, c, d = (product(n) for n in "abcd")
    for p in (a, b, c):
        cache.put(p, cache.ticket())
    assert cache.get(a.id) is a  # a is now the most recently used; b the least
    cache.put(d, cache.ticket())
    assert cache.figures().size == 3
    assert cache.get(b.id) is None
    assert [cache.get(p.id) for p in (a, c, d)] == [a, c, d]


def test_entries_expire_ttl_seconds_after_their_read_began() -> None:
    clock = FakeClock()
    cache = serving_cache(ttl=10.0, clock=clock)
    p = product()
    ticket = cache.ticket()
    clock.now += 4  # the database read took 4 s
    assert cache.put(p, ticket)
    clock.now += 5.9
    assert cache.get(p.id) is p
    clock.now += 0.2  # 10.1 s after the read began
    assert cache.get(p.id) is None
    assert cache.figures().size == 0


def test_a_read_older_than_the_ttl_is_not_stored() -> None:
    clock = FakeClock()
    cache = serving_cache(ttl=1.0, clock=clock)
    ticket = cache.ticket()
    clock.now += 2
    assert not cache.put(product(), ticket)


def test_a_read_that_began_before_an_invalidation_cannot_put_the_stale_row_back() -> None:
    cache = serving_cache()
    stale = product("old", version=1)
    ticket = cache.ticket()  # the read starts and fetches version 1 ...
    cache.invalidate([stale.id])  # ... while a write commits version 2 and invalidates
    assert not cache.put(stale, ticket)
    assert cache.get(stale.id) is None
    fresh = product("new", version=2, id=stale.id)
    assert cache.put(fresh, cache.ticket())  # a read that began afterwards may
    assert cache.get(stale.id) is fresh


def test_invalidating_another_id_does_not_block_unrelated_puts() -> None:
    cache = serving_cache()
    p, other = product("p"), product("other")
    ticket = cache.ticket()
    cache.invalidate([other.id])
    assert cache.put(p, ticket)


def test_clear_refuses_every_put_from_reads_that_began_before_it() -> None:
    cache = serving_cache()
    p = product()
    ticket = cache.ticket()
    cache.clear()
    assert not cache.put(p, ticket)


def test_forgotten_invalidations_make_old_tickets_refused_rather_than_trusted() -> None:
    cache = serving_cache(max_entries=1)
    p = product()
    ticket = cache.ticket()
    cache.invalidate([p.id])
    # so many later invalidations that the one of p is no longer remembered individually
    cache.invalidate(uuid.uuid4() for _ in range(MIN_REMEMBERED_INVALIDATIONS + 1))
    assert not cache.put(p, ticket)


def test_a_new_cache_is_bypassed_until_resumed() -> None:
    cache = ProductCache(10, 30.0)
    p = product()
    assert not cache.serving
    assert not cache.put(p, cache.ticket())
    assert cache.get(p.id) is None
    cache.resume()
    assert cache.put(p, cache.ticket())


def test_suspend_empties_and_bypasses_and_reads_begun_while_suspended_cannot_put_after_resume() -> None:
    cache = serving_cache()
    p = product()
    cache.put(p, cache.ticket())
    cache.suspend()
    assert cache.figures().size == 0
    assert cache.get(p.id) is None
    during_outage = cache.ticket()
    assert not cache.put(p, during_outage)
    cache.resume()
    assert not cache.put(p, during_outage)  # it may have missed a notification
    assert cache.put(p, cache.ticket())


def test_a_disabled_cache_holds_nothing_and_counts_nothing() -> None:
    cache = ProductCache.disabled()
    cache.resume()
    p = product()
    assert not cache.put(p, cache.ticket())
    assert cache.get(p.id) is None
    assert cache.figures() == CacheFigures(
        enabled=False, size=0, max_size=cache.max_entries, hits=0, misses=0, invalidations=0
    )


def test_figures_count_hits_misses_and_dropped_entries() -> None:
    cache = serving_cache(max_entries=5)
    a, b, c = product("a"), product("b"), product("c")
    for p in (a, b, c):
        cache.put(p, cache.ticket())
    cache.get(a.id)
    cache.get(a.id)
    cache.get(uuid.uuid4())
    assert cache.get_many([b.id, uuid.uuid4()]) == {b.id: b}
    cache.invalidate([a.id, uuid.uuid4()])  # one entry dropped; the unknown id drops nothing
    cache.clear()  # b and c
    assert cache.figures() == CacheFigures(
        enabled=True, size=0, max_size=5, hits=3, misses=2, invalidations=3
    )


def test_emptying_on_suspension_is_not_counted_as_invalidation() -> None:
    cache = serving_cache()
    cache.put(product(), cache.ticket())
    cache.suspend()
    assert (cache.figures().size, cache.figures().invalidations) == (0, 0)


def test_reads_while_suspended_count_as_misses() -> None:
    cache = ProductCache(5, 30.0)
    cache.get(uuid.uuid4())
    assert cache.figures().misses == 1


@pytest.mark.parametrize(("entries", "ttl"), [(0, 30.0), (10, 0.0), (10, -1.0)])
def test_unusable_sizes_are_refused(entries: int, ttl: float) -> None:
    with pytest.raises(ValueError, match="max_entries"):
        ProductCache(entries, ttl)
