"""Prometheus metrics: the standard gRPC server series plus the service's own figures.

The ``grpc_server_*`` series carry the names and labels of go-grpc-prometheus
and grpc-ecosystem's Python interceptors, so existing gRPC dashboards and
alerts work unchanged. They are counted on the call path with label children
bound once per method (``MethodMetrics``): a call costs a few lock-protected
additions, never a label lookup.

Everything else (pool, database health, cache, transactions, replays, schema
version) is not counted twice: ``ServiceCollector`` reads it at scrape time
from the same typed sources the Stats RPC reads (``services.stats``), so the
two can never disagree.

Per process: each server process has its own registry and endpoint. Unlike the
Stats RPC's percentiles, the ``grpc_server_handling_seconds`` histogram's
buckets add up across replicas and processes (``sum by (le) (rate(...))``).
docs/operations.md, "Metrics, traces and logs", says what a multi-process
mode would need (``PROMETHEUS_MULTIPROC_DIR``).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterator
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass, field, replace
from typing import Any, Literal, Protocol
from wsgiref.simple_server import WSGIServer

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, start_http_server
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, InfoMetricFamily, Metric
from prometheus_client.gc_collector import GCCollector
from prometheus_client.platform_collector import PlatformCollector
from prometheus_client.process_collector import ProcessCollector
from prometheus_client.registry import Collector

from inventory_server import __version__
from inventory_server.cache.product_cache import CacheFigures
from inventory_server.db.health import HealthFigures
from inventory_server.services.stats.figures import PoolFigures, TransactionFigures
from inventory_server.services.stats.service import (
    CacheSource,
    DatabaseSource,
    HealthSource,
    PoolSource,
    TransactionCounters,
)

log = logging.getLogger(__name__)

# The gRPC call types as go-grpc-prometheus names them (the grpc_type label).
UNARY = "unary"
CLIENT_STREAM = "client_stream"
SERVER_STREAM = "server_stream"
BIDI_STREAM = "bidi_stream"

# Seconds; prometheus-client's (and Go client's) default buckets, which gRPC dashboards assume.
HANDLING_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0)


class MethodMetrics:
    """The label children of one method, bound once; the interceptor bumps these."""

    __slots__ = ("_handled", "_handled_children", "_labels", "handling", "received", "sent", "started")

    def __init__(self, metrics: GrpcMetrics, service: str, method: str, grpc_type: str) -> None:
        self._labels = (service, method, grpc_type)
        self.started = metrics.started.labels(*self._labels)
        self.received = metrics.received.labels(*self._labels)
        self.sent = metrics.sent.labels(*self._labels)
        self.handling = metrics.handling.labels(*self._labels)
        self._handled = metrics.handled
        self._handled_children: dict[str, Any] = {}

    def handled(self, code: str) -> Any:
        """The ``grpc_server_handled_total`` child of this method for a status code name."""
        child = self._handled_children.get(code)
        if child is None:
            child = self._handled_children[code] = self._handled.labels(*self._labels, code)
        return child


class GrpcMetrics:
    """The five ``grpc_server_*`` series, registered in ``registry``."""

    def __init__(self, registry: CollectorRegistry) -> None:
        labels = ("grpc_service", "grpc_method", "grpc_type")
        self.started = Counter(
            "grpc_server_started", "Total number of RPCs started on the server.", labels, registry=registry
        )
        self.handled = Counter(
            "grpc_server_handled",
            "Total number of RPCs completed on the server, regardless of success or failure.",
            (*labels, "grpc_code"),
            registry=registry,
        )
        self.handling = Histogram(
            "grpc_server_handling_seconds",
            "Histogram of response latency (seconds) of gRPC that had been application-level "
            "handled by the server.",
            labels,
            buckets=HANDLING_BUCKETS,
            registry=registry,
        )
        self.received = Counter(
            "grpc_server_msg_received", "Total number of RPC stream messages received on the server.",
            labels, registry=registry,
        )  # fmt: skip
        self.sent = Counter(
            "grpc_server_msg_sent", "Total number of gRPC stream messages sent by the server.",
            labels, registry=registry,
        )  # fmt: skip
        self._methods: dict[tuple[str, str], MethodMetrics] = {}

    def method(self, full_method: str, grpc_type: str) -> MethodMetrics:
        """The bound children of "/package.Service/Method" (created on its first call)."""
        found = self._methods.get((full_method, grpc_type))
        if found is None:
            service, _, name = full_method.lstrip("/").rpartition("/")
            found = self._methods[(full_method, grpc_type)] = MethodMetrics(self, service, name, grpc_type)
        return found


class ReplayCounter(Protocol):
    """``repositories.instrumentation.QueryStats``: request_id replays answered from the stored result."""

    @property
    def replays(self) -> int: ...


@dataclass(frozen=True)
class ServiceSources:
    """The live objects the service's own figures are read from (the ones Stats reads)."""

    pool: PoolSource
    health: HealthSource
    cache: CacheSource
    transactions: TransactionCounters
    replays: ReplayCounter
    database: DatabaseSource


