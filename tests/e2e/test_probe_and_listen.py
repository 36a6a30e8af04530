"""`inventory-server probe` against live servers (each of grpc_health_probe's exit codes), and a busy
port: a second server on it exits non-zero with one line naming the address, never shares it."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest
import trustme
from grpc_health.v1 import health_pb2, health_pb2_grpc

from .conftest import ServerProcess, free_port, start_server

SERVING = health_pb2.HealthCheckResponse.SERVING


def probe(*flags: str) -> subprocess.CompletedProcess[str]:
    """The console script's code path: ``python -m inventory_server.cli probe ...``."""
    return subprocess.run(
        [sys.executable, "-m", "inventory_server.cli", "probe", *flags],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )


# --- exit 0 / 3 / 1 against a healthy server ------------------------------------------------------------


def test_probe_of_a_serving_server_exits_0(server: ServerProcess) -> None:
    result = probe(f"-addr={server.target}")
    assert result.returncode == 0, result.stderr
    assert "status: SERVING" in result.stderr
    spaced = probe("-addr", server.target, "-service", "inventory.v1.ProductService", "--rpc-timeout=5s")
    assert spaced.returncode == 0, spaced.stderr


def test_probe_of_an_unknown_service_is_an_rpc_failure_exit_3(server: ServerProcess) -> None:
    result = probe(f"-addr={server.target}", "-service=no.such.Service")
    assert result.returncode == 3, result.stderr
    assert "health rpc failed: NOT_FOUND" in result.stderr


@pytest.mark.parametrize(
    "flags",
    [
        [],  # no -addr
        ["-connect-timeout=0s"],
        ["-rpc-timeout=soon"],
        ["-tls-ca-cert=/tmp/ca.pem"],  # without -tls
        ["-tls", "-tls-client-cert=/tmp/c.pem"],  # without its key
        ["-no-such-flag"],
        ["-tls-no-verify"],  # refused, not silently ignored
        ["-tls", "-tls-ca-cert=/nonexistent/ca.pem"],  # unreadable TLS file
    ],
)
def test_probe_with_invalid_arguments_exits_1(server: ServerProcess, flags: list[str]) -> None:
    addr = [] if flags == [] else [f"-addr={server.target}"]
    result = probe(*addr, *flags)
    assert result.returncode == 1, result.stderr
    assert result.stderr.startswith("error: ")
    assert "Traceback" not in result.stderr


# --- exit 2: nothing listening -----------------------------------------------------------------------


def test_probe_of_a_closed_port_is_a_connection_failure_exit_2() -> None:
    port = free_port()
    result = probe(f"-addr=127.0.0.1:{port}", "-connect-timeout=300ms")
    assert result.returncode == 2, result.stderr
    assert f"failed to connect service '127.0.0.1:{port}'" in result.stderr


# --- exit 4: a live server whose database is down ---------------------------------------------------------


