"""What every benchmark needs: a throwaway migrated database, a real server process, /proc figures.

The database lives on ``BENCH_ADMIN_DSN`` (default the local PostgreSQL) and
is dropped afterwards; the server is ``inventory-server serve`` on a free port,
stopped with SIGTERM. Figures come from /proc, so they need the same machine.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import grpc
import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo

# The server's own definition (nearest rank), so bench and Stats percentiles mean the same;
# re-exported for run.py and bench_scale.py.
from inventory_server.percentiles import percentile as percentile

ADMIN_DSN = os.environ.get("BENCH_ADMIN_DSN", "postgresql://postgres@127.0.0.1:5432/postgres")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def throwaway_database() -> Iterator[str]:
    """A freshly migrated database for one benchmark run; yields its DSN, drops it afterwards."""
    from inventory_server.migrate import migrate_database

    name = f"inv_bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(ADMIN_DSN, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    params = conninfo_to_dict(ADMIN_DSN)
    params["dbname"] = name
    dsn = make_conninfo("", **params)
    try:
        migrate_database(dsn)
        yield dsn
    finally:
        with psycopg.connect(ADMIN_DSN, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


@dataclass
class Server:
    process: subprocess.Popen[bytes]
    port: int

    @property
    def target(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        return self.process.pid


@contextmanager
def running_server(dsn: str, env: dict[str, str] | None = None) -> Iterator[Server]:
    """``inventory-server serve`` on a free port until the block ends (its log goes to the temp dir)."""
    port = free_port()
    full_env = {
        **os.environ,
        "DATABASE_URL": dsn,
        "INVENTORY_PORT": str(port),
        "INVENTORY_HOST": "127.0.0.1",
        "INVENTORY_LOG_LEVEL": "WARNING",
        **(env or {}),
    }
    log_path = Path(tempfile.gettempdir()) / f"inventory-bench-{port}.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "inventory_server.cli", "serve"], env=full_env, stdout=log, stderr=log
        )
    try:
        _wait_ready(process, port, log_path)
        yield Server(process, port)
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=30)


def _wait_ready(process: subprocess.Popen[bytes], port: int, log_path: Path) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
                grpc.channel_ready_future(channel).result(timeout=1)
            return
        except grpc.FutureTimeoutError:
            if process.poll() is not None:
                raise RuntimeError(f"server exited: see {log_path}") from None
    raise TimeoutError(f"server did not start: see {log_path}")


def memory_kib(pid: int) -> tuple[int, int]:
    """(current RSS, peak RSS) of a process in KiB."""
    status = Path(f"/proc/{pid}/status").read_text()
    current = re.search(r"VmRSS:\s+(\d+)", status)
    peak = re.search(r"VmHWM:\s+(\d+)", status)
    return (int(current.group(1)) if current else 0, int(peak.group(1)) if peak else 0)


def cpu_seconds(pid: int) -> float:
    """CPU time (user + system) the process has used."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
