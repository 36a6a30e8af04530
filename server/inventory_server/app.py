"""Wiring: settings -> pool -> transaction manager -> services -> servicers -> grpc.aio server.

Nothing here runs at import time; ``Application.start`` does the work.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from google.protobuf import descriptor_pool
from grpc import aio
from grpc_health.v1 import health, health_pb2, health_pb2_grpc

from inventory_client.v1 import (
    audit_pb2,
    audit_pb2_grpc,
    product_pb2,
    product_pb2_grpc,
    stats_pb2,
    stats_pb2_grpc,
    stock_pb2,
    stock_pb2_grpc,
    transaction_pb2,
    transaction_pb2_grpc,
    user_pb2,
    user_pb2_grpc,
    warehouse_pb2,
    warehouse_pb2_grpc,
)
from inventory_server import __version__
from inventory_server.api.audit import AuditServicer
from inventory_server.api.auth import AuthInterceptor
from inventory_server.api.handler_cache import HandlerCache
from inventory_server.api.interceptors import CallInterceptor
from inventory_server.api.metrics import MethodStats
from inventory_server.api.observability import ObservabilityInterceptor
from inventory_server.api.page_tokens import DEVELOPMENT_KEY, PageTokens, parse_keys
from inventory_server.api.products import ProductServicer
from inventory_server.api.reflection import SERVICE_NAMES as REFLECTION_SERVICE_NAMES
from inventory_server.api.reflection import enable_server_reflection
from inventory_server.api.stats import WORKER_METADATA, StatsServicer
from inventory_server.api.stock import StockServicer
from inventory_server.api.transactions import TransactionServicer
from inventory_server.api.users import UserServicer
from inventory_server.api.warehouses import WarehouseServicer
from inventory_server.auth.authorizer import Refusal, method_names
from inventory_server.auth.setup import build_authorizer
from inventory_server.cache.setup import build_product_cache
from inventory_server.config import Settings, is_loopback, parse_max_lag, read_urls
from inventory_server.db.background import BackgroundTask
from inventory_server.db.database import Database
from inventory_server.db.health import HealthMonitor, HealthObserver
from inventory_server.db.notifications import WakeUpListener
from inventory_server.db.replicas import ReplicaSet
from inventory_server.db.schema import SchemaExpectation
from inventory_server.db.tracing import traced_cursor_class
from inventory_server.db.transaction_manager import TransactionManager
from inventory_server.domain.login_throttle import LoginLimits
from inventory_server.listen import bind, ensure_free
from inventory_server.listen import server_options as listen_options
from inventory_server.migrate import DEFAULT_MIGRATIONS_DIR
from inventory_server.migrate.files import discover
from inventory_server.observability.metrics import (
    GrpcMetrics,
    MetricsEndpoint,
    ServiceCollector,
    ServiceSources,
    WorkerFigures,
    figures_from_loop,
    new_registry,
    read_service_figures,
    worker_registry,
)
from inventory_server.repositories.instrumentation import query_stats
from inventory_server.repositories.unit_of_work import PostgresUnitOfWork
from inventory_server.services.audit import AuditService
from inventory_server.services.maintenance import IdempotencyPurger
from inventory_server.services.passwords import Passwords
from inventory_server.services.product_import import ImportLimits, ProductImportService
from inventory_server.services.products import ProductService
from inventory_server.services.reservations import ReservationService
from inventory_server.services.stats import DatabaseReader, StatsService, StatsSources
from inventory_server.services.stock import StockService
from inventory_server.services.stock_change_retention import StockChangePurger
from inventory_server.services.stock_documents import StockDocumentService
from inventory_server.services.stock_watch import StockWatchService, WatchSettings
from inventory_server.services.transactions import TransactionService
from inventory_server.services.user_roles import UserRoles
from inventory_server.services.users import UserService
from inventory_server.services.warehouses import WarehouseService
from inventory_server.tls import reloading_server_credentials

if TYPE_CHECKING:
    from opentelemetry.sdk.trace import TracerProvider

log = logging.getLogger(__name__)


SERVICE_NAMES: tuple[str, ...] = (
    product_pb2.DESCRIPTOR.services_by_name["ProductService"].full_name,
    warehouse_pb2.DESCRIPTOR.services_by_name["WarehouseService"].full_name,
    user_pb2.DESCRIPTOR.services_by_name["UserService"].full_name,
    stock_pb2.DESCRIPTOR.services_by_name["StockService"].full_name,
    transaction_pb2.DESCRIPTOR.services_by_name["TransactionService"].full_name,
    stats_pb2.DESCRIPTOR.services_by_name["StatsService"].full_name,
    audit_pb2.DESCRIPTOR.services_by_name["AuditService"].full_name,
)


def permission_names() -> list[str]:
    """Every method a policy may name: the inventory services', health's and reflection's."""
    pool = descriptor_pool.Default()  # the generated modules imported above registered them
    services = [pool.FindServiceByName(name) for name in SERVICE_NAMES]
    services.append(health_pb2.DESCRIPTOR.services_by_name["Health"])
    return [*method_names(services), *(f"{name}/ServerReflectionInfo" for name in REFLECTION_SERVICE_NAMES)]


