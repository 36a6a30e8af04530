"""The server through a database outage, against a PostgreSQL this test starts, stops and restarts.

While the database is away: calls fail fast with UNAVAILABLE (never INTERNAL,
never past the caller's deadline), Watch on "" and on each service turns
NOT_SERVING after the failure threshold, Stats still answers, and the process
stays up. When the database returns: Watch turns SERVING and calls succeed
again, with no restart of the server. The same holds for a server that
starts while its database is down.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from functools import partial
from pathlib import Path
from typing import Any

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from inventory_client import InventoryClient, NotFoundError, UnavailableError
from inventory_client.errors import DeadlineExceededError, InventoryError
from inventory_client.v1 import product_pb2 as pb
from inventory_client.v1 import stats_pb2
from inventory_server.app import LIVENESS_SERVICE
from inventory_server.migrate import migrate_database
from tests.pg_cluster import PgCluster, throwaway_cluster

from .conftest import ServerProcess, free_port, start_server

SERVING = health_pb2.HealthCheckResponse.SERVING
NOT_SERVING = health_pb2.HealthCheckResponse.NOT_SERVING
WATCHED = ("", "inventory.v1.ProductService")
DEADLINE = 5.0
# "Well before the deadline": one pool acquisition timeout (1 s) plus room for a loaded machine.
FAIL_FAST = 3.5
OUTAGE_ENV = {
    "INVENTORY_POOL_TIMEOUT": "1",
    "INVENTORY_HEALTH_CHECK_INTERVAL": "0.3",
    "INVENTORY_HEALTH_CHECK_TIMEOUT": "1",
    "INVENTORY_HEALTH_FAILURE_THRESHOLD": "2",
    "INVENTORY_GRACE_PERIOD": "3",
}


@pytest.fixture
def cluster() -> Iterator[PgCluster]:
    with throwaway_cluster() as started:
        yield started


@pytest.fixture
def database_url(cluster: PgCluster) -> str:
    """A migrated database on the throwaway cluster."""
    dsn = cluster.create_database("inventory")
    migrate_database(dsn)
    return dsn


class HealthWatch:
    """Follows ``Health.Watch`` for one service in a thread, recording every status it streams."""

    def __init__(self, target: str, service: str) -> None:
        self.service = service
        self.statuses: list[int] = []
        self._channel = grpc.insecure_channel(target)
        stub = health_pb2_grpc.HealthStub(self._channel)
        self._call = stub.Watch(health_pb2.HealthCheckRequest(service=service), timeout=300)
        self._thread = threading.Thread(target=self._follow, daemon=True)
        self._thread.start()

    def _follow(self) -> None:
        try:
            for reply in self._call:
                self.statuses.append(reply.status)
        except grpc.RpcError:
            pass

    def wait_for(self, status: int, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while not (self.statuses and self.statuses[-1] == status):
            if time.monotonic() > deadline:
                raise AssertionError(f"Watch({self.service!r}) never streamed {status}: {self.statuses}")
            time.sleep(0.05)

    def changes(self) -> list[int]:
        """The statuses with repeats folded."""
        return [s for i, s in enumerate(self.statuses) if i == 0 or self.statuses[i - 1] != s]

    def close(self) -> None:
        self._call.cancel()
        self._thread.join(timeout=5)
        self._channel.close()


@pytest.fixture
def watches() -> Iterator[Callable[[str], list[HealthWatch]]]:
    opened: list[HealthWatch] = []

    def watch(target: str) -> list[HealthWatch]:
        started = [HealthWatch(target, name) for name in WATCHED]
        opened.extend(started)
        return started

    yield watch
    for w in opened:
        w.close()


def fails_fast_with_unavailable(call: Callable[[], Any]) -> float:
    started = time.monotonic()
    with pytest.raises(UnavailableError) as info:
        call()
    elapsed = time.monotonic() - started
    assert elapsed < FAIL_FAST, f"UNAVAILABLE after {elapsed:.2f}s"
    assert info.value.retry_delay is not None  # RetryInfo: clients may retry
    return elapsed


def succeeds_soon(call: Callable[[], Any], timeout: float = 15.0) -> Any:
    """The call's result once it works (the pool reconnects by itself); fails after ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            return call()
        except UnavailableError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def new_product(sku: str) -> pb.CreateProductRequest:
    return pb.CreateProductRequest(product=pb.Product(sku=sku, name="Outage widget"))


