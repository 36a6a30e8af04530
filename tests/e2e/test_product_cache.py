"""The product cache across two replicas: NOTIFY keeps them fresh, a lost listener never serves stale rows.

Two real server processes share one migrated database. B's cache is warmed,
then the product changes through A (or behind every cache's back), and B is
read until it answers the new value.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict

from inventory_client import InventoryClient
from inventory_client.v1 import product_pb2 as pb
from inventory_client.v1 import stats_pb2

from .conftest import ServerProcess, start_server

HEARTBEAT = 1.0
BOUND = 2 * HEARTBEAT  # docs/caching.md: stale at most 2 x INVENTORY_CACHE_HEARTBEAT_INTERVAL


def replica_env(dsn: str, name: str) -> dict[str, str]:
    return {
        "DATABASE_URL": dsn,
        "INVENTORY_APPLICATION_NAME": name,
        "INVENTORY_CACHE_HEARTBEAT_INTERVAL": str(HEARTBEAT),
        "INVENTORY_HEALTH_CHECK_INTERVAL": "0.5",
        "INVENTORY_GRACE_PERIOD": "5",
    }


@pytest.fixture
def replicas(migrated_dsn: str, tmp_path: Path) -> Iterator[tuple[ServerProcess, ServerProcess]]:
    a = start_server(tmp_path, replica_env(migrated_dsn, "replica-a"))
    try:
        b = start_server(tmp_path, replica_env(migrated_dsn, "replica-b"))
    except BaseException:
        a.stop()
        raise
    try:
        yield a, b
    finally:
        codes = (a.stop(), b.stop())
        assert codes == (0, 0), f"exit codes {codes}:\n{a.log()}\n{b.log()}"


@pytest.fixture
def clients(
    replicas: tuple[ServerProcess, ServerProcess],
) -> Iterator[tuple[InventoryClient, InventoryClient]]:
    a, b = replicas
    with InventoryClient(a.target, timeout=10) as ca, InventoryClient(b.target, timeout=10) as cb:
        _wait_until_cache_serves(cb)
        yield ca, cb


def _wait_until_cache_serves(client: InventoryClient, timeout: float = 10.0) -> None:
    """The cache is bypassed until the listener is up: wait until a repeated read is a hit."""
    product = client.products.CreateProduct(
        pb.CreateProductRequest(product=pb.Product(sku=f"PROBE-{time.monotonic_ns()}", name="probe"))
    ).product
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        before = _cache_figures(client).hits
        client.products.GetProduct(pb.GetProductRequest(id=product.id))
        client.products.GetProduct(pb.GetProductRequest(id=product.id))
        if _cache_figures(client).hits > before:
            return
        time.sleep(0.05)
    raise TimeoutError("the cache never started serving")


def _cache_figures(client: InventoryClient) -> stats_pb2.CacheStats:
    return client.stats.GetStats(stats_pb2.GetStatsRequest()).cache


def _get(client: InventoryClient, id: str) -> pb.Product:
    return client.products.GetProduct(pb.GetProductRequest(id=id)).product


def _rename_behind_the_caches(dsn: str, id: str, name: str) -> None:
    """Change a row without firing triggers: no NOTIFY, so only a cache that is empty can see it."""
    with psycopg.connect(dsn, autocommit=True) as conn, conn.transaction():
        conn.execute("SET LOCAL session_replication_role = replica")
        conn.execute("UPDATE products SET name = %s WHERE id = %s", (name, id))


def _create_and_warm(a: InventoryClient, b: InventoryClient, sku: str) -> pb.Product:
    product = a.products.CreateProduct(
        pb.CreateProductRequest(product=pb.Product(sku=sku, name="v0"))
    ).product
    _get(b, product.id)
    _get(b, product.id)
    return product


def _update(client: InventoryClient, id: str, name: str) -> pb.Product:
    request = pb.UpdateProductRequest(product=pb.Product(id=id, name=name))
    request.update_mask.paths.append("name")
    return client.products.UpdateProduct(request).product


def _seconds_until(client: InventoryClient, id: str, name: str, limit: float) -> float | None:
    started = time.monotonic()
    while (elapsed := time.monotonic() - started) <= limit:
        if _get(client, id).name == name:
            return elapsed
    return None


def test_b_serves_a_warmed_product_from_its_cache(
    clients: tuple[InventoryClient, InventoryClient], migrated_dsn: str
) -> None:
    a, b = clients
    product = _create_and_warm(a, b, "WARM-1")
    hits = _cache_figures(b).hits
    _rename_behind_the_caches(migrated_dsn, product.id, "unseen")
    assert _get(b, product.id).name == "v0"  # answered from the cache, not the database
    assert _cache_figures(b).hits == hits + 1
    assert _get(a, product.id).name == "unseen"  # A never cached it


def test_an_update_through_a_reaches_b_within_the_staleness_bound(
    clients: tuple[InventoryClient, InventoryClient],
) -> None:
    a, b = clients
    product = _create_and_warm(a, b, "FRESH-1")
    latencies: list[float] = []
    for round in range(1, 21):
        _get(b, product.id)  # cached again
        _update(a, product.id, f"v{round}")
        latency = _seconds_until(b, product.id, f"v{round}", BOUND)
        assert latency is not None, f"B still served the old name {BOUND}s after A's update"
        latencies.append(latency)
    assert _cache_figures(b).invalidations >= 20
    print(
        f"cross-replica invalidation: median {statistics.median(latencies) * 1000:.1f} ms, "
        f"max {max(latencies) * 1000:.1f} ms over {len(latencies)} updates"
    )


def test_an_import_through_a_reaches_b_within_the_staleness_bound(
    clients: tuple[InventoryClient, InventoryClient],
) -> None:
    a, b = clients
    product = _create_and_warm(a, b, "IMP-1")
    a.products.ImportProducts(
        iter([pb.ImportProductsRequest(product=pb.Product(sku="imp-1", name="imported"))])
    )
    assert _seconds_until(b, product.id, "imported", BOUND) is not None


def _listener_pids(conn: psycopg.Connection[Any], application_name: str) -> list[int]:
    rows = conn.execute(
        "SELECT pid FROM pg_stat_activity WHERE application_name = %s AND datname = current_database()",
        (application_name,),
    ).fetchall()
    return [row[0] for row in rows]


def _allow_connections(admin_dsn: str, dbname: str, allow: bool) -> None:
    with psycopg.connect(admin_dsn, autocommit=True) as admin:
        admin.execute(
            sql.SQL("ALTER DATABASE {} ALLOW_CONNECTIONS {}").format(
                sql.Identifier(dbname), sql.Literal(allow)
            )
        )


def test_a_lost_listener_empties_b_and_b_never_serves_the_stale_row(
    clients: tuple[InventoryClient, InventoryClient], migrated_dsn: str, admin_dsn: str
) -> None:
    a, b = clients
    dbname = str(conninfo_to_dict(migrated_dsn)["dbname"])
    product = _create_and_warm(a, b, "LOST-1")
    _rename_behind_the_caches(migrated_dsn, product.id, "behind")
    assert _get(b, product.id).name == "v0"  # cached
    with psycopg.connect(migrated_dsn, autocommit=True) as conn:
        (pid,) = _listener_pids(conn, "replica-b-listener")
        _allow_connections(admin_dsn, dbname, False)  # B's listener cannot come back for now
        try:
            conn.execute("SELECT pg_terminate_backend(%s)", (pid,))
            time.sleep(0.5)  # B reads the FATAL message from its socket at once
            assert _get(b, product.id).name == "behind"  # the cache was emptied
            _update(a, product.id, "after")  # its NOTIFY reaches nobody on B
            deadline = time.monotonic() + 2 * BOUND
            reads = 0
            while time.monotonic() < deadline:
                assert _get(b, product.id).name == "after", "B served a stale row while deaf"
                reads += 1
            assert reads > 10
        finally:
            _allow_connections(admin_dsn, dbname, True)
        deadline = time.monotonic() + 20
        while not [p for p in _listener_pids(conn, "replica-b-listener") if p != pid]:
            assert time.monotonic() < deadline, "B's listener did not reconnect"
            time.sleep(0.1)
    _wait_until_cache_serves(b)
    _get(b, product.id)
    _update(a, product.id, "recovered")
    assert _seconds_until(b, product.id, "recovered", BOUND) is not None