# A health name that stays SERVING while the process and its event loop work, whatever the
# database does: what a liveness probe should ask ("" and the services follow the database).
LIVENESS_SERVICE = "liveness"
# How often a --workers worker publishes its pool, cache and health figures for the metrics endpoint.
WORKER_FIGURES_INTERVAL = 1.0

# Keepalive and connection settings suitable for service-to-service traffic; the limits that
# are settings join them in server_options.
SERVER_OPTIONS: list[tuple[str, int]] = [
    ("grpc.keepalive_time_ms", 60_000),
    ("grpc.keepalive_timeout_ms", 20_000),
    ("grpc.http2.min_ping_interval_without_data_ms", 10_000),
    ("grpc.keepalive_permit_without_calls", 1),
    # Recycle connections so dns:/// round-robin clients discover new replicas.
    ("grpc.max_connection_age_ms", 300_000),
    ("grpc.max_connection_age_grace_ms", 30_000),
    # No SO_REUSEPORT: a busy port is an error, never silently shared (inventory_server.listen).
    ("grpc.so_reuseport", 0),
]


def server_options(settings: Settings, *, share_port: bool = False) -> list[tuple[str, int]]:
    """SERVER_OPTIONS plus the limits from the settings.

    The receive limit is enforced by grpc before a message is parsed, so an
    oversized request costs the event loop nothing (a 16 MiB batch used to
    block it for seconds while being parsed and refused). grpc's Python server
    has one limit for all methods; none needs more than the default: the
    largest valid product is about 25 KB and ImportProducts streams one per
    message.
    """
    return listen_options(
        [
            *SERVER_OPTIONS,
            ("grpc.max_receive_message_length", settings.max_receive_message_bytes),
            ("grpc.max_concurrent_streams", settings.max_concurrent_streams),
        ],
        share_port=share_port,
    )


