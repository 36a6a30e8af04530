"""Stock invariants under concurrency: many clients moving stock at once through the real server.

The walk includes multi-line documents (ApplyStockMovements) and reservations
that expire while others ship against them (the service's sweeper releases
them); afterwards open_reservations agrees with the ledger, no expiry was
released twice, and read_time answers at random past instants agree with a
replay of the ledger done here.

After thousands of random movements by 32 concurrent clients the database
must still satisfy the invariants of docs/stock.md ("Levels and invariants"),
every level must equal the sum of its ledger rows, and no client may have seen
a conflict or a server error: deadlocks and serialization failures are the
server's business (docs/stock.md, "Concurrency design").
"""

from __future__ import annotations

import random
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import grpc
import psycopg
import pytest
from google.protobuf.timestamp_pb2 import Timestamp

from inventory_client import FailedPreconditionError, InventoryClient, InventoryError
from inventory_client.v1 import stock_pb2 as pb
from inventory_client.v1 import stock_pb2_grpc

from .conftest import ServerProcess
from .stock_helpers import check_invariants, create_product, insert_user, insert_warehouse

CLIENTS = 32
OPERATIONS_PER_CLIENT = 100  # 3200 movements in all
PRODUCTS = 5
WAREHOUSES = 3
SEED_UNITS = 20

pytestmark = pytest.mark.slow


@pytest.fixture
def server_env() -> dict[str, str]:
    return {
        "INVENTORY_HEALTH_CHECK_INTERVAL": "0.5",
        "INVENTORY_GRACE_PERIOD": "5",
        "INVENTORY_POOL_MIN_SIZE": "4",
        "INVENTORY_POOL_MAX_SIZE": "10",
        "INVENTORY_POOL_TIMEOUT": "30",
        "INVENTORY_RESERVATION_SWEEP_INTERVAL": "0.2",
    }


@dataclass
class Catalogue:
    products: list[str]
    warehouses: list[str]
    users: list[str]
    # (reservation id, product, warehouse), shared by every client so they consume reservations concurrently
    reservations: list[tuple[str, str, str]] = field(default_factory=list)


@dataclass
class Outcome:
    """What one client saw."""

    codes: Counter[str] = field(default_factory=Counter)
    written: int = 0  # successful movements that returned a ledger row
    unexpected: list[str] = field(default_factory=list)


def seed(client: InventoryClient, dsn: str) -> Catalogue:
    catalogue = Catalogue(
        [create_product(client) for _ in range(PRODUCTS)],
        [insert_warehouse(dsn) for _ in range(WAREHOUSES)],
        [insert_user(dsn) for _ in range(4)],
    )
    for product in catalogue.products:
        for warehouse in catalogue.warehouses:
            client.stock.ReceiveStock(
                pb.ReceiveStockRequest(
                    product_id=product,
                    warehouse_id=warehouse,
                    quantity=SEED_UNITS,
                    performed_by=catalogue.users[0],
                )
            )
    return catalogue


