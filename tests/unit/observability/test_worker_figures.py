"""--workers: a worker's pool, cache and health figures reach the supervisor's endpoint."""

from __future__ import annotations

from dataclasses import replace

from prometheus_client import CollectorRegistry

from inventory_server.db.health import HealthFigures
from inventory_server.observability.metrics import ServiceFigures, WorkerFigures
from inventory_server.services.stats.figures import PoolFigures, TransactionFigures


def value(registry: CollectorRegistry, name: str) -> float | None:
    return registry.get_sample_value(name)


def test_counters_grow_by_what_grew_since_the_last_publish_so_worker_sums_are_totals() -> None:
    registry = CollectorRegistry()
    figures = WorkerFigures(registry)
    first = ServiceFigures(replays=3, transactions=TransactionFigures(retries=2, conflicts=0))
    figures.publish(first)
    figures.publish(first)  # nothing grew: nothing added
    figures.publish(replace(first, replays=7))
    assert value(registry, "inventory_idempotent_replays_total") == 7
    assert value(registry, "inventory_transaction_retries_total") == 2
    assert value(registry, "inventory_transaction_conflicts_total") == 0  # present at zero


def test_gauges_carry_the_latest_figures() -> None:
    registry = CollectorRegistry()
    figures = WorkerFigures(registry)
    figures.publish(
        ServiceFigures(
            pool=PoolFigures(size=4, idle=3, max_size=10),
            health=HealthFigures(serving=True),
            schema_version="15",
        )
    )
    figures.publish(ServiceFigures(pool=PoolFigures(size=5, idle=1, max_size=10), schema_version="15"))
    assert value(registry, "inventory_db_pool_size") == 5
    assert value(registry, "inventory_db_pool_idle") == 1
    assert value(registry, "inventory_database_up") == 0
    assert value(registry, "inventory_schema_version") == 15
