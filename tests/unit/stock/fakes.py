"""In-memory fakes of the stock repositories, unit of work and runner.

They keep the real repositories' contracts (``repositories.stock_interfaces``):
guarded changes refuse to break ``0 <= reserved <= on_hand``, unknown or
deleted references are NotFound, and a unit of work that does not commit
leaves nothing behind (the runner restores a snapshot).
"""

from __future__ import annotations

import copy
import dataclasses
import itertools
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar
from uuid import UUID

from inventory_server.domain.errors import InvalidArgument, NotFound
from inventory_server.domain.paging import ListQuery, Page
from inventory_server.domain.stock import LevelKey, Reservation, StockLevel
from inventory_server.domain.transaction import NewTransaction, StockTransaction, TransactionType
from inventory_server.repositories.stock_interfaces import LevelLookup, Reference
from inventory_server.services.stock import StockService
from inventory_server.services.stock_uow import StockUnitOfWork

T = TypeVar("T")
EPOCH = datetime(2024, 1, 1, tzinfo=UTC)


@dataclass
class StockState:
    """Everything the fakes store; the runner snapshots and restores it around each unit of work."""

    levels: dict[LevelKey, StockLevel] = field(default_factory=dict)
    rows: list[StockTransaction] = field(default_factory=list)
    keys: dict[tuple[str, str], tuple[str, dict[str, Any] | None]] = field(default_factory=dict)
    live: dict[str, set[UUID]] = field(
        default_factory=lambda: {"product": set(), "warehouse": set(), "user": set()}
    )
    deleted: dict[str, set[UUID]] = field(
        default_factory=lambda: {"product": set(), "warehouse": set(), "user": set()}
    )
    ticks: int = 0

    def now(self) -> datetime:
        self.ticks += 1
        return EPOCH + timedelta(milliseconds=self.ticks)

    def add(self, resource: str, *, deleted: bool = False) -> UUID:
        id = uuid.uuid4()
        (self.deleted if deleted else self.live)[resource].add(id)
        return id


class FakeStockLevels:
    def __init__(self, state: StockState) -> None:
        self.state = state

    async def read(self, product_id: UUID, warehouse_id: UUID) -> LevelLookup:
        known = {kind: self.state.live[kind] | self.state.deleted[kind] for kind in ("product", "warehouse")}
        return LevelLookup(
            product_id in known["product"],
            warehouse_id in known["warehouse"],
            self.state.levels.get(LevelKey(warehouse_id, product_id)),
        )

    async def list(
        self,
        query: ListQuery,
        *,
        product_id: UUID | None = None,
        warehouse_id: UUID | None = None,
        below_reorder_point: bool = False,
    ) -> Page[StockLevel]:
        """Key order only; the fake parses no filters (the real translator has its own tests)."""
        if query.filter or query.order_by or query.page_token or below_reorder_point:
            raise NotImplementedError("the fake lists by key only")
        levels = [
            level
            for key, level in sorted(self.state.levels.items())
            if product_id in (None, key.product_id) and warehouse_id in (None, key.warehouse_id)
        ]
        return Page(levels[: query.page_size])

    async def add(self, key: LevelKey, quantity: int) -> StockLevel:
        self._require_catalogue(key)
        current = self.state.levels.get(key, StockLevel(key.product_id, key.warehouse_id))
        return self._put(dataclasses.replace(current, on_hand=current.on_hand + quantity))

    async def change(self, key: LevelKey, *, on_hand: int = 0, reserved: int = 0) -> StockLevel | None:
        current = self.state.levels.get(key)
        if current is None or not current.allows(on_hand=on_hand, reserved=reserved):
            return None
        return self._put(
            dataclasses.replace(
                current, on_hand=current.on_hand + on_hand, reserved=current.reserved + reserved
            )
        )

    async def ensure(self, key: LevelKey) -> None:
        self._require_catalogue(key)
        if key not in self.state.levels:
            self.state.levels[key] = StockLevel(
                key.product_id, key.warehouse_id, update_time=self.state.now()
            )

    async def lock(self, keys: Sequence[LevelKey]) -> dict[LevelKey, StockLevel]:
        return {key: self.state.levels[key] for key in sorted(set(keys)) if key in self.state.levels}

    def _put(self, level: StockLevel) -> StockLevel:
        stamped = dataclasses.replace(level, update_time=self.state.now())
        self.state.levels[level.key] = stamped
        return stamped

    def _require_catalogue(self, key: LevelKey) -> None:
        """The foreign keys: rows must exist (deleted or not)."""
        for kind, id in (("product", key.product_id), ("warehouse", key.warehouse_id)):
            if id not in self.state.live[kind] | self.state.deleted[kind]:
                raise NotFound(kind, str(id))


