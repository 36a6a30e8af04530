"""The figures GetStats answers; the servicer maps each of them onto its proto message once.

One dataclass per figure, defined where it is measured: ``HealthFigures`` by
the health monitor (db), ``CacheFigures`` by the product cache,
``OperationStats`` by the query instrumentation (repositories),
``DatabaseFigures`` by the database-stats repository; the ones defined here
(pool, method, transaction) are read from counters that keep no snapshot type
of their own. Every class is a frozen value, so the use case can be tested
without gRPC or a database.

>>> PoolFigures.from_pool_stats({"pool_size": 4, "pool_available": 1, "pool_max": 10}).in_use
3
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from inventory_server.cache.product_cache import CacheFigures
from inventory_server.db.health import HealthFigures
from inventory_server.db.replicas import ReplicaFigures
from inventory_server.repositories.database_stats import DatabaseFigures
from inventory_server.repositories.instrumentation import OperationStats


@dataclass(frozen=True, slots=True)
class PoolFigures:
    """The connection pool: ``psycopg_pool.get_stats()`` keys plus ``Database``'s own counters.

    ``get_stats()`` leaves out counters that never moved, so every key defaults to 0.
    ``waiting`` prefers ``acquiring`` (requests inside ``Database.getconn`` now): the
    pool's ``requests_waiting`` keeps requests that already timed out until a
    connection turns up, so it grows through an outage. ``connections_lost`` adds
    the connections the pool's check found broken and those handed back broken.
    """

    size: int = 0
    idle: int = 0
    waiting: int = 0
    min_size: int = 0
    max_size: int = 0
    connections_made: int = 0
    connections_lost: int = 0
    acquisition_timeouts: int = 0
    wait_time_ms: float = 0.0
    requests: int = 0
    requests_waited: int = 0
    usage_ms: float = 0.0

    @property
    def in_use(self) -> int:
        """Connections lent out (open connections that are not idle); never negative."""
        return max(0, self.size - self.idle)

    @classmethod
    def from_pool_stats(cls, stats: Mapping[str, int]) -> PoolFigures:
        """Read the flat dict of ``Database.stats()`` (``pool.get_stats()`` + ``acquisition_timeouts``)."""
        return cls(
            size=stats.get("pool_size", 0),
            idle=stats.get("pool_available", 0),
            waiting=stats.get("acquiring", stats.get("requests_waiting", 0)),
            min_size=stats.get("pool_min", 0),
            max_size=stats.get("pool_max", 0),
            connections_made=stats.get("connections_num", 0),
            connections_lost=stats.get("connections_lost", 0) + stats.get("returns_bad", 0),
            acquisition_timeouts=stats.get("acquisition_timeouts", stats.get("requests_errors", 0)),
            wait_time_ms=float(stats.get("requests_wait_ms", 0)),
            requests=stats.get("requests_num", 0),
            requests_waited=stats.get("requests_queued", 0),
            usage_ms=float(stats.get("usage_ms", 0)),
        )


@dataclass(frozen=True, slots=True)
class MethodFigure:
    """One RPC method: calls, non-OK codes and latency percentiles (ms)."""

    method: str
    calls: int
    errors_by_code: Mapping[str, int]
    p50_ms: float
    p95_ms: float
    p99_ms: float


@dataclass(frozen=True, slots=True)
class TransactionFigures:
    """The transaction manager's counters since start.

    ``retries``: attempts run again after a serialization failure or deadlock;
    ``conflicts``: units of work that gave up on one (the caller got ABORTED).
    """

    retries: int = 0
    conflicts: int = 0


@dataclass(frozen=True, slots=True)
class DatabaseReading:
    """One read of the database: its figures (None when it could not be read) and versions.

    The versions are the last ones seen, so they survive an outage; they are ""
    until the database has answered once.
    """

    figures: DatabaseFigures | None = None
    schema_version: str = ""
    server_version: str = ""


@dataclass(frozen=True, slots=True)
class Recommendation:
    """A suggested pool ``max_size`` and why."""

    max_size: int
    reason: str


@dataclass(frozen=True, slots=True)
class StatsSnapshot:
    """Everything GetStats answers."""

    pool: PoolFigures
    health: HealthFigures
    methods: list[MethodFigure] = field(default_factory=list)
    queries: Mapping[str, OperationStats] = field(default_factory=dict)
    cache: CacheFigures = field(default_factory=CacheFigures)
    transactions: TransactionFigures = field(default_factory=TransactionFigures)
    database: DatabaseReading = field(default_factory=DatabaseReading)
    server_version: str = ""
    uptime_seconds: float = 0.0
    recommendation: Recommendation = field(default_factory=lambda: Recommendation(0, ""))
    replicas: ReplicaFigures = field(default_factory=lambda: ReplicaFigures([], 0))
