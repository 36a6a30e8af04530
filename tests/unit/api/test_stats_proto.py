"""The servicer's mapping of a Stats snapshot onto GetStatsResponse."""

from __future__ import annotations

from datetime import UTC, datetime

from inventory_server.api.stats import to_proto
from inventory_server.cache.product_cache import CacheFigures
from inventory_server.db.health import HealthFigures
from inventory_server.repositories.database_stats import DatabaseFigures
from inventory_server.repositories.instrumentation import OperationStats
from inventory_server.services.stats.figures import (
    DatabaseReading,
    MethodFigure,
    PoolFigures,
    Recommendation,
    StatsSnapshot,
    TransactionFigures,
)

CHECKED = datetime(2026, 5, 6, 7, 8, 9, tzinfo=UTC)


def snapshot(database: DatabaseReading, serving: bool = True) -> StatsSnapshot:
    return StatsSnapshot(
        pool=PoolFigures(size=5, idle=2, waiting=1, min_size=2, max_size=10, requests=40, requests_waited=3),
        health=HealthFigures(
            serving=serving,
            checks=9,
            consecutive_failures=0 if serving else 4,
            latency_ms=1.25,
            last_check_time=CHECKED,
        ),
        methods=[MethodFigure("/inventory.v1.ProductService/GetProduct", 3, {"NOT_FOUND": 1}, 1.0, 2.0, 3.0)],
        queries={
            "products.get": OperationStats(
                calls=3, errors=0, queries=3, mean_ms=1.5, p50_ms=1.0, p95_ms=2.0, max_ms=2.5
            )
        },
        cache=CacheFigures(enabled=True, size=2, max_size=50, hits=3, misses=1, invalidations=1),
        transactions=TransactionFigures(retries=6, conflicts=2),
        database=database,
        server_version="0.1.0",
        uptime_seconds=12.5,
        recommendation=Recommendation(10, "the current size fits"),
    )


def test_every_figure_lands_in_its_field() -> None:
    figures = DatabaseFigures(
        size_bytes=1024, connections=3, commits=10, rollbacks=2, deadlocks=1, blocks_hit=99, blocks_read=1
    )
    reply = to_proto(snapshot(DatabaseReading(figures, schema_version="7", server_version="15.4")))
    assert (reply.pool.size, reply.pool.idle, reply.pool.in_use, reply.pool.waiting) == (5, 2, 3, 1)
    assert (reply.pool.requests, reply.pool.requests_waited) == (40, 3)
    assert reply.health.status == "SERVING"
    assert reply.health.last_check_time.ToDatetime(tzinfo=UTC) == CHECKED
    assert reply.methods[0].calls == 3
    assert dict(reply.methods[0].errors_by_code) == {"NOT_FOUND": 1}
    assert reply.queries[0].operation == "products.get"
    assert reply.queries[0].count == 3
    assert (reply.queries[0].mean_ms, reply.queries[0].p95_ms) == (1.5, 2.0)
    assert (reply.transactions.retries, reply.transactions.conflicts) == (6, 2)
    assert reply.cache.enabled
    assert reply.cache.hit_ratio == 0.75
    assert reply.cache.invalidations == 1
    assert reply.HasField("database")
    assert (reply.database.size_bytes, reply.database.connections, reply.database.deadlocks) == (1024, 3, 1)
    assert reply.database.cache_hit_ratio == 0.99
    assert (reply.schema_version, reply.database_version, reply.server_version) == ("7", "15.4", "0.1.0")
    assert reply.uptime_seconds == 12.5
    assert reply.recommendation.recommended_max_size == 10


def test_an_unreadable_database_leaves_database_unset_but_answers_the_rest() -> None:
    reply = to_proto(snapshot(DatabaseReading(None, schema_version="7"), serving=False))
    assert not reply.HasField("database")
    assert reply.health.status == "NOT_SERVING"
    assert reply.health.consecutive_failures == 4
    assert reply.schema_version == "7"
    assert reply.pool.max_size == 10
