"""The Stats use case: gather in-process figures and the database's own, in one snapshot.

In-process figures (pool, health, methods, queries, cache, transactions) are
read first and cost no I/O; they are always answered. The database figures
come last, from a ``DatabaseSource``, and are simply empty when the database
cannot answer. Reading never takes a lock and never resets a counter, so the
hot path that records the figures is untouched by how often operators ask.

Each source is typed by the one thing Stats asks of it; the composition root
(``app.py``) hands in the live objects (the pool owner, the health monitor, the
interceptor's method figures, the query recorder, the product cache, the
transaction manager).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Protocol

from inventory_server import __version__
from inventory_server.cache.product_cache import CacheFigures
from inventory_server.db.health import HealthFigures
from inventory_server.db.replicas import ReplicaFigures
from inventory_server.repositories.instrumentation import OperationStats
from inventory_server.services.stats.figures import (
    DatabaseReading,
    MethodFigure,
    PoolFigures,
    Recommendation,
    StatsSnapshot,
    TransactionFigures,
)
from inventory_server.services.stats.recommendation import recommend


class PoolSource(Protocol):
    """``Database``: ``pool.get_stats()`` plus its own counters, as a flat dict."""

    def stats(self) -> Mapping[str, int]: ...


class HealthSource(Protocol):
    """``HealthMonitor``: what the last checks saw."""

    @property
    def figures(self) -> HealthFigures: ...


class MethodSource(Protocol):
    """``api.metrics.MethodStats``: per-method calls, codes and latencies."""

    def snapshot(self) -> list[MethodFigure]: ...


class QuerySource(Protocol):
    """``repositories.instrumentation.QueryStats``: per-operation counts and latencies."""

    def snapshot(self) -> Mapping[str, OperationStats]: ...


class CacheSource(Protocol):
    """``ProductCache``."""

    def figures(self) -> CacheFigures: ...


class TransactionCounters(Protocol):
    """The transaction manager's retry and conflict counters."""

    @property
    def retries(self) -> int: ...

    @property
    def conflicts(self) -> int: ...


class DatabaseSource(Protocol):
    """Where the database's own figures come from (``DatabaseReader`` or a fake)."""

    async def read(self) -> DatabaseReading: ...


class ReplicaSource(Protocol):
    """``db.replicas.ReplicaSet``: per-replica figures, no I/O."""

    def stats_figures(self) -> ReplicaFigures: ...


@dataclass(frozen=True)
class StatsSources:
    """The live objects the figures are read from."""

    pool: PoolSource
    health: HealthSource
    methods: MethodSource
    queries: QuerySource
    cache: CacheSource
    transactions: TransactionCounters
    database: DatabaseSource
    started_at: float
    clock: Callable[[], float] = time.monotonic
    server_version: str = __version__
    replicas: ReplicaSource | None = None


class StatsService:
    """Answers GetStats from ``StatsSources``."""

    def __init__(self, sources: StatsSources) -> None:
        self.sources = sources

    async def snapshot(self) -> StatsSnapshot:
        s = self.sources
        pool = PoolFigures.from_pool_stats(s.pool.stats())
        health = replace(s.health.figures)  # a copy: the monitor keeps updating its own
        uptime = max(0.0, s.clock() - s.started_at)
        advice = recommend(pool, uptime_seconds=uptime, serving=health.serving)
        replicas = ReplicaFigures([], 0) if s.replicas is None else s.replicas.stats_figures()
        if replicas.replicas:
            advice = with_replicas(advice, replicas, pool.max_size)
        return StatsSnapshot(
            pool=pool,
            health=health,
            methods=s.methods.snapshot(),
            queries=dict(s.queries.snapshot()),
            cache=s.cache.figures(),
            transactions=TransactionFigures(
                retries=s.transactions.retries, conflicts=s.transactions.conflicts
            ),
            database=await s.database.read(),
            server_version=s.server_version,
            uptime_seconds=uptime,
            recommendation=advice,
            replicas=replicas,
        )


def with_replicas(advice: Recommendation, replicas: ReplicaFigures, max_size: int) -> Recommendation:
    """The primary pool's advice plus what the replicas' pools add to the connection budget.

    The size applies to the primary's pool and each replica's alike (one setting); with
    replicas the primary serves only writes and the reads the replicas could not take.
    """
    usable = sum(1 for r in replicas.replicas if r.state == "healthy")
    return Recommendation(
        advice.max_size,
        f"{advice.reason}; with {len(replicas.replicas)} read replica(s) ({usable} usable, "
        f"{replicas.share:.0%} of eligible reads served there) each service replica may also open "
        f"up to {max_size} connections on every standby: budget them against its max_connections",
    )
