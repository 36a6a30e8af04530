"""The change stream under load: 32 concurrent writers, three watchers, a server restart.

One watcher is filtered, one is cancelled mid-way and resumed from its last
token, one stays subscribed while the server is restarted (its client
reconnects by itself). Afterwards, deduplicated by id, each saw exactly the
ledger rows it should have, in commit (position) order, none missing.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from inventory_client import FailedPreconditionError, InventoryClient
from inventory_client.v1 import stock_pb2 as pb

from .conftest import ServerProcess, free_port, start_server
from .stock_helpers import create_product, insert_user, insert_warehouse
from .watch_helpers import Collected, collect, ledger_in_commit_order

WRITERS = 32
MOVES_BEFORE_RESTART = 12
MOVES_AFTER_RESTART = 8
RESUME_AFTER = 40  # changes the cancelled watcher reads before it lets go

pytestmark = pytest.mark.slow


class Restartable:
    """The server on one fixed port, so that clients can reconnect to it after a restart."""

    def __init__(self, tmp_path: Path, dsn: str) -> None:
        self.port = free_port()
        self.tmp_path = tmp_path
        self.env = {
            "DATABASE_URL": dsn,
            "INVENTORY_PORT": str(self.port),
            "INVENTORY_HEALTH_CHECK_INTERVAL": "0.5",
            "INVENTORY_GRACE_PERIOD": "5",
            "INVENTORY_POOL_MAX_SIZE": "10",
            "INVENTORY_POOL_TIMEOUT": "30",
            "INVENTORY_WATCH_HEARTBEAT_INTERVAL": "0.5",
        }
        self.process: ServerProcess | None = None

    @property
    def target(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self) -> None:
        self.process = start_server(self.tmp_path, self.env, health_target=self.target)

    def stop(self) -> None:
        if self.process is not None:
            code = self.process.stop()
            assert code == 0, self.process.log()


@pytest.fixture
def restartable(tmp_path: Path, migrated_dsn: str) -> Iterator[Restartable]:
    server = Restartable(tmp_path, migrated_dsn)
    server.start()
    yield server
    server.stop()


def random_moves(
    client: InventoryClient, products: list[str], warehouses: list[str], user: str, count: int, seed: int
) -> None:
    """Receipts, shipments, transfers and reservations at random; refusals for lack of stock are fine."""
    rng = random.Random(seed)
    for _ in range(count):
        product, source, target = rng.choice(products), *rng.sample(warehouses, 2)
        kind = rng.choice(("receive", "receive", "ship", "transfer", "reserve"))
        try:
            if kind == "receive":
                client.stock.ReceiveStock(
                    pb.ReceiveStockRequest(
                        product_id=product, warehouse_id=source, quantity=rng.randint(1, 5), performed_by=user
                    )
                )
            elif kind == "ship":
                client.stock.ShipStock(
                    pb.ShipStockRequest(
                        product_id=product, warehouse_id=source, quantity=1, performed_by=user
                    )
                )
            elif kind == "transfer":
                client.stock.TransferStock(
                    pb.TransferStockRequest(
                        product_id=product,
                        from_warehouse_id=source,
                        to_warehouse_id=target,
                        quantity=1,
                        performed_by=user,
                    )
                )
            else:
                client.stock.ReserveStock(
                    pb.ReserveStockRequest(
                        product_id=product, warehouse_id=source, quantity=1, performed_by=user
                    )
                )
        except FailedPreconditionError:
            pass


def run_writers(
    target: str, products: list[str], warehouses: list[str], user: str, moves: int, salt: int
) -> None:
    with InventoryClient(target, timeout=30) as client, ThreadPoolExecutor(WRITERS) as pool:
        futures = [
            pool.submit(random_moves, client, products, warehouses, user, moves, salt * 1000 + n)
            for n in range(WRITERS)
        ]
        for future in futures:
            future.result()


def watcher(
    target: str, out: Collected, done: Callable[[Collected], bool], **options: object
) -> threading.Thread:
    def run() -> None:
        with InventoryClient(target) as client:
            collect(client, out, until=done, timeout=240, **options)

    thread = threading.Thread(target=run)
    thread.start()
    assert out.started.wait(30)
    return thread


def test_three_watchers_see_every_matching_row_in_commit_order(
    restartable: Restartable, migrated_dsn: str
) -> None:
    with InventoryClient(restartable.target) as client:
        products = [create_product(client) for _ in range(3)]
    warehouses = [insert_warehouse(migrated_dsn) for _ in range(3)]
    user = insert_user(migrated_dsn)
    last: dict[str, str] = {}  # the final row each watcher must reach, known once the writers are done

    def reached(key: str) -> Callable[[Collected], bool]:
        return lambda c: key in last and any(ch.transaction.id == last[key] for ch in c.changes[-50:])

    filtered, across_restart, first_half = Collected(), Collected(), Collected()
    threads = [
        watcher(restartable.target, filtered, reached("filtered"), filter=f'product_id = "{products[0]}"'),
        watcher(restartable.target, across_restart, reached("all")),
        watcher(restartable.target, first_half, lambda c: len(c.changes) >= RESUME_AFTER),
    ]
    run_writers(restartable.target, products, warehouses, user, MOVES_BEFORE_RESTART, 1)
    threads[2].join(60)  # the cancelled watcher let go after RESUME_AFTER changes
    assert len(first_half.changes) == RESUME_AFTER
    restartable.stop()
    restartable.start()
    run_writers(restartable.target, products, warehouses, user, MOVES_AFTER_RESTART, 2)

    ledger = ledger_in_commit_order(migrated_dsn)
    every = [row_id for row_id, _, _ in ledger]
    matching = [row_id for row_id, product, _ in ledger if product == products[0]]
    last["all"], last["filtered"] = every[-1], matching[-1]
    second_half = Collected()
    threads.append(
        watcher(restartable.target, second_half, reached("all"), resume_token=first_half.last_token)
    )
    for thread in threads:
        thread.join(240)

    for out in (filtered, across_restart, first_half, second_half):
        assert out.error is None, out.error
    assert len(every) > WRITERS * 10
    assert across_restart.ids() == every
    assert filtered.ids() == matching
    resumed = Collected(changes=first_half.changes + second_half.changes)
    assert resumed.ids() == every
