"""Deadlines and cancellation reach the database; an exhausted pool answers UNAVAILABLE quickly.

The test holds a row lock from its own connection, so the server's UPDATE of
that row blocks inside PostgreSQL. Whether the caller's deadline passes or the
caller cancels, the server must cancel that query on the server (no backend of
the service left waiting on the lock), not merely stop listening for it.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import grpc
import psycopg
import pytest
from google.protobuf.field_mask_pb2 import FieldMask

from inventory_client import InventoryClient, UnavailableError
from inventory_client.errors import DeadlineExceededError
from inventory_client.v1 import product_pb2 as pb
from inventory_client.v1 import product_pb2_grpc, stats_pb2

from .conftest import ServerProcess, start_server

SHORT_DEADLINE = 0.5
# "About the deadline": well under the 30 s statement_timeout, with room for a loaded machine.
DEADLINE_SLACK = 1.5


@contextmanager
def row_locked(dsn: str, product_id: str) -> Iterator[None]:
    """Hold ``SELECT ... FOR UPDATE`` on one product until the block ends."""
    with psycopg.connect(dsn) as conn:
        conn.execute("SELECT id FROM products WHERE id = %s FOR UPDATE", (product_id,))
        yield
        conn.rollback()


def waiting_on_locks(dsn: str) -> int:
    """Backends of this database (other than ours) waiting for a lock right now."""
    with psycopg.connect(dsn, autocommit=True) as conn:
        row = conn.execute(
            "SELECT count(*) FROM pg_stat_activity"
            " WHERE datname = current_database() AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()"
        ).fetchone()
    return int(row[0]) if row else 0


def wait_for_waiters(dsn: str, expected: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while (count := waiting_on_locks(dsn)) != expected:
        if time.monotonic() > deadline:
            raise AssertionError(f"{count} backend(s) waiting on a lock, expected {expected}")
        time.sleep(0.05)


def rename(product_id: str, name: str) -> pb.UpdateProductRequest:
    return pb.UpdateProductRequest(
        product=pb.Product(id=product_id, name=name), update_mask=FieldMask(paths=["name"])
    )


def create(client: InventoryClient, sku: str) -> pb.Product:
    product: pb.Product = client.products.CreateProduct(
        pb.CreateProductRequest(product=pb.Product(sku=sku, name="Locked widget"))
    ).product
    return product


def test_a_short_deadline_ends_a_blocked_update_in_time_and_cancels_its_query(
    client: InventoryClient, migrated_dsn: str
) -> None:
    product = create(client, "DL-1")
    with row_locked(migrated_dsn, product.id):
        started = time.monotonic()
        with pytest.raises(DeadlineExceededError):
            client.products.UpdateProduct(rename(product.id, "too late"), timeout=SHORT_DEADLINE)
        elapsed = time.monotonic() - started
        assert SHORT_DEADLINE * 0.8 <= elapsed < SHORT_DEADLINE + DEADLINE_SLACK
        # Still holding the lock: a query that merely lost its caller would still be waiting.
        wait_for_waiters(migrated_dsn, 0, timeout=3.0)
    fetched = client.products.GetProduct(pb.GetProductRequest(id=product.id)).product
    assert fetched.name == "Locked widget"


def test_a_cancelled_call_cancels_its_query(
    server: ServerProcess, client: InventoryClient, migrated_dsn: str
) -> None:
    product = create(client, "DL-2")
    with row_locked(migrated_dsn, product.id), grpc.insecure_channel(server.target) as channel:
        stub = product_pb2_grpc.ProductServiceStub(channel)
        future = stub.UpdateProduct.future(
            rename(product.id, "never"), timeout=60, metadata=(("x-test", "cancel"),)
        )
        wait_for_waiters(migrated_dsn, 1, timeout=10.0)  # the server's UPDATE is blocked on our lock
        future.cancel()  # type: ignore[no-untyped-call]
        wait_for_waiters(migrated_dsn, 0, timeout=3.0)
        assert future.cancelled()
    # The server carries on normally, and the cancelled update never happened.
    fetched = client.products.GetProduct(pb.GetProductRequest(id=product.id)).product
    assert fetched.name == "Locked widget"
    client.products.UpdateProduct(rename(product.id, "after"))


def test_an_exhausted_pool_answers_unavailable_quickly_and_counts_the_timeout(
    migrated_dsn: str, tmp_path: Path
) -> None:
    server = start_server(
        tmp_path,
        {
            "DATABASE_URL": migrated_dsn,
            "INVENTORY_POOL_MIN_SIZE": "1",
            "INVENTORY_POOL_MAX_SIZE": "1",
            "INVENTORY_POOL_TIMEOUT": "0.5",
            "INVENTORY_CACHE_ENABLED": "false",
            "INVENTORY_GRACE_PERIOD": "2",
        },
    )
    try:
        with (
            InventoryClient(server.target, timeout=10, max_attempts=1) as client,
            grpc.insecure_channel(server.target) as channel,
        ):
            product = create(client, "DL-3")
            before = client.stats.GetStats(stats_pb2.GetStatsRequest())
            with row_locked(migrated_dsn, product.id):
                stub = product_pb2_grpc.ProductServiceStub(channel)
                blocked = stub.UpdateProduct.future(rename(product.id, "holding"), timeout=30)
                wait_for_waiters(migrated_dsn, 1, timeout=10.0)  # it holds the only connection

                started = time.monotonic()
                with pytest.raises(UnavailableError) as info:
                    client.products.GetProduct(pb.GetProductRequest(id=str(uuid.uuid4())))
                assert time.monotonic() - started < 0.5 + 2.5
                assert info.value.retry_delay is not None  # retryable, with RetryInfo

                during = client.stats.GetStats(stats_pb2.GetStatsRequest())
                assert during.pool.acquisition_timeouts >= before.pool.acquisition_timeouts + 1
                assert during.pool.requests_waited >= before.pool.requests_waited + 1
                assert during.pool.max_size == 1
                assert during.pool.in_use == 1
                blocked.cancel()  # type: ignore[no-untyped-call]
            wait_for_waiters(migrated_dsn, 0, timeout=3.0)
            # The connection is back: the service works again.
            assert client.products.GetProduct(pb.GetProductRequest(id=product.id)).product.id == product.id
    finally:
        assert server.stop() == 0, server.log()