class RandomMover:
    """One client's random walk over receive / ship / transfer / reserve / release / adjust."""

    def __init__(self, client: InventoryClient, catalogue: Catalogue, seed: int) -> None:
        self.client = client
        self.catalogue = catalogue
        self.random = random.Random(seed)
        self.reservations = catalogue.reservations
        self.outcome = Outcome()

    def pick(self) -> tuple[str, str, str]:
        c = self.catalogue
        return self.random.choice(c.products), self.random.choice(c.warehouses), self.random.choice(c.users)

    def run(self, operations: int) -> Outcome:
        moves: list[Callable[[], Any]] = [
            self.receive,
            self.ship,
            self.ship,
            self.transfer,
            self.transfer,
            self.reserve,
            self.release,
            self.ship_reserved,
            self.adjust,
            self.document,
            self.reserve_briefly,
        ]
        for _ in range(operations):
            move = self.random.choice(moves)
            try:
                reply = move()
            except FailedPreconditionError:
                self.outcome.codes["FAILED_PRECONDITION"] += 1
            except InventoryError as error:
                self.outcome.codes[error.code.name] += 1
                self.outcome.unexpected.append(f"{move.__name__}: {error}")
            else:
                self.outcome.codes["OK"] += 1
                self.outcome.written += rows_written(reply)
        return self.outcome

    def receive(self) -> Any:
        product, warehouse, user = self.pick()
        return self.client.stock.ReceiveStock(
            pb.ReceiveStockRequest(
                product_id=product,
                warehouse_id=warehouse,
                quantity=self.random.randint(1, 10),
                performed_by=user,
            )
        )

    def ship(self) -> Any:
        product, warehouse, user = self.pick()
        return self.client.stock.ShipStock(
            pb.ShipStockRequest(
                product_id=product,
                warehouse_id=warehouse,
                quantity=self.random.randint(1, 8),
                performed_by=user,
            )
        )

    def transfer(self) -> Any:
        product, _, user = self.pick()
        source, destination = self.random.sample(self.catalogue.warehouses, 2)
        return self.client.stock.TransferStock(
            pb.TransferStockRequest(
                product_id=product,
                from_warehouse_id=source,
                to_warehouse_id=destination,
                quantity=self.random.randint(1, 8),
                performed_by=user,
            )
        )

    def reserve(self) -> Any:
        product, warehouse, user = self.pick()
        reply = self.client.stock.ReserveStock(
            pb.ReserveStockRequest(
                product_id=product,
                warehouse_id=warehouse,
                quantity=self.random.randint(1, 5),
                performed_by=user,
            )
        )
        self.reservations.append((reply.transaction.id, product, warehouse))  # list.append is atomic
        return reply

    def release(self) -> Any:
        if not self.reservations:
            return self.reserve()
        reservation, _, _ = self.random.choice(self.reservations)
        return self.client.stock.ReleaseReservation(
            pb.ReleaseReservationRequest(
                reservation_id=reservation, quantity=self.random.randint(0, 2), performed_by=self.pick()[2]
            )
        )

    def ship_reserved(self) -> Any:
        """Ship against a reservation that any client made."""
        if not self.reservations:
            return self.reserve()
        reservation, product, warehouse = self.random.choice(self.reservations)
        return self.client.stock.ShipStock(
            pb.ShipStockRequest(
                product_id=product,
                warehouse_id=warehouse,
                quantity=self.random.randint(1, 3),
                reservation_id=reservation,
                performed_by=self.pick()[2],
            )
        )

    def reserve_briefly(self) -> Any:
        """A reservation that expires at once: the service releases it while the others race for it."""
        product, warehouse, user = self.pick()
        request = pb.ReserveStockRequest(
            product_id=product, warehouse_id=warehouse, quantity=self.random.randint(1, 3), performed_by=user
        )
        request.ttl.FromMilliseconds(self.random.randint(50, 400))
        reply = self.client.stock.ReserveStock(request)
        self.reservations.append((reply.transaction.id, product, warehouse))
        return reply

    def document(self) -> Any:
        """Two to four random lines in one ApplyStockMovements (same levels, any order, as other clients)."""
        lines = []
        for _ in range(self.random.randint(2, 4)):
            product, warehouse, _ = self.pick()
            other = self.random.choice([w for w in self.catalogue.warehouses if w != warehouse])
            kind = self.random.choice(("receive", "ship", "transfer", "reserve"))
            if kind == "receive":
                line = pb.StockMovementLine(
                    receive=pb.ReceiveLine(product_id=product, warehouse_id=warehouse, quantity=3)
                )
            elif kind == "ship":
                line = pb.StockMovementLine(
                    ship=pb.ShipLine(product_id=product, warehouse_id=warehouse, quantity=2)
                )
            elif kind == "transfer":
                line = pb.StockMovementLine(
                    transfer=pb.TransferLine(
                        product_id=product, from_warehouse_id=warehouse, to_warehouse_id=other, quantity=2
                    )
                )
            else:
                line = pb.StockMovementLine(
                    reserve=pb.ReserveLine(product_id=product, warehouse_id=warehouse, quantity=1)
                )
            lines.append(line)
        return self.client.stock.ApplyStockMovements(
            pb.ApplyStockMovementsRequest(lines=lines, performed_by=self.pick()[2])
        )

    def adjust(self) -> Any:
        product, warehouse, user = self.pick()
        request = pb.AdjustStockRequest(
            product_id=product, warehouse_id=warehouse, reason="count", performed_by=user
        )
        if self.random.random() < 0.5:
            request.counted_quantity = self.random.randint(0, 30)
        else:
            request.delta = self.random.choice([-5, -3, -1, 1, 2, 4])
        return self.client.stock.AdjustStock(request)