@dataclass(frozen=True, slots=True)
class ServiceFigures:
    """One read of every source, taken on the event loop (where the sources are updated)."""

    pool: PoolFigures = field(default_factory=PoolFigures)
    health: HealthFigures = field(default_factory=HealthFigures)
    cache: CacheFigures = field(default_factory=CacheFigures)
    transactions: TransactionFigures = field(default_factory=TransactionFigures)
    replays: int = 0
    schema_version: str = ""


async def read_service_figures(sources: ServiceSources) -> ServiceFigures:
    """The figures now; the schema version through the Stats reader (last one seen during an outage)."""
    s = sources
    figures = ServiceFigures(
        pool=PoolFigures.from_pool_stats(s.pool.stats()),
        health=replace(s.health.figures),
        cache=s.cache.figures(),
        transactions=TransactionFigures(retries=s.transactions.retries, conflicts=s.transactions.conflicts),
        replays=s.replays.replays,
    )
    return replace(figures, schema_version=(await s.database.read()).schema_version)


def figures_from_loop(
    sources: ServiceSources, loop: asyncio.AbstractEventLoop, timeout: float
) -> Callable[[], ServiceFigures]:
    """A callable for the scrape thread: ``read_service_figures`` run on the server's event loop.

    The sources are plain counters the loop thread updates without locks, so
    they are read there, not from the HTTP thread. A scrape that cannot get an
    answer within ``timeout`` (a loop stuck, a server stopping) gets the last
    figures instead of hanging.
    """
    last = ServiceFigures()

    def read() -> ServiceFigures:
        nonlocal last
        if loop.is_closed():
            return last
        future = asyncio.run_coroutine_threadsafe(read_service_figures(sources), loop)
        try:
            last = future.result(timeout)
        except FutureTimeout:
            future.cancel()
            log.warning("metrics scrape: no answer from the event loop in %.1fs; last figures", timeout)
        except Exception as exc:  # a scrape must never fail because a source did
            log.warning("metrics scrape: figures unavailable (%s); last figures served", type(exc).__name__)
        return last

    return read


class ServiceCollector(Collector):
    """Pool, health, cache, transaction, replay and schema figures, read when Prometheus scrapes."""

    def __init__(self, read: Callable[[], ServiceFigures]) -> None:
        self.read = read

    def describe(self) -> Iterator[Metric]:
        # Names only: the registry then need not call collect() (and read the sources) at registration.
        yield from families(ServiceFigures())

    def collect(self) -> Iterator[Metric]:
        yield from families(self.read())


def families(f: ServiceFigures) -> Iterator[Metric]:
    """The Prometheus families of one read of the figures."""
    pool, health, cache = f.pool, f.health, f.cache
    yield InfoMetricFamily("inventory_build", "The running inventory-server.", {"version": __version__})
    yield GaugeMetricFamily("inventory_db_pool_size", "Open connections in the pool.", pool.size)
    yield GaugeMetricFamily("inventory_db_pool_idle", "Idle connections in the pool.", pool.idle)
    yield GaugeMetricFamily(
        "inventory_db_pool_waiting", "Requests waiting for a pooled connection now.", pool.waiting
    )
    yield GaugeMetricFamily("inventory_db_pool_max_size", "Most connections the pool opens.", pool.max_size)
    yield CounterMetricFamily(
        "inventory_db_pool_acquisition_timeouts",
        "Requests that got no pooled connection in time (answered UNAVAILABLE).",
        pool.acquisition_timeouts,
    )
    yield CounterMetricFamily(
        "inventory_db_pool_connections_lost", "Pooled connections found broken.", pool.connections_lost
    )
    yield GaugeMetricFamily(
        "inventory_database_up",
        "1 while the health monitor finds the database answering (health SERVING), else 0.",
        float(health.serving),
    )
    yield CounterMetricFamily("inventory_database_health_checks", "Database health checks.", health.checks)
    yield GaugeMetricFamily(
        "inventory_database_health_consecutive_failures",
        "Failed database health checks in a row.",
        health.consecutive_failures,
    )
    yield GaugeMetricFamily(
        "inventory_database_health_check_latency_seconds",
        "Round trip of the last database health check.",
        health.latency_ms / 1000,
    )
    yield GaugeMetricFamily("inventory_cache_entries", "Products in the read cache.", cache.size)
    yield CounterMetricFamily("inventory_cache_hits", "Product reads answered by the cache.", cache.hits)
    yield CounterMetricFamily(
        "inventory_cache_misses", "Product reads the cache sent to the database.", cache.misses
    )
    yield CounterMetricFamily(
        "inventory_cache_invalidations", "Entries dropped on a change notification.", cache.invalidations
    )
    yield CounterMetricFamily(
        "inventory_transaction_retries",
        "Transaction attempts run again after a serialization failure or deadlock.",
        f.transactions.retries,
    )
    yield CounterMetricFamily(
        "inventory_transaction_conflicts",
        "Transactions that gave up on a conflict (the caller got ABORTED).",
        f.transactions.conflicts,
    )
    yield CounterMetricFamily(
        "inventory_idempotent_replays",
        "Writes answered with the stored result of an earlier call with the same request_id.",
        f.replays,
    )
    version = GaugeMetricFamily(
        "inventory_schema_version", "The newest applied migration (absent until the database answered)."
    )
    if f.schema_version.isdigit():
        version.add_metric([], float(f.schema_version))
    yield version


