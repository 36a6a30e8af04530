"""Chaos: 32 clients move stock while backends are terminated and PostgreSQL restarts twice (issue 9).

Against a throwaway cluster (``tests.pg_cluster``; the machine's PostgreSQL is
untouched). 32 threads, each with its own ``InventoryClient`` (the client
package, with gRPC's transparent retries off so every failure shows), send receipts, shipments and transfers,
each with a request_id of their own. Meanwhile the chaos thread terminates a
random backend of the service's database about every 0.3 s and restarts the
cluster twice (one fast and one immediate stop). Afterwards:

- every call that failed got a retryable code (UNAVAILABLE or ABORTED, or
  DEADLINE_EXCEEDED: the caller's clock ran out while the database was away,
  and the outcome is unknown to it, which is what the request_id is for), and
  sent again with the same request_id it succeeds;
- every movement, acknowledged at once or after that retry, is in the ledger
  exactly once (one row per request_id) and nothing else is;
- every level equals the sum of its ledger rows, and the invariants hold;
- the server process is the one started at the beginning (same pid, alive).

Shipments and transfers take from a warehouse seeded with far more than the
test can move, so no call fails for a business reason. Bounded: about 20 s of
chaos, retries for at most 30 s, about 60 s in all.
"""

from __future__ import annotations

import random
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
import pytest

from inventory_client import InventoryClient, InventoryError
from inventory_client.v1 import stock_pb2 as pb
from inventory_client.v1.product_pb2 import CreateProductRequest, Product
from inventory_server.migrate import migrate_database
from tests.pg_cluster import PgCluster, throwaway_cluster

from .conftest import start_server, wait_until_serving
from .stock_helpers import check_invariants, insert_user, insert_warehouse

pytestmark = pytest.mark.slow

CLIENTS = 32
CHAOS_SECONDS = 20.0
RESTARTS_AT = (6.0, 13.0)  # seconds into the chaos
TERMINATE_EVERY = 0.3
RETRY_FOR = 30.0
SOURCE_UNITS = 10**9  # shipments and transfers never run out
RETRYABLE = {"UNAVAILABLE", "ABORTED", "DEADLINE_EXCEEDED"}
ENV = {
    "INVENTORY_POOL_TIMEOUT": "1",
    "INVENTORY_HEALTH_CHECK_INTERVAL": "0.3",
    "INVENTORY_HEALTH_CHECK_TIMEOUT": "1",
    "INVENTORY_HEALTH_FAILURE_THRESHOLD": "2",
    "INVENTORY_GRACE_PERIOD": "3",
}


@dataclass
class World:
    products: list[str]
    source: str
    others: list[str]
    user: str


@dataclass
class Mover:
    """One client's record: every request it sent, and the ones that failed with their codes."""

    sent: list[Any] = field(default_factory=list)
    failed: list[tuple[Any, str]] = field(default_factory=list)


@pytest.fixture
def cluster() -> Iterator[PgCluster]:
    with throwaway_cluster() as started:
        yield started


def _seed(client: InventoryClient, dsn: str) -> World:
    source, *others = (insert_warehouse(dsn) for _ in range(3))
    user = insert_user(dsn)
    products = [
        client.products.CreateProduct(
            CreateProductRequest(product=Product(sku=f"CH-{i}-{uuid.uuid4().hex[:6]}", name="Chaos"))
        ).product.id
        for i in range(4)
    ]
    for product in products:
        client.stock.ReceiveStock(
            pb.ReceiveStockRequest(
                product_id=product,
                warehouse_id=source,
                quantity=SOURCE_UNITS,
                performed_by=user,
                request_id=f"seed-{product}",
            )
        )
    return World(products, source, list(others), user)


def _movement(rng: random.Random, world: World) -> tuple[str, Any]:
    product, user = rng.choice(world.products), world.user
    request_id = str(uuid.uuid4())
    kind = rng.choice(("ReceiveStock", "ShipStock", "TransferStock"))
    quantity = rng.randint(1, 5)
    if kind == "ReceiveStock":
        return kind, pb.ReceiveStockRequest(
            product_id=product,
            warehouse_id=rng.choice(world.others),
            quantity=quantity,
            performed_by=user,
            request_id=request_id,
        )
    if kind == "ShipStock":
        return kind, pb.ShipStockRequest(
            product_id=product,
            warehouse_id=world.source,
            quantity=quantity,
            performed_by=user,
            request_id=request_id,
        )
    return kind, pb.TransferStockRequest(
        product_id=product,
        from_warehouse_id=world.source,
        to_warehouse_id=rng.choice(world.others),
        quantity=quantity,
        performed_by=user,
        request_id=request_id,
    )


def _move(target: str, world: World, seed: int, stop: threading.Event, record: Mover) -> None:
    rng = random.Random(seed)
    # No transparent retries (max_attempts=1): every failure reaches the test, which retries it itself.
    with InventoryClient(target, timeout=3, max_attempts=1) as client:
        while not stop.is_set():
            kind, request = _movement(rng, world)
            record.sent.append((kind, request))
            try:
                getattr(client.stock, kind)(request)
            except InventoryError as error:
                record.failed.append(((kind, request), error.code.name))


