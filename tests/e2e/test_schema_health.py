"""Health tells the truth about the schema: NOT_SERVING on an unmigrated database, SERVING once migrated."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from inventory_client.v1 import stats_pb2, stats_pb2_grpc
from inventory_server.migrate import migrate_database

from .conftest import ServerProcess, free_port

SERVING = health_pb2.HealthCheckResponse.SERVING
NOT_SERVING = health_pb2.HealthCheckResponse.NOT_SERVING


def _status(stub: health_pb2_grpc.HealthStub, service: str) -> int:
    try:
        return int(stub.Check(health_pb2.HealthCheckRequest(service=service), timeout=2).status)
    except grpc.RpcError:
        return -1


def _wait_for(stub: health_pb2_grpc.HealthStub, service: str, status: int, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while _status(stub, service) != status:
        assert time.monotonic() < deadline, f"{service!r} never became {status}"
        time.sleep(0.2)


def test_an_empty_database_is_not_serving_until_migrated(empty_dsn: str, tmp_path: Path) -> None:
    port = free_port()
    log_path = tmp_path / "server.log"
    env = {
        **os.environ,
        "DATABASE_URL": empty_dsn,
        "INVENTORY_PORT": str(port),
        "INVENTORY_HOST": "127.0.0.1",
        "INVENTORY_HEALTH_CHECK_INTERVAL": "0.5",
        "INVENTORY_GRACE_PERIOD": "2",
    }
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "inventory_server.cli", "serve"],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    server = ServerProcess(process, port, log_path)
    try:
        with grpc.insecure_channel(server.target) as channel:
            health = health_pb2_grpc.HealthStub(channel)
            _wait_for(health, "liveness", SERVING)
            _wait_for(health, "", NOT_SERVING)
            assert _status(health, "inventory.v1.ProductService") == NOT_SERVING
            stats = stats_pb2_grpc.StatsServiceStub(channel).GetStats(stats_pb2.GetStatsRequest(), timeout=5)
            assert stats.health.status == "NOT_SERVING"
            assert "no migration history" in stats.health.reason
            assert "no migration history" in server.log()
            # The database answers all along: only the schema keeps the replica out of traffic.
            assert stats.health.consecutive_failures == 0

            migrate_database(empty_dsn)
            _wait_for(health, "", SERVING, timeout=10)
            stats = stats_pb2_grpc.StatsServiceStub(channel).GetStats(stats_pb2.GetStatsRequest(), timeout=5)
            assert (stats.health.status, stats.health.reason) == ("SERVING", "")
            assert _status(health, "liveness") == SERVING
    finally:
        assert server.stop() == 0, server.log()