# How the supervisor combines a gauge over --workers processes (prometheus-client multiprocess modes).
GaugeMode = Literal["livesum", "livemin", "livemax"]
_WORKER_GAUGE_MODES: dict[str, GaugeMode] = {
    "inventory_database_up": "livemin",  # down if any worker finds the database down
    "inventory_database_health_consecutive_failures": "livemax",
    "inventory_database_health_check_latency_seconds": "livemax",
    "inventory_schema_version": "livemin",  # the version every worker has seen
}


class WorkerFigures:
    """A --workers worker's service figures, pushed into prometheus-client's multiprocess files.

    A scrape-time collector cannot work across processes (the supervisor
    serves the endpoint and has no pool or cache), so each worker publishes
    what ``families`` would report, on an interval: gauges as live gauges the
    supervisor adds up (pool, cache entries) or takes the worst of (database
    health, schema version), counters as increments of what grew since the last
    publish, so the supervisor's sums are the workers' totals.
    """

    def __init__(self, registry: CollectorRegistry) -> None:
        self.registry = registry
        self._gauges: dict[str, Gauge] = {}
        self._counters: dict[str, Counter] = {}
        self._published: dict[str, float] = {}

    def publish(self, figures: ServiceFigures) -> None:
        for family in families(figures):
            if family.type == "gauge":
                for sample in family.samples:
                    self._gauge(family).set(sample.value)
            elif family.type == "counter":
                for sample in family.samples:
                    if sample.name.endswith("_total"):
                        grown = sample.value - self._published.get(family.name, 0.0)
                        counter = self._counter(family)  # present from the first publish, at 0
                        if grown > 0:
                            counter.inc(grown)
                        self._published[family.name] = sample.value

    def _gauge(self, family: Metric) -> Gauge:
        if family.name not in self._gauges:
            mode: GaugeMode = _WORKER_GAUGE_MODES.get(family.name, "livesum")
            self._gauges[family.name] = Gauge(
                family.name, family.documentation, registry=self.registry, multiprocess_mode=mode
            )
        return self._gauges[family.name]

    def _counter(self, family: Metric) -> Counter:
        if family.name not in self._counters:
            self._counters[family.name] = Counter(family.name, family.documentation, registry=self.registry)
        return self._counters[family.name]


def new_registry() -> CollectorRegistry:
    """A registry of this server's own, with the process, platform and GC collectors."""
    registry = CollectorRegistry(auto_describe=True)
    ProcessCollector(registry=registry)
    PlatformCollector(registry=registry)
    GCCollector(registry=registry)
    return registry


def worker_registry() -> CollectorRegistry:
    """A --workers worker's registry: its series land in the multiprocess files; nothing serves it."""
    return CollectorRegistry(auto_describe=True)


def multiprocess_registry() -> CollectorRegistry:
    """The supervisor's registry under --workers: every worker's grpc_server_* series, added up.

    Needs PROMETHEUS_MULTIPROC_DIR set before the workers started (inventory_server.workers).
    """
    from prometheus_client import multiprocess

    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    return registry


def mark_worker_dead(pid: int) -> None:
    """Forget a dead worker's live gauges (its counters stay counted, as multiprocess mode wants)."""
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(pid)  # type: ignore[no-untyped-call]


class MetricsEndpoint:
    """Prometheus' HTTP exposition (any path, ``/metrics`` by convention) on a daemon thread."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.registry = registry
        self._server: WSGIServer | None = None
        self.port = 0

    def start(self, host: str, port: int) -> None:
        address = host[1:-1] if host.startswith("[") and host.endswith("]") else host
        self._server, _ = start_http_server(port, addr=address, registry=self.registry)
        self.port = int(self._server.server_address[1])
        log.info("metrics on http://%s:%d/metrics", host, self.port)

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