def _terminate_one(cluster: PgCluster, dbname: str, rng: random.Random) -> bool:
    """pg_terminate_backend on one random backend of the service's database; False if none or down."""
    try:
        with psycopg.connect(cluster.dsn("postgres"), autocommit=True, connect_timeout=2) as admin:
            pids = [
                row[0]
                for row in admin.execute(
                    "SELECT pid FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
                    (dbname,),
                ).fetchall()
            ]
            if not pids:
                return False
            admin.execute("SELECT pg_terminate_backend(%s)", (rng.choice(pids),))
            return True
    except psycopg.OperationalError:
        return False  # the cluster is restarting


def _chaos(cluster: PgCluster, dbname: str, stop: threading.Event, done: Counter[str]) -> None:
    rng = random.Random(9)
    started = time.monotonic()
    restarts = list(RESTARTS_AT)
    modes = ["fast", "immediate"]
    while not stop.is_set():
        elapsed = time.monotonic() - started
        if restarts and elapsed >= restarts[0]:
            restarts.pop(0)
            cluster.stop(modes.pop(0))  # type: ignore[arg-type]
            time.sleep(1.0)  # a real outage, not a blink
            cluster.start()
            done["restarts"] += 1
        elif _terminate_one(cluster, dbname, rng):
            done["terminated"] += 1
        time.sleep(TERMINATE_EVERY)


def _retry(client: InventoryClient, kind: str, request: Any) -> None:
    """Send ``request`` again (same request_id) until it succeeds; bounded by RETRY_FOR."""
    deadline = time.monotonic() + RETRY_FOR
    while True:
        try:
            getattr(client.stock, kind)(request)
            return
        except InventoryError as error:
            failure = error
        assert failure.code.name in RETRYABLE, f"retry of {kind} got {failure.code.name}: {failure}"
        assert time.monotonic() < deadline, f"{kind} {request.request_id} still failing: {failure}"
        time.sleep(0.2)


def test_movements_survive_terminated_backends_and_two_restarts_exactly_once(
    cluster: PgCluster, tmp_path: Path
) -> None:
    dsn = cluster.create_database("inventory")
    migrate_database(dsn)
    server = start_server(tmp_path, {"DATABASE_URL": dsn, **ENV})
    pid = server.process.pid
    try:
        with InventoryClient(server.target, timeout=10) as setup:
            world = _seed(setup, dsn)
        stop = threading.Event()
        movers = [Mover() for _ in range(CLIENTS)]
        chaos_done: Counter[str] = Counter()
        threads = [
            threading.Thread(target=_move, args=(server.target, world, i, stop, movers[i]), daemon=True)
            for i in range(CLIENTS)
        ]
        chaos = threading.Thread(target=_chaos, args=(cluster, "inventory", stop, chaos_done), daemon=True)
        for thread in [*threads, chaos]:
            thread.start()
        time.sleep(CHAOS_SECONDS)
        stop.set()
        for thread in [*threads, chaos]:
            thread.join(timeout=60)
            assert not thread.is_alive()
        assert chaos_done["restarts"] == 2, chaos_done
        assert chaos_done["terminated"] > 0, chaos_done

        failed = [f for m in movers for f in m.failed]
        codes = Counter(code for _, code in failed)
        assert set(codes) <= RETRYABLE, codes
        assert failed, "no call failed: the chaos did not reach the clients"
        wait_until_serving(server.target, server.process, server.log_path)
        with InventoryClient(server.target, timeout=5) as retrying:
            for (kind, request), _ in failed:
                _retry(retrying, kind, request)

        sent = [request for m in movers for _, request in m.sent]
        assert len(sent) > CLIENTS, "the clients hardly moved anything"
        with psycopg.connect(dsn) as conn:
            counts = {
                str(request_id): int(n)
                for request_id, n in conn.execute(
                    "SELECT request_id, count(*) FROM stock_transactions"
                    " WHERE request_id NOT LIKE 'seed-%' GROUP BY request_id"
                ).fetchall()
            }
        expected = {request.request_id for request in sent}
        assert {r: n for r, n in counts.items() if n != 1} == {}, "a movement was written twice"
        assert set(counts) == expected, (
            f"missing from the ledger: {len(expected - set(counts))}, unknown: {len(set(counts) - expected)}"
        )
        check_invariants(dsn)
        assert server.process.poll() is None, "the server exited"
        assert server.process.pid == pid, "the server restarted"
        print(
            f"\nchaos: {len(sent)} movements by {CLIENTS} clients, {len(failed)} failed first {dict(codes)},"
            f" {chaos_done['terminated']} backends terminated, {chaos_done['restarts']} restarts"
        )
    finally:
        code = server.stop()
    assert code == 0, f"server exited with {code}:\n{server.log()[-4000:]}"
