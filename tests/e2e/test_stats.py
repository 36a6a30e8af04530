"""StatsService end to end: known traffic moves the figures by exactly the right amounts."""

from __future__ import annotations

import concurrent.futures
import re
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import psycopg
import pytest
from google.protobuf.field_mask_pb2 import FieldMask

import inventory_server
from inventory_client import InventoryClient, NotFoundError
from inventory_client.v1 import product_pb2 as pb
from inventory_client.v1 import stats_pb2

from .conftest import ServerProcess, start_server
from .stock_helpers import make_world

GET_PRODUCT = "/inventory.v1.ProductService/GetProduct"


@pytest.fixture
def server_env() -> dict[str, str]:
    """No product cache: every GetProduct reaches the database, so counts are exact."""
    return {
        "INVENTORY_HEALTH_CHECK_INTERVAL": "0.5",
        "INVENTORY_GRACE_PERIOD": "5",
        "INVENTORY_CACHE_ENABLED": "false",
    }


def stats(client: InventoryClient) -> stats_pb2.GetStatsResponse:
    reply: stats_pb2.GetStatsResponse = client.stats.GetStats(stats_pb2.GetStatsRequest())
    return reply


def method(reply: stats_pb2.GetStatsResponse, name: str) -> stats_pb2.MethodStats:
    """The figures of one method (empty figures when it was never called)."""
    for m in reply.methods:
        if m.method == name:
            return m
    return stats_pb2.MethodStats(method=name)


def query(reply: stats_pb2.GetStatsResponse, operation: str) -> stats_pb2.QueryStats:
    for q in reply.queries:
        if q.operation == operation:
            return q
    return stats_pb2.QueryStats(operation=operation)


def create(client: InventoryClient, sku: str) -> pb.Product:
    reply = client.products.CreateProduct(pb.CreateProductRequest(product=pb.Product(sku=sku, name="Widget")))
    product: pb.Product = reply.product
    return product


def test_get_product_traffic_moves_method_query_and_pool_figures_exactly(client: InventoryClient) -> None:
    product = create(client, "STATS-1")
    found, missing = 7, 3
    before = stats(client)
    for _ in range(found):
        client.products.GetProduct(pb.GetProductRequest(id=product.id))
    for _ in range(missing):
        with pytest.raises(NotFoundError):
            client.products.GetProduct(pb.GetProductRequest(id=str(uuid.uuid4())))
    after = stats(client)

    was, now = method(before, GET_PRODUCT), method(after, GET_PRODUCT)
    assert now.calls - was.calls == found + missing
    assert now.errors_by_code["NOT_FOUND"] - was.errors_by_code.get("NOT_FOUND", 0) == missing
    assert set(now.errors_by_code) == {"NOT_FOUND"}
    assert 0 < now.p50_ms <= now.p95_ms <= now.p99_ms

    gets_before, gets_after = query(before, "products.get"), query(after, "products.get")
    assert gets_after.count - gets_before.count == found + missing
    assert gets_after.errors - gets_before.errors == missing  # NotFound is raised inside the operation
    assert gets_after.mean_ms > 0
    assert gets_after.p95_ms > 0

    # One pool request per GetProduct, plus the first GetStats's own database read (it takes
    # its pool figures before reading the database).
    assert after.pool.requests - before.pool.requests == found + missing + 1
    assert after.pool.connections_made >= 1
    assert after.pool.min_size == 2
    assert after.pool.max_size == 10
    assert after.pool.in_use == after.pool.size - after.pool.idle


def test_create_and_update_are_counted_per_method_and_operation(client: InventoryClient) -> None:
    before = stats(client)
    product = create(client, "STATS-2")
    client.products.UpdateProduct(
        pb.UpdateProductRequest(
            product=pb.Product(id=product.id, name="Renamed"), update_mask=FieldMask(paths=["name"])
        )
    )
    after = stats(client)
    for name in ("/inventory.v1.ProductService/CreateProduct", "/inventory.v1.ProductService/UpdateProduct"):
        assert method(after, name).calls - method(before, name).calls == 1, name
    assert any(q.operation.startswith("products.") and q.count > 0 for q in after.queries)


