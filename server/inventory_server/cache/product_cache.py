"""A bounded, read-through cache of products with TTL and race-free invalidation.

Reads take a :class:`Ticket` *before* they go to the database and hand it back
to :meth:`ProductCache.put`; a put is refused when the product was invalidated
(or the cache cleared, suspended or resumed) after the ticket was taken, so a
slow read can never put back a row that a concurrent write already replaced::

    ticket = cache.ticket()                 # before reading the database
    product = await read_from_database(id)
    cache.put(product, ticket)              # refused if id was invalidated since the ticket

Everything runs on the event loop thread: no method awaits, so none needs a lock.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from uuid import UUID

from inventory_server.domain.product import Product

# Invalidated ids remembered for in-flight reads; past this many, older tickets are refused wholesale.
MIN_REMEMBERED_INVALIDATIONS = 4096


@dataclass(frozen=True, slots=True)
class CacheFigures:
    """What ``GetStats`` reports about the cache (all zeros and disabled by default).

    >>> CacheFigures(enabled=True, size=1, max_size=10, hits=3, misses=1).hit_ratio
    0.75
    """

    enabled: bool = False
    size: int = 0
    max_size: int = 0
    hits: int = 0
    misses: int = 0
    invalidations: int = 0

    @property
    def hit_ratio(self) -> float:
        """hits / (hits + misses); 0 when there were no reads."""
        reads = self.hits + self.misses
        return self.hits / reads if reads else 0.0


@dataclass(frozen=True, slots=True)
class Ticket:
    """Taken before a database read: the cache generation then, and when the read began."""

    generation: int
    started: float


@dataclass(slots=True)
class _Entry:
    product: Product
    expires: float


class ProductCache:
    """LRU of ``max_entries`` products; entries live at most ``ttl_seconds`` from their read.

    A new cache is *suspended* (bypassed: no hits, no puts) until :meth:`resume`,
    which the listener calls once it is LISTENing; :meth:`suspend` clears and
    bypasses it again while the listener is down. ``enabled=False`` switches it off.
    """

    def __init__(
        self,
        max_entries: int = 10_000,
        ttl_seconds: float = 30.0,
        enabled: bool = True,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if max_entries < 1 or ttl_seconds <= 0:
            raise ValueError("the product cache needs max_entries >= 1 and ttl_seconds > 0")
        self.max_entries = max_entries
        self.ttl_seconds = ttl_seconds
        self.enabled = enabled
        self._clock = clock
        self._entries: OrderedDict[UUID, _Entry] = OrderedDict()
        self._available = False
        self._generation = 0
        # Tickets older than this generation are refused (set by clear, suspend, resume, pruning).
        self._floor = 0
        self._invalidated: OrderedDict[UUID, int] = OrderedDict()
        self._remembered = max(MIN_REMEMBERED_INVALIDATIONS, max_entries)
        self.hits = 0
        self.misses = 0
        self.invalidations = 0

    @classmethod
    def disabled(cls) -> ProductCache:
        """A cache that never holds anything."""
        return cls(enabled=False)

    @property
    def serving(self) -> bool:
        """True when reads may be answered from the cache."""
        return self.enabled and self._available

    # reads -------------------------------------------------------------------
    def ticket(self) -> Ticket:
        """Take this before reading the database; give it to :meth:`put` with what was read."""
        return Ticket(self._generation, self._clock())

    def get(self, id: UUID) -> Product | None:
        """The cached product, or None (a miss, counted when the cache is enabled)."""
        if not self.enabled:
            return None
        entry = self._entries.get(id) if self._available else None
        if entry is not None and entry.expires <= self._clock():
            del self._entries[id]
            entry = None
        if entry is None:
            self.misses += 1
            return None
        self._entries.move_to_end(id)
        self.hits += 1
        return entry.product

    def get_many(self, ids: Iterable[UUID]) -> dict[UUID, Product]:
        """The cached products among ``ids`` (each id counts as one hit or miss)."""
        found: dict[UUID, Product] = {}
        for id in ids:
            product = self.get(id)
            if product is not None:
                found[id] = product
        return found

    def put(self, product: Product, ticket: Ticket) -> bool:
        """Cache ``product`` read under ``ticket`` unless it may be stale; True when stored."""
        if not self.serving or ticket.generation < self._floor:
            return False
        if self._invalidated.get(product.id, -1) > ticket.generation:
            return False
        expires = ticket.started + self.ttl_seconds
        if expires <= self._clock():
            return False
        self._entries[product.id] = _Entry(product, expires)
        self._entries.move_to_end(product.id)
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)
        return True

    # invalidation --------------------------------------------------------------
    def invalidate(self, ids: Iterable[UUID]) -> int:
        """Drop ``ids`` and refuse puts of them by reads that began earlier; the number dropped."""
        self._generation += 1
        dropped = 0
        for id in ids:
            if self._entries.pop(id, None) is not None:
                dropped += 1
            self._invalidated.pop(id, None)
            self._invalidated[id] = self._generation
        while len(self._invalidated) > self._remembered:
            _, generation = self._invalidated.popitem(last=False)
            self._floor = max(self._floor, generation)
        self.invalidations += dropped
        return dropped

    def clear(self) -> int:
        """Drop everything and refuse every put by a read that began earlier; the number dropped."""
        dropped = self._forget_all()
        self.invalidations += dropped
        return dropped

    def suspend(self) -> None:
        """Empty and bypass the cache: invalidations may be missed (the listener is down).

        Not counted as invalidations: nothing is known to have changed.
        """
        self._available = False
        self._forget_all()

    def resume(self) -> None:
        """Serve from the cache again; reads that began before now cannot put (they may be stale)."""
        self._forget_all()
        self._available = True

    def _forget_all(self) -> int:
        self._generation += 1
        self._floor = self._generation
        self._invalidated.clear()
        dropped = len(self._entries)
        self._entries.clear()
        return dropped

    def figures(self) -> CacheFigures:
        return CacheFigures(
            enabled=self.enabled,
            size=len(self._entries),
            max_size=self.max_entries,
            hits=self.hits,
            misses=self.misses,
            invalidations=self.invalidations,
        )