class FakeLedger:
    def __init__(self, state: StockState) -> None:
        self.state = state

    async def append(self, new: NewTransaction) -> StockTransaction:
        values = {f.name: getattr(new, f.name) for f in dataclasses.fields(new)}
        row = StockTransaction(**values, id=uuid.uuid4(), create_time=self.state.now())
        self.state.rows.append(row)
        return row

    async def get(self, id: UUID) -> StockTransaction:
        for row in self.state.rows:
            if row.id == id:
                return row
        raise NotFound("transaction", str(id))

    async def list(self, query: ListQuery) -> Page[StockTransaction]:
        if query.filter or query.order_by or query.page_token:
            raise NotImplementedError("the fake lists in order of writing only")
        return Page(self.state.rows[: query.page_size])

    async def get_reservation(self, id: UUID) -> Reservation:
        for row in self.state.rows:
            if row.id == id and row.type is TransactionType.RESERVATION and row.from_warehouse_id is not None:
                consumed = sum(r.quantity for r in self.state.rows if r.reservation_id == id)
                return Reservation(row.id, row.product_id, row.from_warehouse_id, row.quantity, consumed)
        raise NotFound("reservation", str(id))

    async def ensure_live(self, references: Sequence[Reference]) -> None:
        for ref in references:
            if ref.id not in self.state.live[ref.resource]:
                raise NotFound(ref.resource, str(ref.id), message=f"{ref.field}: {ref.resource} not found")


class FakeIdempotency:
    def __init__(self, state: StockState) -> None:
        self.state = state

    async def claim(self, scope: str, request_id: str, fingerprint: str) -> dict[str, Any] | None:
        stored = self.state.keys.get((scope, request_id))
        if stored is None:
            self.state.keys[(scope, request_id)] = (fingerprint, None)
            return None
        if stored[0] != fingerprint:
            raise InvalidArgument.field("request_id", "was already used for a different request")
        return stored[1]

    async def store(self, scope: str, request_id: str, response: dict[str, Any]) -> None:
        fingerprint, _ = self.state.keys[(scope, request_id)]
        self.state.keys[(scope, request_id)] = (fingerprint, response)


class FakeUnitOfWork:
    def __init__(self, state: StockState) -> None:
        self.stock_levels = FakeStockLevels(state)
        self.transactions = FakeLedger(state)
        self.idempotency = FakeIdempotency(state)
        self.committed = False

    async def commit(self) -> None:
        self.committed = True


class FakeRunner:
    """Runs work on the shared state; anything not committed is rolled back.

    ``rerun_first`` makes the first attempt of every write roll back after the
    work finished and run it again, as the real runner does after a deadlock.
    """

    def __init__(self, state: StockState, *, rerun_first: bool = False) -> None:
        self.state = state
        self.rerun_first = rerun_first
        self.runs = 0

    async def run(
        self,
        work: Callable[[StockUnitOfWork], Awaitable[T]],
        *,
        retryable: bool = True,
        read_only: bool = False,
    ) -> T:
        attempts = 2 if self.rerun_first and not read_only else 1
        for attempt in itertools.count(1):
            self.runs += 1
            snapshot = copy.deepcopy(self.state)
            uow = FakeUnitOfWork(self.state)
            try:
                result = await work(uow)
            except BaseException:
                self._restore(snapshot)
                raise
            if not read_only and (not uow.committed or attempt < attempts):
                self._restore(snapshot)
            if attempt >= attempts:
                return result
        raise AssertionError("unreachable")

    def _restore(self, snapshot: StockState) -> None:
        ticks = self.state.ticks  # time moves on even when work rolls back
        self.state.__dict__.update(copy.deepcopy(snapshot).__dict__)
        self.state.ticks = ticks


@dataclass
class StockWorld:
    """A service over fakes with one product, three warehouses and a user."""

    state: StockState
    runner: FakeRunner
    service: StockService
    product: UUID
    warehouses: tuple[UUID, UUID, UUID]
    user: UUID

    @property
    def warehouse(self) -> UUID:
        return self.warehouses[0]

    def level(self, warehouse: UUID | None = None) -> StockLevel:
        key = LevelKey(warehouse or self.warehouse, self.product)
        return self.state.levels.get(key, StockLevel(self.product, key.warehouse_id))


def make_world(*, rerun_first: bool = False) -> StockWorld:
    state = StockState()
    runner = FakeRunner(state, rerun_first=rerun_first)
    warehouses = (state.add("warehouse"), state.add("warehouse"), state.add("warehouse"))
    return StockWorld(
        state, runner, StockService(runner), state.add("product"), warehouses, state.add("user")
    )
