"""`serve --workers N`: N processes on one port, supervised, drained together; a foreign port holder fails."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from inventory_client import InventoryClient
from inventory_client.v1 import stats_pb2, stats_pb2_grpc, warehouse_pb2
from tests.e2e.conftest import ServerProcess, free_port, start_server

ENV = {"INVENTORY_HEALTH_CHECK_INTERVAL": "0.5", "INVENTORY_GRACE_PERIOD": "3"}


def _worker_of_new_connection(target: str) -> str | None:
    """Health Check over a fresh connection (the kernel picks a worker per connection): who answered.

    None while that worker is not SERVING yet (it binds before its first database check).
    """
    with grpc.insecure_channel(target, options=[("grpc.use_local_subchannel_pool", 1)]) as channel:
        reply, call = health_pb2_grpc.HealthStub(channel).Check.with_call(
            # wait_for_ready: a connection caught in a dying worker's accept queue is reset, and the
            # client's reconnect (what any gRPC client does) lands on a live worker
            health_pb2.HealthCheckRequest(service=""),
            timeout=10,
            wait_for_ready=True,
        )
        if reply.status != health_pb2.HealthCheckResponse.SERVING:
            return None
        return str(dict(call.initial_metadata())["inventory-worker"])


def _workers_answering(target: str, timeout: float = 60.0) -> set[str]:
    """The workers seen answering SERVING over fresh connections, until both were seen or time is up."""
    seen: set[str] = set()
    deadline = time.monotonic() + timeout
    while len(seen) < 2 and time.monotonic() < deadline:
        worker = _worker_of_new_connection(target)
        if worker is not None:
            seen.add(worker)
        else:
            time.sleep(0.1)
    return seen


def _worker_pids(server: ServerProcess) -> dict[int, int]:
    """index -> pid of the latest start of each worker, from the supervisor's log."""
    pids: dict[int, int] = {}
    for index, pid in re.findall(r"worker (\d+) started \(pid (\d+)\)", server.log()):
        pids[int(index)] = int(pid)
    return pids


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # a zombie (exited, not yet reaped) counts as gone
    stat = Path(f"/proc/{pid}/stat")
    return stat.exists() and stat.read_text().split(") ")[-1][:1] != "Z"


def test_two_workers_answer_on_one_port_and_stats_say_which(migrated_dsn: str, tmp_path: Path) -> None:
    server = start_server(tmp_path, {"DATABASE_URL": migrated_dsn, "INVENTORY_WORKERS": "2", **ENV})
    try:
        assert _workers_answering(server.target) == {"0", "1"}
        with grpc.insecure_channel(server.target) as channel:
            _, call = stats_pb2_grpc.StatsServiceStub(channel).GetStats.with_call(
                stats_pb2.GetStatsRequest(), timeout=10
            )
            assert dict(call.initial_metadata())["inventory-worker"] in {"0", "1"}
        # a real call works whichever worker gets it
        with InventoryClient(server.target, timeout=10) as client:
            created = client.warehouses.CreateWarehouse(
                warehouse_pb2.CreateWarehouseRequest(
                    warehouse=warehouse_pb2.Warehouse(code="W-WORKERS", name="workers")
                )
            ).warehouse
            for _ in range(4):  # new connections land on either worker: both see the same database
                with InventoryClient(server.target, timeout=10) as other:
                    got = other.warehouses.GetWarehouse(warehouse_pb2.GetWarehouseRequest(id=created.id))
                    assert got.warehouse.code == "W-WORKERS"
        assert len(_worker_pids(server)) == 2
    finally:
        code = server.stop()
    assert code == 0, server.log()