@dataclass
class Application:
    """The running service: start it, serve, stop it gracefully."""

    settings: Settings
    dsn: str
    started_at: float = field(default_factory=time.monotonic)
    method_stats: MethodStats = field(default_factory=MethodStats)
    # observability.tracing.tracer_provider_from_environment(); None = tracing off, at no cost
    tracer_provider: TracerProvider | None = None
    port: int = 0
    # --workers N (inventory_server.workers): this worker's index, None in a single-process server.
    # A worker shares its ports with its siblings (the supervisor checked them once), leaves the
    # metrics endpoint to the supervisor, and only worker 0 runs the maintenance loops.
    worker: int | None = None

    async def start(self) -> None:
        s = self.settings
        host = s.listen_host()
        share = self.worker is not None
        # First, so that a busy port or unusable certificate files fail before anything connects.
        if not share:
            ensure_free(host, s.port)
            if s.health_port:
                ensure_free(host, s.health_port)
            if s.metrics_port:
                ensure_free(host, s.metrics_port)
        credentials = None
        if s.tls_cert_file is not None and s.tls_key_file is not None:
            credentials = reloading_server_credentials(s.tls_cert_file, s.tls_key_file, s.tls_client_ca_file)
        tracer = None
        if self.tracer_provider is not None:
            tracer = self.tracer_provider.get_tracer("inventory_server", __version__)
        self.database = Database(
            self.dsn, s, cursor_factory=None if tracer is None else traced_cursor_class(tracer)
        )
        # Read replicas (DATABASE_READ_URL): only reads that opt in with replica_ok go there.
        read_dsns = read_urls(s)
        self.replicas = (
            ReplicaSet(
                read_dsns,
                s,
                self.database,
                parse_max_lag(s.replica_max_lag),
                probe_interval=s.replica_probe_interval,
                probe_timeout=s.health_check_timeout,
            )
            if read_dsns
            else None
        )
        # The services' Transactor: transactions over the pool, each handing its work a unit of work.
        self.transactor = TransactionManager(
            self.database, PostgresUnitOfWork, max_attempts=s.max_transaction_attempts, replicas=self.replicas
        )
        self.users = UserService(
            self.transactor,
            Passwords(max_concurrent=s.password_hash_concurrency),
            login_limits=LoginLimits(
                per_account=s.login_max_failures,
                per_principal=s.login_max_failures_per_principal,
                window_seconds=s.login_failure_window_seconds,
            ),
        )
        self.audit = AuditService(self.transactor)
        # Reads the policy and JWKS files now: a bad one fails before anything connects.
        self.authorizer = build_authorizer(
            s, permission_names(), UserRoles(self.users, ttl=s.auth_user_cache_seconds)
        )
        await self.database.open(wait=False)
        if self.replicas is not None:
            # Not part of readiness: without a usable replica every read goes to the primary.
            await self.replicas.start()
        # Bypassed until its listener is LISTENing.
        self.product_cache, self.cache_listener = build_product_cache(s, self.dsn)
        self.watch_listener, listen = self._watch_listener()
        self.stock_watch = StockWatchService(
            self.transactor,
            self.watch_listener,
            WatchSettings(
                heartbeat_interval=s.watch_heartbeat_interval,
                max_streams=s.watch_max_streams,
                buffer_size=s.watch_buffer_size,
                slow_consumer_timeout=s.watch_slow_consumer_seconds,
            ),
        )
        # Metrics only when they are served: no registry, no counting otherwise. A worker counts
        # into prometheus-client's multiprocess files (PROMETHEUS_MULTIPROC_DIR, set by the
        # supervisor), which the supervisor's endpoint adds up; it serves no endpoint itself.
        self.metrics_registry = new_registry() if s.metrics_port and not share else None
        grpc_metrics = None
        self.worker_figures: WorkerFigures | None = None
        if self.metrics_registry is not None:
            grpc_metrics = GrpcMetrics(self.metrics_registry)
        elif s.metrics_port:
            shared_registry = worker_registry()
            grpc_metrics = GrpcMetrics(shared_registry)
            self.worker_figures = WorkerFigures(shared_registry)
        # The observability interceptor first (outermost): it sees every call as the caller does.
        self.server = aio.server(
            # Authentication before CallInterceptor parses the request (api/auth.py says why);
            # the observability interceptor still sees and logs every refusal.
            # HandlerCache outermost: the chain below builds each method's handler once, not per call.
            interceptors=[
                HandlerCache(),
                ObservabilityInterceptor(grpc_metrics, tracer),
                # Every refused call gets an audit row (written in its own transaction).
                AuthInterceptor(self.authorizer, self.method_stats, on_refused=self._audit_refusal),
                CallInterceptor(self.method_stats),
            ],
            options=server_options(s, share_port=share),
        )
        self.health = (
            health.aio.HealthServicer()  # type: ignore[attr-defined]
            if self.worker is None
            else worker_health_servicer(self.worker)
        )
        # Built before the servicers (Stats reads its figures), started once the server is wired.
        self.monitor = HealthMonitor(
            self.dsn,
            grpc_health_publisher(self.health, SERVICE_NAMES),
            interval=s.health_check_interval,
            timeout=s.health_check_timeout,
            failure_threshold=s.health_failure_threshold,
            on_recover=self.database.recover,
            connect_kwargs={"application_name": f"{s.application_name}-health"},
            schema=schema_expectation(s),
        )
        self._add_servicers()
        health_pb2_grpc.add_HealthServicer_to_server(self.health, self.server)
        await self.health.set(LIVENESS_SERVICE, health_pb2.HealthCheckResponse.SERVING)
        # grpc.reflection.v1 and v1alpha (api/reflection.py), each listing itself too.
        enable_server_reflection(
            (*SERVICE_NAMES, health_pb2.DESCRIPTOR.services_by_name["Health"].full_name), self.server
        )
        await self.monitor.start()
        if self.cache_listener is not None:
            await self.cache_listener.start()
        if listen:
            await self.watch_listener.start()
        self.port = bind(self.server, f"{host}:{s.port}", credentials)
        # Kubelet gRPC probes cannot do TLS: with INVENTORY_HEALTH_PORT, a second, plaintext
        # server answers grpc.health.v1 (the same statuses) and nothing else.
        self.health_server: aio.Server | None = None
        if s.health_port:
            self.health_server = aio.server(options=server_options(s, share_port=share))
            health_pb2_grpc.add_HealthServicer_to_server(self.health, self.health_server)
            bind(self.health_server, f"{host}:{s.health_port}")
            await self.health_server.start()
        await self.server.start()
        self.metrics_endpoint: MetricsEndpoint | None = None
        if self.metrics_registry is not None:
            self._serve_metrics(self.metrics_registry)
        self.figures_publisher = BackgroundTask("worker-figures")
        if self.worker_figures is not None:
            self.figures_publisher.start(self._publish_worker_figures(self.worker_figures))
        self.purger = IdempotencyPurger(
            self.transactor,
            retention=timedelta(hours=s.idempotency_retention_hours),
            interval=s.maintenance_interval,
        )
        self.position_purger = StockChangePurger(
            self.transactor,
            retention=timedelta(hours=s.watch_retention_hours),
            interval=s.maintenance_interval,
        )
        # Purges and the reservation sweep are database-wide: once per server (worker 0), not N times.
        self.maintenance = self.worker in (None, 0)
        if self.maintenance:
            self.purger.start()
            self.position_purger.start()
            self.reservations.start()
        security = "plaintext" if credentials is None else "mutual TLS" if s.tls_client_ca_file else "TLS"
        policy = "a policy" if self.authorizer.enforcing else "no policy"
        worker = "" if self.worker is None else f" as worker {self.worker}"
        log.info(
            "inventory-server listening on %s port %d%s (%s, %s)", host, self.port, worker, security, policy
        )
        log_exposure(s, host)

    def _add_servicers(self) -> None:
        tokens = page_tokens(self.settings)
        s = self.settings
        products = ProductService(self.transactor, self.product_cache)
        importer = ProductImportService(
            self.transactor,
            self.product_cache,
            limits=ImportLimits(
                idle_timeout=s.import_idle_timeout,
                max_concurrent=s.import_max_concurrent,
                max_bytes=s.import_max_bytes,
            ),
        )
        product_pb2_grpc.add_ProductServiceServicer_to_server(
            ProductServicer(products, importer, page_tokens=tokens), self.server
        )
        warehouses = WarehouseService(self.transactor)
        warehouse_pb2_grpc.add_WarehouseServiceServicer_to_server(
            WarehouseServicer(warehouses, page_tokens=tokens), self.server
        )
        user_pb2_grpc.add_UserServiceServicer_to_server(
            UserServicer(self.users, page_tokens=tokens), self.server
        )
        stock = StockService(self.transactor)
        self.reservations = ReservationService(
            self.transactor, interval=self.settings.reservation_sweep_interval
        )
        stock_pb2_grpc.add_StockServiceServicer_to_server(
            StockServicer(
                stock,
                self.stock_watch,
                self.reservations,
                page_tokens=tokens,
                documents=StockDocumentService(self.transactor),
            ),
            self.server,
        )
        transaction_pb2_grpc.add_TransactionServiceServicer_to_server(
            TransactionServicer(TransactionService(self.transactor), page_tokens=tokens), self.server
        )
        stats_pb2_grpc.add_StatsServiceServicer_to_server(
            StatsServicer(self._stats_service(), worker=self.worker), self.server
        )
        audit_pb2_grpc.add_AuditServiceServicer_to_server(
            AuditServicer(self.audit, page_tokens=tokens), self.server
        )

    async def _audit_refusal(self, refusal: Refusal) -> None:
        await self.audit.record_refusal(refusal.method, refusal.principal, refusal.code)

    def _stats_service(self) -> StatsService:
        """Stats over the live parts: pool owner, monitor, recorders, cache, transaction manager."""
        monitor = self.monitor
        reader = self.database_reader = DatabaseReader(
            self.transactor,
            is_serving=lambda: monitor.figures.serving,
            budget=min(self.settings.pool_timeout, self.settings.health_check_timeout),
        )
        return StatsService(
            StatsSources(
                pool=self.database,
                health=monitor,
                methods=self.method_stats,
                queries=query_stats(),
                cache=self.product_cache,
                transactions=self.transactor,
                database=reader,
                started_at=self.started_at,
                replicas=self.replicas,
            )
        )

    def _watch_listener(self) -> tuple[WakeUpListener, bool]:
        """The change stream's one LISTEN connection, and whether to start it.

        LISTEN needs a session: behind a transaction-mode PgBouncer it must use a
        direct DSN (INVENTORY_WATCH_LISTEN_URL, else INVENTORY_CACHE_LISTEN_URL).
        Without one the streams still deliver everything, polling once per heartbeat.
        """
        s = self.settings
        direct = s.watch_listen_url or s.cache_listen_url
        listener = WakeUpListener(
            direct or self.dsn,
            "inventory_stock_changes",
            heartbeat_interval=max(1.0, min(5.0, s.watch_heartbeat_interval)),
            connect_kwargs={
                "application_name": f"{s.application_name}-watch",
                "keepalives": 1,
                "keepalives_idle": 5,
                "keepalives_interval": 5,
                "keepalives_count": 3,
            },
        )
        if s.pgbouncer and not direct:
            log.warning(
                "change stream without LISTEN: INVENTORY_PGBOUNCER is set and no direct "
                "INVENTORY_WATCH_LISTEN_URL; streams poll once per INVENTORY_WATCH_HEARTBEAT_INTERVAL"
            )
            return listener, False
        return listener, True

    def _service_sources(self) -> ServiceSources:
        return ServiceSources(
            pool=self.database,
            health=self.monitor,
            cache=self.product_cache,
            transactions=self.transactor,
            replays=query_stats(),
            database=self.database_reader,
        )

    async def _publish_worker_figures(self, figures: WorkerFigures) -> None:
        """--workers with metrics: this worker's service figures into the multiprocess files, each second."""
        sources = self._service_sources()
        while True:
            try:
                figures.publish(await read_service_figures(sources))
            except Exception as exc:  # a figure must never stop the loop (an outage, a stopping pool)
                log.debug("worker figures not published (%s)", type(exc).__name__)
            await asyncio.sleep(WORKER_FIGURES_INTERVAL)

    def _serve_metrics(self, registry: Any) -> None:
        """Prometheus on INVENTORY_METRICS_PORT; the service figures read from the Stats sources."""
        s = self.settings
        sources = self._service_sources()
        timeout = min(s.pool_timeout, s.health_check_timeout) + 1.0
        registry.register(ServiceCollector(figures_from_loop(sources, asyncio.get_running_loop(), timeout)))
        self.metrics_endpoint = MetricsEndpoint(registry)
        self.metrics_endpoint.start(s.listen_host(), s.metrics_port)

    async def wait(self) -> None:
        await self.server.wait_for_termination()

    async def stop(self) -> None:
        """NOT_SERVING first (so balancers drain), let in-flight calls finish, then close the pool."""
        log.info("shutting down: health NOT_SERVING, grace period %.1fs", self.settings.grace_period)
        await self.health.enter_graceful_shutdown()
        self.stock_watch.close()  # change streams send their last token and end UNAVAILABLE
        await self.server.stop(self.settings.grace_period)
        if self.health_server is not None:
            await self.health_server.stop(None)
        if self.maintenance:
            await self.purger.stop()
            await self.position_purger.stop()
            await self.reservations.stop()
        await self.figures_publisher.stop()
        await self.watch_listener.stop()
        if self.cache_listener is not None:
            await self.cache_listener.stop()
        await self.monitor.stop()
        if self.replicas is not None:
            await self.replicas.stop()
        await self.database.close()
        if self.metrics_endpoint is not None:
            # In a thread: shutdown() waits for a scrape in progress, which may need this loop.
            await asyncio.to_thread(self.metrics_endpoint.stop)
        if self.tracer_provider is not None:
            await asyncio.to_thread(self.tracer_provider.shutdown)  # exports the spans still batched
        log.info("stopped")