def rows_written(reply: Any) -> int:
    """Ledger rows a successful reply reports (a document: one per line that wrote one)."""
    if reply is None:
        return 0
    if "transactions" in reply.DESCRIPTOR.fields_by_name:
        return len(reply.transactions)
    return 1 if reply.HasField("transaction") else 0


def wait_until_no_reservation_is_due(dsn: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    with psycopg.connect(dsn, autocommit=True) as conn:
        while True:
            due = conn.execute("SELECT count(*) FROM open_reservations WHERE expire_time <= now()").fetchone()
            if due == (0,):
                return
            assert time.monotonic() < deadline, f"{due} expired reservations were never released"
            time.sleep(0.1)


def check_reservations_and_history(client: InventoryClient, dsn: str, rng: random.Random) -> int:
    """open_reservations agrees with the ledger, each expiry was released once, read_time replays the ledger.

    Returns the number of RELEASE rows the service wrote for expired reservations.
    """
    with psycopg.connect(dsn) as conn:
        drift = conn.execute(
            "SELECT o.reservation_id FROM open_reservations o"
            " JOIN stock_transactions r ON r.id = o.reservation_id"
            " WHERE o.remaining <> r.quantity - coalesce("
            "(SELECT sum(c.quantity) FROM stock_transactions c WHERE c.reservation_id = r.id), 0)"
        ).fetchall()
        assert drift == []
        twice = conn.execute(
            "SELECT reservation_id FROM stock_transactions WHERE caller = 'inventory-server'"
            " AND reason = 'reservation expired' GROUP BY reservation_id HAVING count(*) > 1"
        ).fetchall()
        assert twice == []
        released = conn.execute(
            "SELECT count(*) FROM stock_transactions WHERE caller = 'inventory-server'"
            " AND reason = 'reservation expired'"
        ).fetchone()
        rows = conn.execute(
            "SELECT type, product_id::text, from_warehouse_id::text, to_warehouse_id::text, quantity,"
            " reservation_id IS NOT NULL, create_time FROM stock_transactions"
        ).fetchall()
    times = sorted(row[6] for row in rows)
    for moment in rng.sample(times, 10):
        product, warehouse = rng.choice(rows)[1], rng.choice([r[2] or r[3] for r in rows])
        on_hand = reserved = 0
        for kind, p, source, target, quantity, against_reservation, created in rows:
            if p != product or created > moment:
                continue
            if target == warehouse and kind in ("receipt", "transfer", "adjustment"):
                on_hand += quantity
            if source == warehouse:
                on_hand -= quantity if kind in ("shipment", "transfer", "adjustment") else 0
                reserved += quantity if kind == "reservation" else 0
                reserved -= (
                    quantity if kind == "release" or (kind == "shipment" and against_reservation) else 0
                )
        read_time = Timestamp()
        read_time.FromDatetime(moment)
        level = client.stock.GetStockLevel(
            pb.GetStockLevelRequest(product_id=product, warehouse_id=warehouse, read_time=read_time)
        ).stock_level
        assert (level.on_hand, level.reserved) == (on_hand, reserved), moment
    return int(released[0]) if released else 0


def test_random_movements_by_32_clients_keep_every_invariant(
    server: ServerProcess, migrated_dsn: str
) -> None:
    with InventoryClient(server.target, timeout=60) as setup_client:
        catalogue = seed(setup_client, migrated_dsn)
    seeded_rows = PRODUCTS * WAREHOUSES
    clients = [InventoryClient(server.target, timeout=60, max_attempts=1) for _ in range(CLIENTS)]
    try:
        movers = [RandomMover(client, catalogue, seed=index) for index, client in enumerate(clients)]
        # A few reservations to start with, so shipments and releases against them race from the start.
        for mover in movers[:8]:
            mover.reserve()
        with ThreadPoolExecutor(max_workers=CLIENTS) as pool:
            outcomes = list(pool.map(lambda mover: mover.run(OPERATIONS_PER_CLIENT), movers))
    finally:
        for client in clients:
            client.close()
    codes: Counter[str] = sum((o.codes for o in outcomes), Counter())
    unexpected = [line for o in outcomes for line in o.unexpected]
    assert unexpected == [], f"{len(unexpected)} unexpected errors, e.g. {unexpected[:5]}; codes {codes}"
    assert sum(codes.values()) == CLIENTS * OPERATIONS_PER_CLIENT
    assert codes["OK"] > CLIENTS * OPERATIONS_PER_CLIENT // 2  # the walk really moved stock
    assert codes["FAILED_PRECONDITION"] > 0  # and really ran dry sometimes
    wait_until_no_reservation_is_due(migrated_dsn)
    totals = check_invariants(migrated_dsn)
    with InventoryClient(server.target, timeout=60) as client:
        expired = check_reservations_and_history(client, migrated_dsn, random.Random(5))
    assert expired > 0  # the sweeper really raced the clients
    assert totals["rows"] == seeded_rows + 8 + sum(o.written for o in outcomes) + expired


def test_one_request_id_sent_by_8_clients_at_once_writes_one_row(
    server: ServerProcess, migrated_dsn: str
) -> None:
    with InventoryClient(server.target) as setup_client:
        catalogue = seed(setup_client, migrated_dsn)
    product, (source, destination, _) = catalogue.products[0], catalogue.warehouses
    requests: list[tuple[str, Any]] = [
        (
            "ReceiveStock",
            pb.ReceiveStockRequest(
                product_id=product,
                warehouse_id=source,
                quantity=7,
                performed_by=catalogue.users[1],
                request_id=f"same-{uuid.uuid4()}",
            ),
        ),
        (
            "TransferStock",
            pb.TransferStockRequest(
                product_id=product,
                from_warehouse_id=source,
                to_warehouse_id=destination,
                quantity=5,
                performed_by=catalogue.users[1],
                request_id=f"same-{uuid.uuid4()}",
            ),
        ),
    ]
    for method, request in requests:
        start = threading.Barrier(8)
        channels = [grpc.insecure_channel(server.target) for _ in range(8)]

        def send(
            channel: grpc.Channel, method: str = method, request: Any = request, start: Any = start
        ) -> Any:
            stub = stock_pb2_grpc.StockServiceStub(channel)
            start.wait()
            return getattr(stub, method)(request, timeout=30)

        try:
            with ThreadPoolExecutor(max_workers=8) as pool:
                replies = list(pool.map(send, channels))
        finally:
            for channel in channels:
                channel.close()
        assert len({reply.transaction.id for reply in replies}) == 1
        assert all(reply == replies[0] for reply in replies)
        with psycopg.connect(migrated_dsn) as conn:
            written = conn.execute(
                "SELECT count(*) FROM stock_transactions WHERE request_id = %s", (request.request_id,)
            ).fetchone()
        assert written == (1,)
    with InventoryClient(server.target) as client:
        level = client.stock.GetStockLevel(pb.GetStockLevelRequest(product_id=product, warehouse_id=source))
    assert level.stock_level.on_hand == SEED_UNITS + 7 - 5
    check_invariants(migrated_dsn)
