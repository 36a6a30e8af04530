"""The real server through a real PgBouncer in transaction mode (``INVENTORY_PGBOUNCER=true``).

Transaction pooling hands each transaction whichever server connection is
free, so session state does not follow a client: server-side prepared
statements and session settings break. With ``INVENTORY_PGBOUNCER`` the
service uses neither. The workload repeats every statement far more often than
psycopg's prepare threshold, from several threads, over a PgBouncer with fewer
server connections than the service's pool has clients, so any statement that
relied on session state would fail.

The database is migrated directly (migrations hold a session advisory lock),
never through PgBouncer. PgBouncer comes from the Debian package, installed by
scripts/test.sh.
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest
from google.protobuf.field_mask_pb2 import FieldMask
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from inventory_client import InventoryClient, NotFoundError
from inventory_client.v1 import product_pb2 as pb
from inventory_client.v1 import stats_pb2

from .conftest import ServerProcess, free_port, start_server

SERVER_CONNECTIONS = 2  # PgBouncer's pool per database/user: fewer than the service's clients
THREADS = 4
ROUNDS = 15  # per thread; each round runs five RPCs, so every statement runs 60+ times


@dataclass
class PgBouncer:
    process: subprocess.Popen[bytes]
    port: int
    root: Path

    def dsn_for(self, direct_dsn: str) -> str:
        """The same database reached through PgBouncer."""
        params = conninfo_to_dict(direct_dsn)
        params.update(host="127.0.0.1", port=str(self.port))
        return make_conninfo("", **params)

    def log(self) -> str:
        path = self.root / "pgbouncer.log"
        return path.read_text(errors="replace") if path.exists() else ""


def pgbouncer_binary() -> str:
    found = shutil.which("pgbouncer") or next(
        (p for p in ("/usr/sbin/pgbouncer", "/usr/bin/pgbouncer") if Path(p).exists()), None
    )
    if found is None:
        raise RuntimeError("pgbouncer is not installed: scripts/test.sh installs the Debian package")
    return found


def _wait_for_port(port: int, process: subprocess.Popen[bytes], timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"pgbouncer exited with {process.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


@pytest.fixture
def pgbouncer(admin_dsn: str) -> Iterator[PgBouncer]:
    """PgBouncer in transaction mode on a free port, in front of the test PostgreSQL."""
    upstream = conninfo_to_dict(admin_dsn)
    root = Path(tempfile.mkdtemp(prefix="inventory-pgbouncer-"))
    port = free_port()
    (root / "userlist.txt").write_text(f'"{upstream.get("user", "postgres")}" ""\n')
    (root / "pgbouncer.ini").write_text(
        "[databases]\n"
        f"* = host={upstream.get('host', '127.0.0.1')} port={upstream.get('port', '5432')}\n"
        "[pgbouncer]\n"
        "listen_addr = 127.0.0.1\n"
        f"listen_port = {port}\n"
        "unix_socket_dir =\n"
        "auth_type = trust\n"
        f"auth_file = {root / 'userlist.txt'}\n"
        "pool_mode = transaction\n"
        f"default_pool_size = {SERVER_CONNECTIONS}\n"
        "max_client_conn = 200\n"
        f"logfile = {root / 'pgbouncer.log'}\n"
        f"pidfile = {root / 'pgbouncer.pid'}\n"
    )
    command = [pgbouncer_binary(), str(root / "pgbouncer.ini")]
    if os.geteuid() == 0:  # PgBouncer refuses to run as root
        user = pwd.getpwnam("postgres")
        for path in (root, *root.iterdir()):
            os.chown(path, user.pw_uid, user.pw_gid)
        command = ["runuser", "-u", user.pw_name, "--", *command]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    bouncer = PgBouncer(process, port, root)
    try:
        _wait_for_port(port, process)
        yield bouncer
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def bounced_server(pgbouncer: PgBouncer, migrated_dsn: str, tmp_path: Path) -> Iterator[ServerProcess]:
    server = start_server(
        tmp_path,
        {
            "DATABASE_URL": pgbouncer.dsn_for(migrated_dsn),
            "INVENTORY_PGBOUNCER": "true",
            "INVENTORY_POOL_MIN_SIZE": "4",
            "INVENTORY_POOL_MAX_SIZE": "8",
            "INVENTORY_HEALTH_CHECK_INTERVAL": "0.5",
            "INVENTORY_GRACE_PERIOD": "5",
        },
    )
    yield server
    assert server.stop() == 0, server.log()


def product_round(client: InventoryClient, worker: int, round_no: int) -> None:
    """Create, get, list, update and get again: the product workload, once."""
    sku = f"PGB-{worker}-{round_no}-{uuid.uuid4().hex[:6]}"
    created = client.products.CreateProduct(
        pb.CreateProductRequest(product=pb.Product(sku=sku, name="Bounced", unit_price_minor=round_no))
    ).product
    fetched = client.products.GetProduct(pb.GetProductRequest(id=created.id)).product
    assert fetched.sku == sku
    page = client.products.ListProducts(pb.ListProductsRequest(page_size=5, filter=f'sku = "{sku}"'))
    assert [p.id for p in page.products] == [created.id]
    updated = client.products.UpdateProduct(
        pb.UpdateProductRequest(
            product=pb.Product(id=created.id, name=f"Bounced {round_no}", etag=fetched.etag),
            update_mask=FieldMask(paths=["name"]),
        )
    ).product
    assert updated.name == f"Bounced {round_no}"
    with pytest.raises(NotFoundError):
        client.products.GetProduct(pb.GetProductRequest(id=str(uuid.uuid4())))


def worker_rounds(target: str, worker: int) -> int:
    with InventoryClient(target, timeout=15, max_attempts=1) as client:
        for round_no in range(ROUNDS):
            product_round(client, worker, round_no)
    return ROUNDS


def test_the_product_workload_runs_through_transaction_pooling_without_session_state(
    bounced_server: ServerProcess, pgbouncer: PgBouncer, migrated_dsn: str
) -> None:
    with ThreadPoolExecutor(THREADS) as pool:
        done = sum(pool.map(lambda w: worker_rounds(bounced_server.target, w), range(THREADS)))
    assert done == THREADS * ROUNDS

    with InventoryClient(bounced_server.target, timeout=10) as client:
        stats = client.stats.GetStats(stats_pb2.GetStatsRequest())
    get = next(m for m in stats.methods if m.method == "/inventory.v1.ProductService/GetProduct")
    assert get.calls == 2 * THREADS * ROUNDS
    assert set(get.errors_by_code) == {"NOT_FOUND"}
    for m in stats.methods:  # nothing but the expected NOT_FOUNDs went wrong
        assert set(m.errors_by_code) <= {"NOT_FOUND"}, m
    assert stats.health.status == "SERVING"
    assert stats.HasField("database")

    with psycopg.connect(migrated_dsn, autocommit=True) as conn:
        count = conn.execute("SELECT count(*) FROM products WHERE sku LIKE 'PGB-%%'").fetchone()
    assert count == (THREADS * ROUNDS,)
    log = bounced_server.log()
    assert "prepared statement" not in log
    assert "unhandled error" not in log
    assert "ERROR" not in pgbouncer.log()


def test_a_short_deadline_is_enforced_through_pgbouncer(
    bounced_server: ServerProcess, migrated_dsn: str
) -> None:
    """Without session settings there is no statement_timeout: the caller's deadline still cuts work short."""
    from inventory_client.errors import DeadlineExceededError

    with InventoryClient(bounced_server.target, timeout=10, max_attempts=1) as client:
        product = client.products.CreateProduct(
            pb.CreateProductRequest(product=pb.Product(sku="PGB-LOCK", name="Bounced"))
        ).product
        with psycopg.connect(migrated_dsn) as locker:
            locker.execute("SELECT id FROM products WHERE id = %s FOR UPDATE", (product.id,))
            started = time.monotonic()
            with pytest.raises(DeadlineExceededError):
                client.products.UpdateProduct(
                    pb.UpdateProductRequest(
                        product=pb.Product(id=product.id, name="late"), update_mask=FieldMask(paths=["name"])
                    ),
                    timeout=0.5,
                )
            assert time.monotonic() - started < 2.0
            locker.rollback()
        # The server connection PgBouncer lent is usable again: the workload goes on.
        product_round(client, 99, 0)