def test_a_killed_worker_is_restarted_and_the_port_keeps_answering(migrated_dsn: str, tmp_path: Path) -> None:
    server = start_server(tmp_path, {"DATABASE_URL": migrated_dsn, "INVENTORY_WORKERS": "2", **ENV})
    try:
        before = _worker_pids(server)
        os.kill(before[0], signal.SIGKILL)
        # the other worker keeps the port answering while worker 0 comes back
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            after = _worker_pids(server)
            if after.get(0, before[0]) != before[0]:
                break
            answer = _worker_of_new_connection(server.target)
            if answer == "0":
                # The killed process cannot answer (SIGKILL closed its socket): this is the restarted
                # worker 0, up before its start reached the log. The checks below confirm it.
                break
            assert answer in ("1", None)
            time.sleep(0.1)
        while _worker_pids(server).get(0, before[0]) == before[0] and time.monotonic() < deadline:
            time.sleep(0.1)
        after = _worker_pids(server)
        assert after[0] != before[0], server.log()
        assert after[1] == before[1]
        assert f"worker 0 (pid {before[0]}) died" in server.log()
        assert _workers_answering(server.target) == {"0", "1"}, server.log()
    finally:
        code = server.stop()
    assert code == 0, server.log()


def test_sigterm_stops_every_worker_and_exits_0(migrated_dsn: str, tmp_path: Path) -> None:
    server = start_server(tmp_path, {"DATABASE_URL": migrated_dsn, "INVENTORY_WORKERS": "2", **ENV})
    pids = _worker_pids(server)
    assert len(pids) == 2
    code = server.stop()
    assert code == 0, server.log()
    assert not any(_alive(pid) for pid in pids.values())
    assert server.log().count("stopped") >= 2  # each worker drained ("stopped"), then the supervisor


def test_a_foreign_process_on_the_port_still_fails_start_up(migrated_dsn: str, tmp_path: Path) -> None:
    for reuseport in (False, True):
        with socket.socket() as holder:
            if reuseport:  # even a holder that allows sharing is not one of ours
                holder.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
            holder.bind(("127.0.0.1", 0))
            holder.listen()
            port = holder.getsockname()[1]
            result = subprocess.run(
                [sys.executable, "-m", "inventory_server.cli", "serve"],
                env={
                    **os.environ,
                    "DATABASE_URL": migrated_dsn,
                    "INVENTORY_HOST": "127.0.0.1",
                    "INVENTORY_PORT": str(port),
                    "INVENTORY_WORKERS": "2",
                },
                capture_output=True,
                text=True,
                timeout=60,
            )
        assert result.returncode == 3, result.stderr
        assert f"cannot listen on 127.0.0.1:{port}" in result.stderr


def test_metrics_add_up_over_the_workers(migrated_dsn: str, tmp_path: Path) -> None:
    metrics_port = free_port()
    server = start_server(
        tmp_path,
        {
            "DATABASE_URL": migrated_dsn,
            "INVENTORY_WORKERS": "2",
            "INVENTORY_METRICS_PORT": str(metrics_port),
            **ENV,
        },
    )
    try:
        assert _workers_answering(server.target) == {"0", "1"}
        answered = [_worker_of_new_connection(server.target) for _ in range(40)]
        assert None not in answered
        with urllib.request.urlopen(f"http://127.0.0.1:{metrics_port}/metrics", timeout=10) as reply:
            text = reply.read().decode()
        total = sum(
            float(line.rsplit(" ", 1)[1])
            for line in text.splitlines()
            if line.startswith("grpc_server_handled_total{")
            and 'grpc_method="Check"' in line
            and 'grpc_code="OK"' in line
        )
        assert total >= 40, text
        # The workers' own figures (published each second into the multiprocess files).
        deadline = time.monotonic() + 15
        while True:
            with urllib.request.urlopen(f"http://127.0.0.1:{metrics_port}/metrics", timeout=10) as reply:
                samples = _samples(reply.read().decode())
            if samples.get("inventory_database_up") == 1 or time.monotonic() > deadline:
                break
            time.sleep(0.5)
        assert samples.get("inventory_database_up") == 1, samples
        assert samples.get("inventory_db_pool_max_size", 0) >= 2, samples  # both workers' pools, added up
        assert samples.get("inventory_schema_version", 0) >= 1, samples
        assert "inventory_cache_hits_total" in samples, samples
    finally:
        code = server.stop()
    assert code == 0, server.log()


def _samples(text: str) -> dict[str, float]:
    """Unlabelled samples of a Prometheus exposition, by name."""
    out: dict[str, float] = {}
    for line in text.splitlines():
        if line and not line.startswith("#") and "{" not in line:
            name, _, number = line.rpartition(" ")
            out[name] = float(number)
    return out