def log_exposure(s: Settings, host: str) -> None:
    """Say loudly when the service is open to whoever reaches it (config.validate allowed it)."""
    if s.tls_cert_file is None and s.auth_policy_file is None and is_loopback(host):
        log.warning(
            "development mode: no TLS and no policy, so every caller may do everything; listening on "
            "loopback only (docs/security.md says how to secure it)"
        )
    elif not s.secured and not is_loopback(host):
        log.warning(
            "listening on %s without %s (INVENTORY_ALLOW_INSECURE_LISTEN): whoever reaches the port %s",
            host,
            "TLS" if s.tls_cert_file is None else "a policy",
            "can read the traffic and call every method"
            if s.tls_cert_file is None
            else "may call every method",
        )
    elif not s.secured:
        log.info(
            "listening on loopback only: %s is not configured",
            "TLS" if s.tls_cert_file is None else "a policy",
        )


def schema_expectation(settings: Settings) -> SchemaExpectation:
    """The migration versions of this build (its migration files): health is NOT_SERVING until applied."""
    directory = settings.migrations_dir or DEFAULT_MIGRATIONS_DIR
    return SchemaExpectation(frozenset(f.version for f in discover(directory)))


def page_tokens(settings: Settings) -> PageTokens:
    """The page-token seal from INVENTORY_PAGE_TOKEN_KEYS; without it the public development key, warned."""
    if settings.page_token_keys:
        return PageTokens(parse_keys(settings.page_token_keys))
    log.warning(
        "INVENTORY_PAGE_TOKEN_KEYS is not set: page tokens are sealed with the public development key, "
        "so clients can forge them; set the same key list on every replica (see docs/operations.md)"
    )
    return PageTokens([DEVELOPMENT_KEY])


def worker_health_servicer(worker: int) -> Any:
    """grpc.health.v1 whose Check replies say which worker answered (initial metadata inventory-worker)."""
    metadata = ((WORKER_METADATA, str(worker)),)

    class WorkerHealthServicer(health.aio.HealthServicer):  # type: ignore[name-defined,misc]
        async def Check(self, request: Any, context: Any) -> Any:
            await context.send_initial_metadata(metadata)
            return await super().Check(request, context)

    return WorkerHealthServicer()


def grpc_health_publisher(health_servicer: Any, services: Sequence[str]) -> HealthObserver:
    """Turns the monitor's database state into gRPC health: "" and every service SERVING / NOT_SERVING.

    The liveness name is left alone: it follows the process, not the database.
    """

    async def publish(serving: bool) -> None:
        status = (
            health_pb2.HealthCheckResponse.SERVING if serving else health_pb2.HealthCheckResponse.NOT_SERVING
        )
        for name in ("", *services):
            await health_servicer.set(name, status)

    return publish
