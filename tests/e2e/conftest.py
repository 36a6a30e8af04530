"""End-to-end fixtures: the real server as a subprocess, called through the client package."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from inventory_client import InventoryClient


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class ServerProcess:
    process: subprocess.Popen[bytes]
    port: int
    log_path: Path

    @property
    def target(self) -> str:
        return f"127.0.0.1:{self.port}"

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self, timeout: float = 20.0) -> int:
        """SIGTERM and wait; returns the exit code."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=timeout)


def wait_until_serving(
    target: str, process: subprocess.Popen[bytes], log_path: Path, timeout: float = 60.0
) -> None:
    deadline = time.monotonic() + timeout
    with grpc.insecure_channel(target) as channel:
        stub = health_pb2_grpc.HealthStub(channel)
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise RuntimeError(f"server exited with {process.returncode}:\n{log_path.read_text()}")
            try:
                reply = stub.Check(health_pb2.HealthCheckRequest(service=""), timeout=1)
                if reply.status == health_pb2.HealthCheckResponse.SERVING:
                    return
            except grpc.RpcError:
                pass
            time.sleep(0.2)
    raise TimeoutError(f"server did not become SERVING in {timeout}s:\n{log_path.read_text()}")


def start_server(
    tmp_path: Path, env: dict[str, str], args: list[str] | None = None, health_target: str | None = None
) -> ServerProcess:
    """Start ``inventory-server serve`` on a free port and wait until health says SERVING."""
    port = free_port()
    log_path = tmp_path / f"server-{port}.log"
    full_env = {**os.environ, "INVENTORY_PORT": str(port), "INVENTORY_HOST": "127.0.0.1", **env}
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "inventory_server.cli", "serve", *(args or [])],
            env=full_env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    server = ServerProcess(process, port, log_path)
    try:
        wait_until_serving(health_target or server.target, process, log_path)
    except BaseException:
        server.stop()
        raise
    return server


@pytest.fixture
def server_env() -> dict[str, str]:
    """Extra environment for the server under test; override in a module to change settings."""
    return {"INVENTORY_HEALTH_CHECK_INTERVAL": "0.5", "INVENTORY_GRACE_PERIOD": "5"}


@pytest.fixture
def server(migrated_dsn: str, tmp_path: Path, server_env: dict[str, str]) -> Iterator[ServerProcess]:
    """A running server on a fresh migrated database; stopped with SIGTERM afterwards (must exit 0)."""
    proc = start_server(tmp_path, {"DATABASE_URL": migrated_dsn, **server_env})
    yield proc
    code = proc.stop()
    assert code == 0, f"server exited with {code}:\n{proc.log()}"


@pytest.fixture
def client(server: ServerProcess) -> Iterator[InventoryClient]:
    with InventoryClient(server.target, timeout=10) as c:
        yield c