@pytest.fixture
def server_without_database(tmp_path: Path) -> Iterator[ServerProcess]:
    """A running server whose DATABASE_URL points at a port nothing listens on: "" is NOT_SERVING."""
    port = free_port()
    log_path = tmp_path / "server.log"
    env = {
        **os.environ,
        "DATABASE_URL": f"postgresql://nobody@127.0.0.1:{free_port()}/none?connect_timeout=1",
        "INVENTORY_HOST": "127.0.0.1",
        "INVENTORY_PORT": str(port),
        "INVENTORY_HEALTH_CHECK_INTERVAL": "0.5",
        "INVENTORY_GRACE_PERIOD": "1",
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
        wait_for_status(server, "", health_pb2.HealthCheckResponse.NOT_SERVING)
        yield server
    finally:
        server.stop()


def wait_for_status(server: ServerProcess, service: str, wanted: int, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    with grpc.insecure_channel(server.target) as channel:
        stub = health_pb2_grpc.HealthStub(channel)
        while time.monotonic() < deadline:
            assert server.process.poll() is None, server.log()
            try:
                if stub.Check(health_pb2.HealthCheckRequest(service=service), timeout=1).status == wanted:
                    return
            except grpc.RpcError:
                pass
            time.sleep(0.2)
    raise TimeoutError(server.log())


def test_probe_of_a_not_serving_server_exits_4(server_without_database: ServerProcess) -> None:
    result = probe(f"-addr={server_without_database.target}")
    assert result.returncode == 4, result.stderr
    assert "service unhealthy (responded with NOT_SERVING)" in result.stderr
    # the same process is alive: the liveness name stays SERVING
    alive = probe(f"-addr={server_without_database.target}", "-service=liveness")
    assert alive.returncode == 0, alive.stderr


# --- TLS -------------------------------------------------------------------------------------------------


def test_probe_speaks_tls_and_mutual_tls(migrated_dsn: str, tmp_path: Path) -> None:
    ca = trustme.CA()
    server_cert = ca.issue_cert("inventory.internal")
    client_cert = ca.issue_cert("healthcheck")
    files = {
        name: tmp_path / name for name in ("server.pem", "server.key", "ca.pem", "client.pem", "client.key")
    }
    for blob in server_cert.cert_chain_pems:
        blob.write_to_path(str(files["server.pem"]), append=True)
    server_cert.private_key_pem.write_to_path(str(files["server.key"]))
    ca.cert_pem.write_to_path(str(files["ca.pem"]))
    for blob in client_cert.cert_chain_pems:
        blob.write_to_path(str(files["client.pem"]), append=True)
    client_cert.private_key_pem.write_to_path(str(files["client.key"]))
    health_port = free_port()
    env = {
        "DATABASE_URL": migrated_dsn,
        "INVENTORY_TLS_CERT_FILE": str(files["server.pem"]),
        "INVENTORY_TLS_KEY_FILE": str(files["server.key"]),
        "INVENTORY_TLS_CLIENT_CA_FILE": str(files["ca.pem"]),
        "INVENTORY_HEALTH_PORT": str(health_port),
    }
    server = start_server(tmp_path, env, health_target=f"127.0.0.1:{health_port}")
    try:
        tls = [f"-addr={server.target}", "-tls", f"-tls-ca-cert={files['ca.pem']}"]
        mutual = probe(
            *tls,
            "-tls-server-name=inventory.internal",
            f"-tls-client-cert={files['client.pem']}",
            f"-tls-client-key={files['client.key']}",
        )
        assert mutual.returncode == 0, mutual.stderr
        # the server name does not match the certificate: the handshake never completes
        wrong_name = probe(*tls, "-tls-server-name=elsewhere.internal", "-connect-timeout=1s")
        assert wrong_name.returncode == 2, wrong_name.stderr
        plaintext_health = probe(f"-addr=127.0.0.1:{health_port}")
        assert plaintext_health.returncode == 0, plaintext_health.stderr
    finally:
        assert server.stop() == 0, server.log()


def test_probe_imports_nothing_of_the_service() -> None:
    code = (
        "import sys\n"
        "from inventory_server.cli import main\n"
        "main(['probe', '-addr=127.0.0.1:1', '-connect-timeout=10ms'])\n"
        "loaded = [m for m in sys.modules if m.startswith(('psycopg', 'inventory_server.'))]\n"
        "print(sorted(m for m in loaded if m not in ('inventory_server.cli', 'inventory_server.probe')))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert result.stdout.strip() == "[]"


# --- a busy port ------------------------------------------------------------------------------------------


def test_a_second_server_on_a_busy_port_exits_with_one_line_naming_the_address(
    server: ServerProcess, migrated_dsn: str
) -> None:
    env = {
        **os.environ,
        "DATABASE_URL": migrated_dsn,
        "INVENTORY_HOST": "127.0.0.1",
        "INVENTORY_PORT": str(server.port),
    }
    second = subprocess.run(
        [sys.executable, "-m", "inventory_server.cli", "serve"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert second.returncode == 3
    lines = second.stderr.splitlines()
    assert lines == [
        f"inventory-server: cannot listen on 127.0.0.1:{server.port}: address already in use "
        "(another process listens on this port)"
    ], second.stderr
    assert second.stdout == ""
    # the first server still answers, alone
    assert probe(f"-addr={server.target}").returncode == 0


def test_a_port_held_by_a_reuseport_listener_is_busy_too(migrated_dsn: str) -> None:
    """The case grpc's default allowed: another process listening with SO_REUSEPORT."""
    with socket.socket() as other:
        other.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        other.bind(("127.0.0.1", 0))
        other.listen()
        port = other.getsockname()[1]
        env = {
            **os.environ,
            "DATABASE_URL": migrated_dsn,
            "INVENTORY_HOST": "127.0.0.1",
            "INVENTORY_PORT": str(port),
        }
        result = subprocess.run(
            [sys.executable, "-m", "inventory_server.cli", "serve"],
            env=env,
            capture_output=True,
            text=True,
            check=False,
            timeout=60,
        )
    assert result.returncode == 3
    assert result.stderr.strip() == (
        f"inventory-server: cannot listen on 127.0.0.1:{port}: address already in use "
        "(another process listens on this port)"
    )