def test_stats_describe_the_database_the_server_and_its_health(
    server: ServerProcess, client: InventoryClient, migrated_dsn: str
) -> None:
    reply = stats(client)
    with psycopg.connect(migrated_dsn, autocommit=True) as conn:
        server_version = conn.execute("SHOW server_version").fetchone()
        latest = conn.execute("SELECT max(version) FROM schema_migrations WHERE success").fetchone()
        size = conn.execute("SELECT pg_database_size(current_database())").fetchone()
    assert server_version is not None
    assert latest is not None
    assert size is not None

    assert reply.server_version == inventory_server.__version__
    assert reply.database_version == server_version[0]
    assert reply.schema_version == str(latest[0])
    assert reply.uptime_seconds > 0

    assert reply.HasField("database")
    assert reply.database.size_bytes > 0
    assert abs(reply.database.size_bytes - size[0]) < 1024 * 1024
    assert reply.database.connections >= 2  # at least the pool's min_size and the health monitor
    assert reply.database.commits > 0
    assert 0 < reply.database.cache_hit_ratio <= 1

    assert reply.health.status == "SERVING"
    assert reply.health.checks >= 1
    assert reply.health.consecutive_failures == 0
    assert reply.health.latency_ms > 0
    assert reply.health.last_check_time.seconds > 0

    assert not reply.cache.enabled  # this module's servers run without the cache
    assert reply.recommendation.recommended_max_size == 10
    assert re.search(r"\d+ pool requests so far", reply.recommendation.reason)


def test_get_stats_is_itself_counted_once_it_has_answered(client: InventoryClient) -> None:
    first = stats(client)
    second = stats(client)
    name = "/inventory.v1.StatsService/GetStats"
    assert method(second, name).calls == method(first, name).calls + 1


def test_product_cache_figures_follow_reads_when_the_cache_is_on(migrated_dsn: str, tmp_path: Path) -> None:
    server = start_server(
        tmp_path,
        {
            "DATABASE_URL": migrated_dsn,
            "INVENTORY_HEALTH_CHECK_INTERVAL": "0.5",
            "INVENTORY_CACHE_ENABLED": "true",
        },
    )
    try:
        with InventoryClient(server.target, timeout=10) as client:
            product = create(client, "CACHED-1")
            before = stats(client)
            assert before.cache.enabled
            for _ in range(5):
                client.products.GetProduct(pb.GetProductRequest(id=product.id))
            after = stats(client)
    finally:
        assert server.stop() == 0, server.log()
    reads = (after.cache.hits + after.cache.misses) - (before.cache.hits + before.cache.misses)
    assert reads == 5
    assert after.cache.hits - before.cache.hits >= 4  # at most the first read misses
    assert after.cache.hit_ratio == pytest.approx(after.cache.hits / (after.cache.hits + after.cache.misses))
    assert after.cache.size >= 1
    assert after.cache.max_size > 0


def test_a_deadlock_the_server_retried_shows_as_one_retry_and_no_conflict(
    client: InventoryClient, migrated_dsn: str
) -> None:
    """A transfer deadlocks with an outside transaction: PostgreSQL aborts the transfer (it waited
    first, so its deadlock check runs first), the server retries it, the caller sees success."""
    world = make_world(client, migrated_dsn)
    first, second = sorted(world.warehouses[:2])  # the server locks levels in warehouse order
    world.receive(10, first)
    world.receive(10, second)
    before = stats(client).transactions
    level = "SELECT 1 FROM stock_levels WHERE warehouse_id = %s AND product_id = %s FOR UPDATE"

    def outside() -> None:
        with psycopg.connect(migrated_dsn) as conn:
            conn.execute(level, (second, world.product))
            locked.set()
            deadline = time.monotonic() + 10
            while not any(waiting_on_lock(conn)):  # the transfer holds `first` and waits for `second`
                if time.monotonic() > deadline:
                    raise AssertionError("the transfer never waited for the outside lock")
                time.sleep(0.02)
            conn.execute(level, (first, world.product))  # closes the cycle; the transfer is the victim
            conn.rollback()

    locked = threading.Event()
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        held = pool.submit(outside)
        assert locked.wait(10)
        world.transfer(3, first, second)
        held.result(timeout=30)
    after = stats(client).transactions
    assert after.retries - before.retries == 1
    assert after.conflicts == before.conflicts
    assert (world.level(first).on_hand, world.level(second).on_hand) == (7, 13)


def waiting_on_lock(conn: psycopg.Connection[Any]) -> list[int]:
    """Backends of this database, other than ``conn``'s, waiting for a lock now."""
    rows = conn.execute(
        "SELECT pid FROM pg_stat_activity"
        " WHERE datname = current_database() AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()"
    ).fetchall()
    return [int(row[0]) for row in rows]
