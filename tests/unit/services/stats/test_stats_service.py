"""The Stats use case over fakes: every source lands in the snapshot, the database part is optional."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any, TypeVar, cast

import pytest

from inventory_server.api.metrics import MethodStats
from inventory_server.cache.product_cache import CacheFigures, ProductCache
from inventory_server.db.health import HealthFigures
from inventory_server.domain.errors import Unavailable
from inventory_server.repositories.database_stats import DatabaseFigures, DatabaseStatsRepository
from inventory_server.repositories.instrumentation import QueryStats
from inventory_server.services.stats import DatabaseReader, StatsService, StatsSources
from inventory_server.services.stats.figures import DatabaseReading, MethodFigure, TransactionFigures
from tests.unit.fakes import FakeDatabase, Fakes, FakeTransactor, FakeUnitOfWork

T = TypeVar("T")


class FakeDatabaseSource:
    def __init__(self, reading: DatabaseReading) -> None:
        self.reading = reading
        self.reads = 0

    async def read(self) -> DatabaseReading:
        self.reads += 1
        return self.reading


class FakePool:
    def __init__(self, stats: Mapping[str, int]) -> None:
        self._stats = stats

    def stats(self) -> Mapping[str, int]:
        return self._stats


@dataclass
class FakeMonitor:
    figures: HealthFigures = field(default_factory=HealthFigures)


class FakeMethods:
    def __init__(self, figures: Iterable[MethodFigure]) -> None:
        self.figures = list(figures)

    def snapshot(self) -> list[MethodFigure]:
        return list(self.figures)


@dataclass
class FakeCounters:
    retries: int = 0
    conflicts: int = 0


def make_sources(
    *,
    pool: Mapping[str, int] | None = None,
    health: HealthFigures | None = None,
    methods: Iterable[MethodFigure] = (),
    queries: QueryStats | None = None,
    cache: ProductCache | None = None,
    transactions: FakeCounters | None = None,
    database: FakeDatabaseSource | None = None,
    now: float = 100.0,
) -> StatsSources:
    return StatsSources(
        pool=FakePool(pool or {"pool_min": 2, "pool_max": 10}),
        health=FakeMonitor(health or HealthFigures()),
        methods=FakeMethods(methods),
        queries=queries or QueryStats(),
        cache=cache or ProductCache(10, 60.0, enabled=False),
        transactions=transactions or FakeCounters(),
        database=database or FakeDatabaseSource(DatabaseReading()),
        started_at=40.0,
        clock=lambda: now,
        server_version="9.9.9",
    )


async def test_snapshot_carries_every_in_process_source() -> None:
    checked = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    queries = QueryStats()
    for ms in (1.0, 2.0, 3.0):
        queries.record("products.get", ms / 1000, queries=1)
    queries.record("products.get", 0.004, queries=1, error=True)
    sources = make_sources(
        pool={"pool_min": 2, "pool_max": 10, "pool_size": 3, "pool_available": 1, "requests_num": 7},
        health=HealthFigures(
            serving=True, checks=12, consecutive_failures=0, latency_ms=1.5, last_check_time=checked
        ),
        methods=[MethodFigure("/inventory.v1.ProductService/GetProduct", 5, {"NOT_FOUND": 2}, 1.0, 2.0, 3.0)],
        queries=queries,
        transactions=FakeCounters(retries=4, conflicts=1),
    )
    snap = await StatsService(sources).snapshot()
    assert (snap.pool.size, snap.pool.in_use, snap.pool.requests) == (3, 2, 7)
    assert snap.health.serving
    assert snap.health.checks == 12
    assert snap.health.last_check_time == checked
    [method] = snap.methods
    assert (method.method, method.calls, dict(method.errors_by_code)) == (
        "/inventory.v1.ProductService/GetProduct",
        5,
        {"NOT_FOUND": 2},
    )
    [(operation, query)] = snap.queries.items()
    assert (operation, query.calls, query.errors) == ("products.get", 4, 1)
    assert query.mean_ms == pytest.approx(2.5)
    assert query.p95_ms == pytest.approx(4.0)
    assert snap.transactions == TransactionFigures(retries=4, conflicts=1)
    assert snap.uptime_seconds == 60.0
    assert snap.server_version == "9.9.9"
    assert snap.cache == CacheFigures(enabled=False, max_size=10)


async def test_health_figures_are_a_copy_the_monitor_cannot_change_afterwards() -> None:
    sources = make_sources(health=HealthFigures(serving=True, checks=1))
    snap = await StatsService(sources).snapshot()
    sources.health.figures.checks = 2
    assert snap.health.checks == 1


async def test_method_figures_come_from_the_interceptors_recorder() -> None:
    recorder = MethodStats()
    for ms in range(1, 101):
        recorder.record("/inventory.v1.StockService/Receive", "OK" if ms % 10 else "ABORTED", float(ms))
    sources = replace(make_sources(), methods=recorder)
    [figure] = (await StatsService(sources).snapshot()).methods
    assert figure == MethodFigure(
        "/inventory.v1.StockService/Receive", 100, {"ABORTED": 10}, 50.0, 95.0, 99.0
    )


async def test_database_reading_is_passed_through() -> None:
    figures = DatabaseFigures(
        size_bytes=8192, connections=3, commits=10, rollbacks=1, deadlocks=0, blocks_hit=9, blocks_read=1
    )
    source = FakeDatabaseSource(DatabaseReading(figures, schema_version="7", server_version="15.4"))
    snap = await StatsService(make_sources(database=source)).snapshot()
    assert snap.database.figures == figures
    assert (snap.database.schema_version, snap.database.server_version) == ("7", "15.4")
    assert source.reads == 1


async def test_recommendation_follows_the_pool_and_health() -> None:
    pressure = {
        "pool_min": 2,
        "pool_max": 10,
        "requests_num": 1000,
        "requests_queued": 300,
        "requests_wait_ms": 9000,
    }
    serving = await StatsService(make_sources(pool=pressure, health=HealthFigures(serving=True))).snapshot()
    assert serving.recommendation.max_size == 15
    down = await StatsService(make_sources(pool=pressure, health=HealthFigures(serving=False))).snapshot()
    assert down.recommendation.max_size == 10


# --- DatabaseReader over a fake transactor ------------------------------------------------------


class FakeCursor:
    def __init__(self, rows: list[dict[str, Any] | Exception], delay: float) -> None:
        self.rows = rows
        self.delay = delay

    async def __aenter__(self) -> FakeCursor:
        return self

    async def __aexit__(self, *exc: object) -> None:
        return None

    async def execute(self, query: object, params: object) -> None:
        if self.delay:
            await asyncio.sleep(self.delay)
        if isinstance(self.rows[0], Exception):
            raise self.rows.pop(0)  # type: ignore[misc]

    async def fetchone(self) -> dict[str, Any] | None:
        row = self.rows.pop(0)
        assert not isinstance(row, Exception)
        return row


class FakeConnection:
    """Answers each statement with the next scripted row or exception, after ``delay`` seconds."""

    def __init__(self) -> None:
        self.rows: list[dict[str, Any] | Exception] = []
        self.delay = 0.0

    def cursor(self, row_factory: object = None) -> FakeCursor:
        return FakeCursor(self.rows, self.delay)


def scripted() -> tuple[Fakes, FakeConnection]:
    """Fake units of work whose ``database_stats`` is the real repository over a scripted connection."""
    conn = FakeConnection()

    def unit_of_work(db: FakeDatabase) -> FakeUnitOfWork:
        uow = FakeUnitOfWork(db)
        uow.database_stats = DatabaseStatsRepository(cast(Any, conn))
        return uow

    return FakeTransactor(FakeDatabase(), unit_of_work), conn


STAT_ROW: dict[str, Any] = {
    "size_bytes": 10_000,
    "numbackends": 4,
    "xact_commit": 50,
    "xact_rollback": 2,
    "deadlocks": 1,
    "blks_hit": 90,
    "blks_read": 10,
    "server_version": "15.4",
}


async def test_reader_reads_figures_and_versions_read_only() -> None:
    from psycopg import errors as pg_errors

    transactor, conn = scripted()
    conn.rows = [dict(STAT_ROW), {"version": 7}]
    reading = await DatabaseReader(transactor, is_serving=lambda: True).read()
    assert reading.figures == DatabaseFigures(
        size_bytes=10_000, connections=4, commits=50, rollbacks=2, deadlocks=1, blocks_hit=90, blocks_read=10
    )
    assert (reading.schema_version, reading.server_version) == ("7", "15.4")
    assert (transactor.units, transactor.retryable) == (["read"], [False])

    conn.rows = [dict(STAT_ROW), pg_errors.UndefinedTable("no history table")]
    unmigrated = await DatabaseReader(transactor, is_serving=lambda: True).read()
    assert unmigrated.figures is not None
    assert unmigrated.schema_version == ""


async def test_reader_does_not_touch_a_database_the_monitor_calls_down() -> None:
    transactor, _ = scripted()
    reading = await DatabaseReader(transactor, is_serving=lambda: False).read()
    assert reading == DatabaseReading()
    assert transactor.units == []


async def test_reader_keeps_the_last_versions_but_drops_figures_when_the_database_fails() -> None:
    transactor, conn = scripted()
    serving = True
    reader = DatabaseReader(transactor, is_serving=lambda: serving)
    conn.rows = [dict(STAT_ROW), {"version": 7}]
    assert (await reader.read()).figures is not None
    conn.rows = [Unavailable("no database connection became available in time")]
    failed = await reader.read()
    assert failed.figures is None
    assert (failed.schema_version, failed.server_version) == ("7", "15.4")
    serving = False
    down = await reader.read()
    assert (down.figures, down.schema_version) == (None, "7")


async def test_reader_gives_up_after_its_budget() -> None:
    transactor, conn = scripted()
    conn.delay = 30.0
    started = time.monotonic()
    reading = await DatabaseReader(transactor, is_serving=lambda: True, budget=0.2).read()
    assert reading.figures is None
    assert time.monotonic() - started < 5.0