def get_stats(client: InventoryClient) -> stats_pb2.GetStatsResponse:
    reply: stats_pb2.GetStatsResponse = client.stats.GetStats(stats_pb2.GetStatsRequest())
    return reply


def assert_no_internal_errors(server: ServerProcess) -> None:
    log = server.log()
    assert "unhandled error" not in log, log
    assert "Traceback" not in log, log


@pytest.mark.slow
def test_an_outage_fails_calls_fast_turns_health_not_serving_and_heals_without_a_restart(
    cluster: PgCluster,
    database_url: str,
    tmp_path: Path,
    watches: Callable[[str], list[HealthWatch]],
) -> None:
    server = start_server(tmp_path, {"DATABASE_URL": database_url, **OUTAGE_ENV})
    try:
        followed = watches(server.target)
        for w in followed:
            w.wait_for(SERVING)
        with InventoryClient(server.target, timeout=DEADLINE, max_attempts=1) as client:
            product = client.products.CreateProduct(new_product("OUT-1")).product
            before = get_stats(client)

            cluster.stop("immediate")
            for i in range(3):
                fails_fast_with_unavailable(
                    lambda: client.products.GetProduct(pb.GetProductRequest(id=str(uuid.uuid4())))
                )
                fails_fast_with_unavailable(partial(client.products.CreateProduct, new_product(f"OUT-X{i}")))
            for w in followed:
                w.wait_for(NOT_SERVING)
            # ... but the process is alive and well: the liveness name stays SERVING.
            liveness = health_pb2_grpc.HealthStub(client.channel).Check(
                health_pb2.HealthCheckRequest(service=LIVENESS_SERVICE), timeout=5
            )
            assert liveness.status == SERVING

            started = time.monotonic()
            during = get_stats(client)
            assert time.monotonic() - started < FAIL_FAST
            assert during.health.status == "NOT_SERVING"
            assert during.health.consecutive_failures >= 2
            assert not during.HasField("database")  # in-process figures only, and no error
            assert during.pool.max_size == 10
            assert during.pool.acquisition_timeouts > before.pool.acquisition_timeouts
            assert during.schema_version == before.schema_version  # the last one seen
            assert server.process.poll() is None, "the server must stay up"

        # The client's declared retries (4 attempts on UNAVAILABLE) still end within the deadline.
        with InventoryClient(server.target, timeout=DEADLINE) as retrying:
            started = time.monotonic()
            with pytest.raises((UnavailableError, DeadlineExceededError)):
                retrying.products.GetProduct(pb.GetProductRequest(id=str(uuid.uuid4())))
            assert time.monotonic() - started < DEADLINE + 1.5

        cluster.start()
        for w in followed:
            w.wait_for(SERVING)
            assert w.changes() == [SERVING, NOT_SERVING, SERVING], w.service
        with InventoryClient(server.target, timeout=DEADLINE, max_attempts=1) as client:
            fetched = succeeds_soon(lambda: client.products.GetProduct(pb.GetProductRequest(id=product.id)))
            assert fetched.product.id == product.id
            with pytest.raises(NotFoundError):  # answered by the database itself, not a cache
                client.products.GetProduct(pb.GetProductRequest(id=str(uuid.uuid4())))
            client.products.CreateProduct(new_product("OUT-2"))
            after = get_stats(client)
            assert after.health.status == "SERVING"
            assert after.HasField("database")
        assert server.process.poll() is None
        assert_no_internal_errors(server)
    finally:
        assert server.stop() == 0, server.log()


