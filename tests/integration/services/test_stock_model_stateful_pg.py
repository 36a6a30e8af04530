"""A stateful hypothesis test of StockService over PostgreSQL against a tiny model of the rules.

The same kind of machine as ``tests/unit/services/test_stock_model_stateful.py``,
but through the real transaction manager, repositories and SQL: each example gets fresh
products, warehouses and a user in one migrated database, and after every
step the levels in the database must equal the model and the sums of their
ledger rows. Few examples, so that it stays well under half a minute.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, ClassVar, TypeVar

import psycopg
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from inventory_server.config import Settings
from inventory_server.db.database import Database
from inventory_server.db.transaction_manager import TransactionManager
from inventory_server.domain.errors import FailedPrecondition
from inventory_server.domain.stock import (
    AdjustStock,
    ReceiveStock,
    ReleaseReservation,
    ReserveStock,
    ShipStock,
    StockLevel,
    TransferStock,
)
from inventory_server.repositories.unit_of_work import PostgresUnitOfWork
from inventory_server.services.stock import StockService
from inventory_server.services.stock_results import MovementResult

T = TypeVar("T")
PRODUCTS, WAREHOUSES = 2, 2
quantities = st.integers(min_value=1, max_value=12)
products = st.integers(min_value=0, max_value=PRODUCTS - 1)
warehouses = st.integers(min_value=0, max_value=WAREHOUSES - 1)

# Per (product, warehouse) of the given products: the stored level and what the ledger sums to.
LEVELS_AND_LEDGER = """
WITH movements AS (
    SELECT product_id, to_warehouse_id AS warehouse_id, quantity AS on_hand, 0 AS reserved
      FROM stock_transactions
     WHERE type IN ('receipt', 'transfer', 'adjustment') AND to_warehouse_id IS NOT NULL
    UNION ALL
    SELECT product_id, from_warehouse_id, -quantity, 0
      FROM stock_transactions
     WHERE type IN ('shipment', 'transfer', 'adjustment') AND from_warehouse_id IS NOT NULL
    UNION ALL
    SELECT product_id, from_warehouse_id, 0, CASE type WHEN 'reservation' THEN quantity ELSE -quantity END
      FROM stock_transactions
     WHERE type IN ('reservation', 'release') OR (type = 'shipment' AND reservation_id IS NOT NULL)
)
SELECT l.product_id, l.warehouse_id, l.on_hand, l.reserved,
       (SELECT coalesce(sum(m.on_hand), 0) FROM movements m
         WHERE m.product_id = l.product_id AND m.warehouse_id = l.warehouse_id) AS ledger_on_hand,
       (SELECT coalesce(sum(m.reserved), 0) FROM movements m
         WHERE m.product_id = l.product_id AND m.warehouse_id = l.warehouse_id) AS ledger_reserved
  FROM stock_levels l
 WHERE l.product_id = ANY(%s)
