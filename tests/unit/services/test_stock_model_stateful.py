"""A stateful hypothesis test: StockService (over in-memory fakes) against a tiny model of the rules.

Hypothesis drives random sequences of receipts, shipments (plain and against
reservations), transfers, counts, deltas, reservations, releases and
replayed requests. After every step the service's decision (accepted or
refused) and the level(s) it returns must match the model, and the stored
levels must equal both the model and the sums of their ledger rows.
``tests/integration/services/test_stock_model_stateful_pg.py`` runs the same
kind of machine against PostgreSQL.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, invariant, precondition, rule

from inventory_server.domain.errors import FailedPrecondition
from inventory_server.domain.stock import (
    AdjustStock,
    LevelKey,
    ReceiveStock,
    ReleaseReservation,
    ReserveStock,
    ShipStock,
    StockLevel,
    TransferStock,
)
from inventory_server.services.stock_results import MovementResult
from tests.unit.fakes import make_world

T = TypeVar("T")
PRODUCTS, WAREHOUSES = 2, 3
quantities = st.integers(min_value=1, max_value=15)
products = st.integers(min_value=0, max_value=PRODUCTS - 1)
warehouses = st.integers(min_value=0, max_value=WAREHOUSES - 1)


@dataclass
class ModelReservation:
    id: uuid.UUID
    key: tuple[int, int]
    remaining: int


class StockModel:
    """The rules in a few lines: (product, warehouse) -> [on_hand, reserved]."""

    def __init__(self) -> None:
        self.levels: dict[tuple[int, int], list[int]] = {}

    def level(self, key: tuple[int, int]) -> list[int]:
        return self.levels.setdefault(key, [0, 0])

    def available(self, key: tuple[int, int]) -> int:
        on_hand, reserved = self.level(key)
        return on_hand - reserved


class StockMachine(RuleBasedStateMachine):
    reservations = Bundle("reservations")

    def __init__(self) -> None:
        super().__init__()
        self.loop = asyncio.new_event_loop()
        self.world = make_world()
        self.products = [self.world.product, *(self.world.db.add("product") for _ in range(PRODUCTS - 1))]
        self.model = StockModel()
        self.last_success: tuple[Any, MovementResult] | None = None

    def teardown(self) -> None:
        self.loop.close()

    # helpers -----------------------------------------------------------------
    def run(self, coroutine: Awaitable[T]) -> T:
        return self.loop.run_until_complete(coroutine)

    def ids(self, key: tuple[int, int]) -> tuple[uuid.UUID, uuid.UUID]:
        return self.products[key[0]], self.world.warehouses[key[1]]

    def move(self, command: Any, accepted: bool) -> MovementResult | None:
        """Send ``command``; it must be accepted exactly when the model says so."""
        methods: dict[type, Callable[[Any], Awaitable[MovementResult]]] = {
            ReceiveStock: self.world.service.receive,
            ShipStock: self.world.service.ship,
            TransferStock: self.world.service.transfer,
            AdjustStock: self.world.service.adjust,
            ReserveStock: self.world.service.reserve,
            ReleaseReservation: self.world.service.release,
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
        assert [level.on_hand, level.reserved] == self.model.level(key)

    def common(self) -> dict[str, Any]:
        return {"request_id": uuid.uuid4().hex, "performed_by": self.world.user}

    # rules -------------------------------------------------------------------
    @rule(p=products, w=warehouses, quantity=quantities)
    def receive(self, p: int, w: int, quantity: int) -> None:
        product, warehouse = self.ids((p, w))
        command = ReceiveStock(product_id=product, warehouse_id=warehouse, quantity=quantity, **self.common())
        result = self.move(command, accepted=True)
        self.model.level((p, w))[0] += quantity
        assert result is not None
        self.check_level(result.level, (p, w))

    @rule(p=products, w=warehouses, quantity=quantities)
    def ship(self, p: int, w: int, quantity: int) -> None:
        product, warehouse = self.ids((p, w))
        command = ShipStock(product_id=product, warehouse_id=warehouse, quantity=quantity, **self.common())
        accepted = self.model.available((p, w)) >= quantity
        result = self.move(command, accepted)
        if result is not None:
            self.model.level((p, w))[0] -= quantity
            self.check_level(result.level, (p, w))

    @rule(p=products, source=warehouses, destination=warehouses, quantity=quantities)
    def transfer(self, p: int, source: int, destination: int, quantity: int) -> None:
        if source == destination:
            return
        product, from_warehouse = self.ids((p, source))
        to_warehouse = self.world.warehouses[destination]
        command = TransferStock(
            product_id=product,
            from_warehouse_id=from_warehouse,
            to_warehouse_id=to_warehouse,
            quantity=quantity,
            **self.common(),
        )
        result = self.move(command, accepted=self.model.available((p, source)) >= quantity)
        if result is not None:
            self.model.level((p, source))[0] -= quantity
            self.model.level((p, destination))[0] += quantity
            self.check_level(result.levels[0], (p, source))
            self.check_level(result.levels[1], (p, destination))

    @rule(p=products, w=warehouses, counted=st.integers(min_value=0, max_value=40))
    def count(self, p: int, w: int, counted: int) -> None:
        product, warehouse = self.ids((p, w))
        command = AdjustStock(
            product_id=product,
            warehouse_id=warehouse,
            reason="count",
            counted_quantity=counted,
            **self.common(),
        )
        on_hand, reserved = self.model.level((p, w))
        result = self.move(command, accepted=counted >= reserved)
        if result is not None:
            assert (result.transaction is None) == (counted == on_hand)
            self.model.level((p, w))[0] = counted
            self.check_level(result.level, (p, w))

    @rule(p=products, w=warehouses, delta=st.integers(min_value=-15, max_value=15).filter(bool))
    def adjust_by(self, p: int, w: int, delta: int) -> None:
        product, warehouse = self.ids((p, w))
        command = AdjustStock(
            product_id=product, warehouse_id=warehouse, reason="delta", delta=delta, **self.common()
        )
        on_hand, reserved = self.model.level((p, w))
        result = self.move(command, accepted=on_hand + delta >= reserved)
        if result is not None:
            self.model.level((p, w))[0] += delta
            self.check_level(result.level, (p, w))

    @rule(target=reservations, p=products, w=warehouses, quantity=quantities)
    def reserve(self, p: int, w: int, quantity: int) -> ModelReservation | None:
        product, warehouse = self.ids((p, w))
        command = ReserveStock(product_id=product, warehouse_id=warehouse, quantity=quantity, **self.common())
        result = self.move(command, accepted=self.model.available((p, w)) >= quantity)
        if result is None:
            return None
        self.model.level((p, w))[1] += quantity
        self.check_level(result.level, (p, w))
        assert result.transaction is not None
        return ModelReservation(result.transaction.id, (p, w), quantity)

    @rule(reservation=reservations, quantity=st.integers(min_value=0, max_value=10))
    def release(self, reservation: ModelReservation | None, quantity: int) -> None:
        if reservation is None:
            return
        command = ReleaseReservation(reservation_id=reservation.id, quantity=quantity, **self.common())
        units = quantity or reservation.remaining
        result = self.move(command, accepted=0 < units <= reservation.remaining)
        if result is not None:
            reservation.remaining -= units
            self.model.level(reservation.key)[1] -= units
            self.check_level(result.level, reservation.key)

    @rule(reservation=reservations, quantity=st.integers(min_value=1, max_value=10))
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
            self.model.level(reservation.key)[0] -= quantity
            self.model.level(reservation.key)[1] -= quantity
            self.check_level(result.level, reservation.key)

    @precondition(lambda self: self.last_success is not None)
    @rule()
    def replay_last_request(self) -> None:
        """A retry answers the original result and changes nothing."""
        assert self.last_success is not None
        command, original = self.last_success
        rows_before = len(self.world.db.ledger)
        replayed = self.move(command, accepted=True)
        assert replayed == original
        assert len(self.world.db.ledger) == rows_before

    # invariants ----------------------------------------------------------------
    @invariant()
    def stored_levels_match_the_model_and_the_ledger(self) -> None:
        for (p, w), (on_hand, reserved) in self.model.levels.items():
            product, warehouse = self.ids((p, w))
            stored = self.world.db.levels.get(LevelKey(warehouse, product), StockLevel(product, warehouse))
            assert (stored.on_hand, stored.reserved) == (on_hand, reserved)
            assert 0 <= reserved <= on_hand
            rows = [row for row in self.world.db.ledger if row.product_id == product]
            assert sum(row.on_hand_change(warehouse) for row in rows) == on_hand
            assert sum(row.reserved_change(warehouse) for row in rows) == reserved


StockMachine.TestCase.settings = settings(
    max_examples=150, stateful_step_count=30, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
test_stock_service_follows_the_model = StockMachine.TestCase