def launch_without_waiting(tmp_path: Path, env: dict[str, str]) -> ServerProcess:
    """Start the server and wait only until its health service answers (whatever it says)."""
    port = free_port()
    log_path = tmp_path / f"server-{port}.log"
    full_env = {**os.environ, "INVENTORY_PORT": str(port), "INVENTORY_HOST": "127.0.0.1", **env}
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "inventory_server.cli", "serve"],
            env=full_env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    server = ServerProcess(process, port, log_path)
    deadline = time.monotonic() + 60
    with grpc.insecure_channel(server.target) as channel:
        stub = health_pb2_grpc.HealthStub(channel)
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"server exited with {process.returncode}:\n{server.log()}")
            try:
                stub.Check(health_pb2.HealthCheckRequest(service=""), timeout=1)
                return server
            except grpc.RpcError:
                if time.monotonic() > deadline:
                    server.stop()
                    raise
                time.sleep(0.2)


@pytest.mark.slow
def test_a_server_started_while_the_database_is_down_serves_once_it_appears(
    cluster: PgCluster,
    database_url: str,
    tmp_path: Path,
    watches: Callable[[str], list[HealthWatch]],
) -> None:
    cluster.stop("fast")
    server = launch_without_waiting(tmp_path, {"DATABASE_URL": database_url, **OUTAGE_ENV})
    try:
        followed = watches(server.target)
        for w in followed:
            w.wait_for(NOT_SERVING)
        with InventoryClient(server.target, timeout=DEADLINE, max_attempts=1) as client:
            fails_fast_with_unavailable(
                lambda: client.products.GetProduct(pb.GetProductRequest(id=str(uuid.uuid4())))
            )
            fails_fast_with_unavailable(lambda: client.products.CreateProduct(new_product("EARLY-1")))
            down = get_stats(client)
            assert down.health.status == "NOT_SERVING"
            assert not down.HasField("database")
            assert down.schema_version == ""  # never seen yet

            cluster.start()
            for w in followed:
                w.wait_for(SERVING)
                assert w.changes() == [NOT_SERVING, SERVING], w.service
            created = succeeds_soon(lambda: client.products.CreateProduct(new_product("LATE-1")))
            assert (
                client.products.GetProduct(pb.GetProductRequest(id=created.product.id)).product.sku
                == "LATE-1"
            )
            up = get_stats(client)
            assert up.health.status == "SERVING"
            assert up.HasField("database")
            assert up.schema_version != ""
        assert_no_internal_errors(server)
    finally:
        assert server.stop() == 0, server.log()


def test_no_call_during_an_outage_ends_in_internal(
    cluster: PgCluster, database_url: str, tmp_path: Path
) -> None:
    """Every product RPC, bad input included, answers a canonical non-INTERNAL code with the database gone."""
    server = start_server(tmp_path, {"DATABASE_URL": database_url, **OUTAGE_ENV})
    try:
        cluster.stop("immediate")
        calls: list[Callable[[InventoryClient], Any]] = [
            lambda c: c.products.GetProduct(pb.GetProductRequest(id=str(uuid.uuid4()))),
            lambda c: c.products.GetProduct(pb.GetProductRequest(id="not-a-uuid")),
            lambda c: c.products.ListProducts(pb.ListProductsRequest(page_size=5)),
            lambda c: c.products.ListProducts(pb.ListProductsRequest(page_size=-1)),
            lambda c: c.products.CreateProduct(new_product("NOPE-1")),
            lambda c: c.products.CreateProduct(pb.CreateProductRequest(product=pb.Product(sku="", name=""))),
            lambda c: c.products.DeleteProduct(pb.DeleteProductRequest(id=str(uuid.uuid4()))),
        ]
        with InventoryClient(server.target, timeout=DEADLINE, max_attempts=1) as client:
            for call in calls:
                started = time.monotonic()
                with pytest.raises(InventoryError) as info:
                    call(client)
                assert info.value.code in {grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.INVALID_ARGUMENT}, (
                    info.value
                )
                assert time.monotonic() - started < FAIL_FAST
        assert server.process.poll() is None
        assert_no_internal_errors(server)
    finally:
        assert server.stop() == 0, server.log()