"""


@dataclass
class ModelReservation:
    id: uuid.UUID
    key: tuple[int, int]
    remaining: int


class PgStockMachine(RuleBasedStateMachine):
    """StockService over a real TransactionManager; the model: (product, warehouse) -> [on_hand, reserved]."""

    dsn: ClassVar[str] = ""
    reservations = Bundle("reservations")

    def __init__(self) -> None:
        super().__init__()
        self.loop = asyncio.new_event_loop()
        self.conn = psycopg.connect(self.dsn, autocommit=True)
        self.products = [self.insert("products", "sku", "name") for _ in range(PRODUCTS)]
        self.warehouses = [self.insert("warehouses", "code", "name") for _ in range(WAREHOUSES)]
        user = uuid.uuid4()
        self.conn.execute(
            "INSERT INTO users (id, email, role, password_hash) VALUES (%s, %s, 'clerk', 'x')",
            (user, f"{user.hex}@example.com"),
        )
        self.user = user
        self.database = Database(self.dsn, Settings(pool_min_size=1, pool_max_size=2))
        self.run(self.database.open(wait=True))
        self.service = StockService(TransactionManager(self.database, PostgresUnitOfWork))
        self.levels: dict[tuple[int, int], list[int]] = {}
        self.last_success: tuple[Any, MovementResult] | None = None

    def teardown(self) -> None:
        self.run(self.database.close())
        self.loop.close()
        self.conn.close()

    # helpers -----------------------------------------------------------------
    def insert(self, table: str, code_column: str, name_column: str) -> uuid.UUID:
        id = uuid.uuid4()
        statement = psycopg.sql.SQL("INSERT INTO {} (id, {}, {}) VALUES (%s, %s, 'x')").format(
            psycopg.sql.Identifier(table),
            psycopg.sql.Identifier(code_column),
            psycopg.sql.Identifier(name_column),
        )
        self.conn.execute(statement, (id, id.hex[:20]))
        return id

    def run(self, awaitable: Awaitable[T]) -> T:
        return self.loop.run_until_complete(awaitable)

    def level(self, key: tuple[int, int]) -> list[int]:
        return self.levels.setdefault(key, [0, 0])

    def available(self, key: tuple[int, int]) -> int:
        on_hand, reserved = self.level(key)
        return on_hand - reserved

    def ids(self, key: tuple[int, int]) -> tuple[uuid.UUID, uuid.UUID]:
        return self.products[key[0]], self.warehouses[key[1]]

    def common(self) -> dict[str, Any]:
        return {"request_id": uuid.uuid4().hex, "performed_by": self.user}

    def move(self, command: Any, accepted: bool) -> MovementResult | None:
        methods: dict[type, Callable[[Any], Awaitable[MovementResult]]] = {
            ReceiveStock: self.service.receive,
            ShipStock: self.service.ship,
            TransferStock: self.service.transfer,
            AdjustStock: self.service.adjust,
            ReserveStock: self.service.reserve,
            ReleaseReservation: self.service.release,
        }
        try:
            result = self.run(methods[type(command)](command))
        except FailedPrecondition:
            assert not accepted, f"refused although the model allows it: {command}"
            return None
        assert accepted, f"accepted although the model refuses it: {command}"
        self.last_success = (command, result)
        return result

    def check_level(self, level: StockLevel, key: tuple[int, int]) -> None:
        assert [level.on_hand, level.reserved] == self.level(key)

    def ledger_rows(self) -> int:
        row = self.conn.execute(
            "SELECT count(*) FROM stock_transactions WHERE product_id = ANY(%s)", (self.products,)
        ).fetchone()
        return int(row[0]) if row else 0

    # rules -------------------------------------------------------------------
    @rule(p=products, w=warehouses, quantity=quantities)
    def receive(self, p: int, w: int, quantity: int) -> None:
        product, warehouse = self.ids((p, w))
        result = self.move(
            ReceiveStock(product_id=product, warehouse_id=warehouse, quantity=quantity, **self.common()), True
        )
        self.level((p, w))[0] += quantity
        assert result is not None
        self.check_level(result.level, (p, w))

    @rule(p=products, w=warehouses, quantity=quantities)
    def ship(self, p: int, w: int, quantity: int) -> None:
        product, warehouse = self.ids((p, w))
        command = ShipStock(product_id=product, warehouse_id=warehouse, quantity=quantity, **self.common())
        result = self.move(command, accepted=self.available((p, w)) >= quantity)
        if result is not None:
            self.level((p, w))[0] -= quantity
            self.check_level(result.level, (p, w))

    @rule(p=products, quantity=quantities, forward=st.booleans())
    def transfer(self, p: int, quantity: int, forward: bool) -> None:
        source, destination = (0, 1) if forward else (1, 0)
        product, from_warehouse = self.ids((p, source))
        command = TransferStock(
            product_id=product,
            from_warehouse_id=from_warehouse,
            to_warehouse_id=self.warehouses[destination],
            quantity=quantity,
            **self.common(),
        )
        result = self.move(command, accepted=self.available((p, source)) >= quantity)
        if result is not None:
            self.level((p, source))[0] -= quantity
            self.level((p, destination))[0] += quantity
            self.check_level(result.levels[0], (p, source))
            self.check_level(result.levels[1], (p, destination))

    @rule(p=products, w=warehouses, counted=st.integers(min_value=0, max_value=30))
    def count(self, p: int, w: int, counted: int) -> None:
        product, warehouse = self.ids((p, w))
        command = AdjustStock(
            product_id=product,
            warehouse_id=warehouse,
            reason="count",
            counted_quantity=counted,
            **self.common(),
        )
        on_hand, reserved = self.level((p, w))
        result = self.move(command, accepted=counted >= reserved)
        if result is not None:
            assert (result.transaction is None) == (counted == on_hand)
            self.level((p, w))[0] = counted
            self.check_level(result.level, (p, w))

    @rule(p=products, w=warehouses, delta=st.integers(min_value=-12, max_value=12).filter(bool))
    def adjust_by(self, p: int, w: int, delta: int) -> None:
        product, warehouse = self.ids((p, w))
        command = AdjustStock(
            product_id=product, warehouse_id=warehouse, reason="delta", delta=delta, **self.common()
        )
        on_hand, reserved = self.level((p, w))
        result = self.move(command, accepted=on_hand + delta >= reserved)
        if result is not None:
            self.level((p, w))[0] += delta
            self.check_level(result.level, (p, w))

    @rule(target=reservations, p=products, w=warehouses, quantity=quantities)
    def reserve(self, p: int, w: int, quantity: int) -> ModelReservation | None:
        product, warehouse = self.ids((p, w))
        command = ReserveStock(product_id=product, warehouse_id=warehouse, quantity=quantity, **self.common())
        result = self.move(command, accepted=self.available((p, w)) >= quantity)
        if result is None:
            return None
        self.level((p, w))[1] += quantity
        self.check_level(result.level, (p, w))
        assert result.transaction is not None
        return ModelReservation(result.transaction.id, (p, w), quantity)

    @rule(reservation=reservations, quantity=st.integers(min_value=0, max_value=8))
    def release(self, reservation: ModelReservation | None, quantity: int) -> None:
        if reservation is None:
            return
        command = ReleaseReservation(reservation_id=reservation.id, quantity=quantity, **self.common())
        units = quantity or reservation.remaining
        result = self.move(command, accepted=0 < units <= reservation.remaining)
        if result is not None:
            reservation.remaining -= units
            self.level(reservation.key)[1] -= units
            self.check_level(result.level, reservation.key)

    @rule(reservation=reservations, quantity=st.integers(min_value=1, max_value=8))
    def ship_reserved(self, reservation: ModelReservation | None, quantity: int) -> None:
        if reservation is None:
            return
        product, warehouse = self.ids(reservation.key)
        command = ShipStock(
            product_id=product,
            warehouse_id=warehouse,
            quantity=quantity,
            reservation_id=reservation.id,
            **self.common(),
        )
        result = self.move(command, accepted=quantity <= reservation.remaining)
        if result is not None:
            reservation.remaining -= quantity
            self.level(reservation.key)[0] -= quantity
            self.level(reservation.key)[1] -= quantity
            self.check_level(result.level, reservation.key)

    @precondition(lambda self: self.last_success is not None)
    @rule()
    def replay_last_request(self) -> None:
        assert self.last_success is not None
        command, original = self.last_success
        rows_before = self.ledger_rows()
        assert self.move(command, accepted=True) == original
        assert self.ledger_rows() == rows_before

    # invariants ----------------------------------------------------------------
    @invariant()
    def database_levels_match_the_model_and_the_ledger(self) -> None:
        stored = {
            (row[0], row[1]): row[2:]
            for row in self.conn.execute(LEVELS_AND_LEDGER, (self.products,)).fetchall()
        }
        for key, (on_hand, reserved) in self.levels.items():
            product, warehouse = self.ids(key)
            found = stored.get((product, warehouse), (0, 0, 0, 0))
            assert tuple(found) == (on_hand, reserved, on_hand, reserved)


def test_stock_service_on_postgresql_follows_the_model(migrated_dsn: str) -> None:
    PgStockMachine.dsn = migrated_dsn
    run_state_machine_as_test(
        PgStockMachine,
        settings=settings(
            max_examples=60,
            stateful_step_count=30,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow],
            # Shrinking over a database could take minutes; a failure prints its (short) steps unshrunk.
            phases=[Phase.explicit, Phase.reuse, Phase.generate],
        ),
    )
