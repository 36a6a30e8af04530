"""Reads on a real streaming standby, read-your-writes by consistency token (issue 14).

A throwaway primary and a ``pg_basebackup -R`` standby (tests/pg_replication.py);
the server runs with DATABASE_URL on the primary and DATABASE_READ_URL on the
standby. Which server answered is visible in what a read returns while replay
is paused, in the standby's own ``pg_stat_database`` counters and in Stats.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest

from inventory_client import InventoryClient
from inventory_client.v1 import product_pb2 as pb
from inventory_client.v1 import stats_pb2, stock_pb2
from inventory_server.migrate import migrate_database
from tests.pg_cluster import PgCluster
from tests.pg_replication import primary_and_standby, query, wait_replayed

from .conftest import ServerProcess, start_server
from .stock_helpers import insert_user, insert_warehouse

MAX_LAG_SECONDS = 3.0


@pytest.fixture(scope="module")
def clusters() -> Iterator[tuple[PgCluster, PgCluster]]:
    with primary_and_standby() as pair:
        primary, standby = pair
        migrate_database(primary.create_database("inventory"))
        wait_replayed(primary, standby)
        yield pair


@pytest.fixture(scope="module")
def server(
    clusters: tuple[PgCluster, PgCluster], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ServerProcess]:
    primary, standby = clusters
    env = {
        "DATABASE_URL": primary.dsn("inventory"),
        "DATABASE_READ_URL": standby.dsn("inventory"),
        "INVENTORY_REPLICA_MAX_LAG": f"{MAX_LAG_SECONDS}s",
        "INVENTORY_REPLICA_PROBE_INTERVAL": "0.2",
        "INVENTORY_HEALTH_CHECK_TIMEOUT": "1",
        "INVENTORY_CACHE_ENABLED": "false",
        "INVENTORY_GRACE_PERIOD": "3",
    }
    proc = start_server(tmp_path_factory.mktemp("replicas"), env)
    yield proc
    assert proc.stop() == 0, proc.log()
    assert "unhandled error" not in proc.log()


def skus(client: InventoryClient) -> set[str]:
    reply = client.products.ListProducts(pb.ListProductsRequest(page_size=1000))
    return {p.sku for p in reply.products}


def replica_stats(client: InventoryClient) -> stats_pb2.ReplicaStats:
    reply = client.stats.GetStats(stats_pb2.GetStatsRequest())
    assert len(reply.replicas) == 1
    return reply.replicas[0]


def wait_state(client: InventoryClient, state: str, timeout: float = 20.0) -> stats_pb2.ReplicaStats:
    deadline = time.monotonic() + timeout
    while True:
        replica = replica_stats(client)
        if replica.state == state:
            return replica
        if time.monotonic() > deadline:
            raise AssertionError(f"replica never {state}: {replica}")
        time.sleep(0.1)


def standby_commits(standby: PgCluster) -> int:
    return int(query(standby, "SELECT xact_commit FROM pg_stat_database WHERE datname = 'inventory'"))


def standby_commits_reach(standby: PgCluster, at_least: int, timeout: float = 15.0) -> int:
    """The standby's commit counter once it reaches ``at_least`` (or the last value after ``timeout``).

    PostgreSQL 15 backends flush their statistics lazily: at most once a second while busy,
    and an idle pooled connection within about ten seconds.
    """
    deadline = time.monotonic() + timeout
    while True:
        commits = standby_commits(standby)
        if commits >= at_least or time.monotonic() > deadline:
            return commits
        time.sleep(0.5)


def test_paused_replay_token_reads_go_to_the_primary_and_the_lag_bound_removes_the_standby(
    clusters: tuple[PgCluster, PgCluster], server: ServerProcess
) -> None:
    _primary, standby = clusters
    with (
        InventoryClient(server.target, timeout=10) as writer,
        InventoryClient(server.target, timeout=10, session_consistency=False) as other,
    ):
        wait_state(writer, "healthy")
        query(standby, "SELECT pg_wal_replay_pause()")
        try:
            sku = f"RYW-{uuid.uuid4().hex[:8]}"
            writer.products.CreateProduct(pb.CreateProductRequest(product=pb.Product(sku=sku, name="x")))
            assert writer.session is not None
            assert writer.session.token is not None
            # The writer's token is ahead of the paused standby: the primary serves its read.
            assert sku in skus(writer)
            # A client without a token reads from the standby (within the bound): the write is not there.
            assert sku not in skus(other)
            # Past the lag bound the standby leaves rotation, Stats says so, and the primary serves all.
            lagging = wait_state(other, "lagging", timeout=MAX_LAG_SECONDS + 10)
            assert lagging.lag_seconds > MAX_LAG_SECONDS
            assert lagging.lag_bytes > 0
            assert sku in skus(other)
        finally:
            query(standby, "SELECT pg_wal_replay_resume()")
        wait_state(other, "healthy")


def test_most_lists_are_served_by_the_standby(
    clusters: tuple[PgCluster, PgCluster], server: ServerProcess
) -> None:
    primary, standby = clusters
    wait_replayed(primary, standby)
    with InventoryClient(server.target, timeout=10) as client:
        wait_state(client, "healthy")
        served_before = replica_stats(client).reads
        commits_before = standby_commits(standby)
        for _ in range(1000):
            client.products.ListProducts(pb.ListProductsRequest(page_size=10))
        served = replica_stats(client).reads - served_before
        assert served >= 900, served
        # The standby's own counters: each List is at least one transaction there (probes add a few).
        commits = standby_commits_reach(standby, commits_before + 900) - commits_before
        assert commits >= 900, commits


def test_a_stopped_standby_fails_no_call_and_rejoins(
    clusters: tuple[PgCluster, PgCluster], server: ServerProcess
) -> None:
    _primary, standby = clusters
    failures: list[BaseException] = []
    calls = 0
    stop = threading.Event()

    def reader() -> None:
        nonlocal calls
        with InventoryClient(server.target, timeout=10, max_attempts=1) as client:
            while not stop.is_set() and calls < 20_000:
                try:
                    client.products.ListProducts(pb.ListProductsRequest(page_size=5))
                    calls += 1
                except Exception as error:
                    failures.append(error)

    with InventoryClient(server.target, timeout=10) as client:
        wait_state(client, "healthy")
        threads = [threading.Thread(target=reader) for _ in range(4)]
        for t in threads:
            t.start()
        try:
            time.sleep(0.5)
            standby.stop("immediate")
            wait_state(client, "unreachable")
            time.sleep(1.0)
            standby.start()
            wait_state(client, "healthy", timeout=45)
            rejoined = replica_stats(client).reads
            time.sleep(0.5)
            assert replica_stats(client).reads > rejoined  # serving reads again
        finally:
            stop.set()
            for t in threads:
                t.join(timeout=30)
    assert failures == []
    assert calls > 0


def test_session_consistency_under_concurrency(
    clusters: tuple[PgCluster, PgCluster], server: ServerProcess
) -> None:
    """32 clients receive stock and read their level back; replay is paused for part of the run."""
    primary, standby = clusters
    dsn = primary.dsn("inventory")
    warehouse = insert_warehouse(dsn)
    performer = insert_user(dsn)
    violations: list[str] = []
    pause_done = threading.Event()

    def session(index: int) -> int:
        reads = 0
        with InventoryClient(server.target, timeout=15) as client:
            product = client.products.CreateProduct(
                pb.CreateProductRequest(product=pb.Product(sku=f"S-{index}-{uuid.uuid4().hex[:6]}", name="x"))
            ).product.id
            written = 0
            for _ in range(12):
                reply = client.stock.ReceiveStock(
                    stock_pb2.ReceiveStockRequest(
                        product_id=product, warehouse_id=warehouse, quantity=1, performed_by=performer
                    )
                )
                written = reply.stock_level.on_hand
                level = client.stock.GetStockLevel(
                    stock_pb2.GetStockLevelRequest(product_id=product, warehouse_id=warehouse)
                ).stock_level
                listed = client.stock.ListStockLevels(
                    stock_pb2.ListStockLevelsRequest(product_id=product, warehouse_id=warehouse)
                ).stock_levels
                reads += 2
                if level.on_hand < written or not listed or listed[0].on_hand < written:
                    violations.append(f"client {index}: wrote {written}, read {level.on_hand} / {listed}")
        return reads

    def pause_for_a_while() -> None:
        time.sleep(0.5)
        query(standby, "SELECT pg_wal_replay_pause()")
        time.sleep(1.5)
        query(standby, "SELECT pg_wal_replay_resume()")
        pause_done.set()

    with InventoryClient(server.target, timeout=10) as client:
        wait_state(client, "healthy")
        served_before = replica_stats(client).reads
        pauser = threading.Thread(target=pause_for_a_while)
        pauser.start()
        with ThreadPoolExecutor(max_workers=32) as pool:
            reads = sum(pool.map(session, range(32)))
        pauser.join()
        served = replica_stats(client).reads - served_before
    assert violations == []
    assert reads == 32 * 12 * 2
    assert served > 0  # the standby did serve some of them: the check above was not all primary
