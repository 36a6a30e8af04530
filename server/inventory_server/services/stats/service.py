"""The Stats use case: gather in-process figures and the database's own, in one snapshot.

In-process figures (pool, health, methods, queries, cache) are read first and
cost no I/O; they are always answered. The database figures come last, from
``DatabaseReader``, and are simply empty when the database cannot answer.
Reading never takes a lock and never resets a counter, so the hot path that
records the figures is untouched by how often operators ask.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from inventory_server import __version__
from inventory_server.db.health import HealthFigures
from inventory_server.repositories.instrumentation import OperationStats
from inventory_server.services.stats.figures import (
    CacheSnapshot,
    DatabaseReading,
    HealthSnapshot,
    MethodFigure,
    PoolFigures,
    QueryFigure,
    StatsSnapshot,
)
from inventory_server.services.stats.recommendation import recommend

# (method, calls, errors by code, p50 ms, p95 ms, p99 ms), as ``api.metrics.MethodStats.snapshot``.
MethodRow = tuple[str, int, dict[str, int], float, float, float]


class DatabaseSource(Protocol):
    """Where the database's own figures come from (``DatabaseReader`` or a fake)."""

    async def read(self) -> DatabaseReading: ...


@dataclass(frozen=True)
class StatsSources:
    """The live objects the figures are read from, each behind a cheap callable."""

    pool_stats: Callable[[], Mapping[str, int]]
    health: Callable[[], HealthFigures]
    methods: Callable[[], Iterable[MethodRow]]
    queries: Callable[[], Mapping[str, OperationStats]]
    cache: Callable[[], Any]
    database: DatabaseSource
    started_at: float
    clock: Callable[[], float] = time.monotonic
    server_version: str = __version__


def cache_snapshot(cache: Any) -> CacheSnapshot:
    """``cache.figures()`` (CacheFigures: enabled, size, max_size, hits, misses, invalidations).

    No cache at all (``None``) reads as disabled with zeros.
    """
    if cache is None:
        return CacheSnapshot()
    f = cache.figures()
    return CacheSnapshot(
        enabled=bool(getattr(f, "enabled", True)),
        size=int(getattr(f, "size", 0)),
        max_size=int(getattr(f, "max_size", 0)),
        hits=int(getattr(f, "hits", 0)),
        misses=int(getattr(f, "misses", 0)),
        invalidations=int(getattr(f, "invalidations", 0)),
    )


class StatsService:
    """Answers GetStats from ``StatsSources``."""

    def __init__(self, sources: StatsSources) -> None:
        self.sources = sources

    async def snapshot(self) -> StatsSnapshot:
        s = self.sources
        pool = PoolFigures.from_pool_stats(s.pool_stats())
        h = s.health()
        health = HealthSnapshot(
            serving=h.serving,
            checks=h.checks,
            consecutive_failures=h.consecutive_failures,
            latency_ms=h.latency_ms,
            last_check_time=h.last_check_time,
        )
        methods = [
            MethodFigure(name, calls, errors, p50, p95, p99)
            for name, calls, errors, p50, p95, p99 in s.methods()
        ]
        queries = [
            QueryFigure(name, op.calls, op.mean_ms, op.p95_ms, op.errors) for name, op in s.queries().items()
        ]
        cache = cache_snapshot(s.cache())
        uptime = max(0.0, s.clock() - s.started_at)
        advice = recommend(pool, uptime_seconds=uptime, serving=health.serving)
        database = await s.database.read()
        return StatsSnapshot(
            pool=pool,
            health=health,
            methods=methods,
            queries=queries,
            cache=cache,
            database=database,
            server_version=s.server_version,
            uptime_seconds=uptime,
            recommendation=advice,
        )
