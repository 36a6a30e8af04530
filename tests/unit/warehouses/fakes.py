"""In-memory fakes of the runner, unit of work and repositories the warehouse service uses."""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, datetime
from typing import Any, TypeVar
from uuid import UUID, uuid4

from inventory_server.db.uow import TransactionRunner, UnitOfWork
from inventory_server.domain.errors import AlreadyExists, EtagMismatch, InvalidArgument, NotFound
from inventory_server.domain.warehouse import NewWarehouse, Warehouse
from inventory_server.repositories.idempotency import IdempotencyRepository
from inventory_server.repositories.warehouses import WarehouseRepository

T = TypeVar("T")


class FakeIdempotencyRepository(IdempotencyRepository):
    """Keys in a dict: (scope, request_id) -> (fingerprint, response)."""

    def __init__(self) -> None:
        self.keys: dict[tuple[str, str], tuple[str, dict[str, Any] | None]] = {}

    async def claim(self, scope: str, request_id: str, fingerprint: str) -> dict[str, Any] | None:
        key = (scope, request_id)
        if key not in self.keys:
            self.keys[key] = (fingerprint, None)
            return None
        stored_fingerprint, response = self.keys[key]
        if stored_fingerprint != fingerprint:
            raise InvalidArgument.field("request_id", "was already used for a different request")
        return response

    async def store(self, scope: str, request_id: str, response: dict[str, Any]) -> None:
        fingerprint, _ = self.keys[(scope, request_id)]
        self.keys[(scope, request_id)] = (fingerprint, response)


class FakeWarehouseRepository(WarehouseRepository):
    """Warehouses in a dict, with the real repository's errors."""

    def __init__(self) -> None:
        self.rows: dict[UUID, Warehouse] = {}
        self.holding_stock: set[UUID] = set()

    async def get(self, id: UUID, *, for_update: bool = False) -> Warehouse:
        if id not in self.rows:
            raise NotFound("warehouse", str(id))
        return self.rows[id]

    async def create(self, new: NewWarehouse) -> Warehouse:
        if any(w.code.lower() == new.code.lower() for w in self.rows.values()):
            raise AlreadyExists("warehouse", "code", new.code)
        moment = datetime.now(UTC)
        created = Warehouse(uuid4(), new.code, new.name, new.address, moment, moment, None, 1)
        self.rows[created.id] = created
        return created

    async def update(
        self, id: UUID, changes: Mapping[str, Any], *, expected_version: int | None
    ) -> Warehouse:
        current = await self._checked(id, expected_version)
        updated = dataclasses.replace(current, **changes, version=current.version + 1)
        self.rows[id] = updated
        return updated

    async def soft_delete(self, id: UUID, *, expected_version: int | None) -> Warehouse:
        current = await self._checked(id, expected_version)
        if id in self.holding_stock:
            raise self.delete_refused(id)
        deleted = dataclasses.replace(current, delete_time=datetime.now(UTC), version=current.version + 1)
        self.rows[id] = deleted
        return deleted

    async def _checked(self, id: UUID, expected_version: int | None) -> Warehouse:
        current = await self.get(id)
        if expected_version is not None and current.version != expected_version:
            raise EtagMismatch("warehouse", str(id))
        return current


class FakeUnitOfWork(UnitOfWork):
    """A unit of work over the fakes; ``commit`` only records that it was asked for."""

    def __init__(self, warehouses: FakeWarehouseRepository, idempotency: FakeIdempotencyRepository) -> None:
        self.committing = False
        self.committed = False
        self.fake_warehouses = warehouses
        self.fake_idempotency = idempotency

    @property
    def warehouses(self) -> WarehouseRepository:
        return self.fake_warehouses

    @property
    def idempotency(self) -> IdempotencyRepository:
        return self.fake_idempotency

    async def commit(self) -> None:
        self.committed = True


class FakeRunner(TransactionRunner):
    """Runs each piece of work once on a fresh fake unit of work and remembers how it ran."""

    def __init__(self) -> None:
        self.warehouses = FakeWarehouseRepository()
        self.idempotency = FakeIdempotencyRepository()
        self.runs: list[tuple[bool, bool]] = []  # (read_only, committed)

    async def run(
        self, work: Callable[[UnitOfWork], Awaitable[T]], *, retryable: bool = True, read_only: bool = False
    ) -> T:
        uow = FakeUnitOfWork(self.warehouses, self.idempotency)
        result = await work(uow)
        self.runs.append((read_only, uow.committed))
        return result
