"""Warehouse use cases."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any
from uuid import UUID

from inventory_server.db.uow import TransactionRunner, UnitOfWork
from inventory_server.domain.errors import ErrorDetails, InvalidArgument
from inventory_server.domain.paging import ListQuery, Page
from inventory_server.domain.warehouse import UPDATABLE_FIELDS, NewWarehouse, Warehouse, validate_changes
from inventory_server.services.idempotency import fingerprint

CREATE_SCOPE = "CreateWarehouse"


class WarehouseService:
    """Reads and changes warehouses; every change runs in one unit of work."""

    def __init__(self, runner: TransactionRunner) -> None:
        self.runner = runner

    async def get(self, id: UUID) -> Warehouse:
        return await self.runner.read(lambda uow: uow.warehouses.get(id))

    async def list_warehouses(self, query: ListQuery) -> Page[Warehouse]:
        return await self.runner.read(lambda uow: uow.warehouses.list(query))

    async def create(self, new: NewWarehouse, request_id: str = "") -> Warehouse:
        """Create; with a ``request_id`` a repeat returns the first result and creates nothing."""
        new.validate()
        payload = dataclasses.asdict(new)

        async def work(uow: UnitOfWork) -> Warehouse:
            if request_id:
                stored = await uow.idempotency.claim(CREATE_SCOPE, request_id, fingerprint(payload))
                if stored is not None:
                    return await uow.warehouses.get(UUID(stored["id"]))
            created = await uow.warehouses.create(new)
            if request_id:
                await uow.idempotency.store(CREATE_SCOPE, request_id, {"id": str(created.id)})
            await uow.commit()
            return created

        return await self.runner.run(work)

    async def update(self, id: UUID, changes: Mapping[str, Any], expected_version: int | None) -> Warehouse:
        """Change name and/or address; NotFound / EtagMismatch / InvalidArgument."""
        unknown = sorted(set(changes) - UPDATABLE_FIELDS)
        if unknown:
            raise InvalidArgument.field("update_mask", f"cannot update {', '.join(unknown)}")
        errors = ErrorDetails()
        validate_changes(dict(changes), errors)
        errors.raise_if_any()

        return await self.runner.write(
            lambda uow: uow.warehouses.update(id, changes, expected_version=expected_version)
        )

    async def delete(self, id: UUID, expected_version: int | None) -> Warehouse:
        """Soft delete; a warehouse holding stock -> FailedPrecondition (checked under a row lock)."""

        return await self.runner.write(
            lambda uow: uow.warehouses.soft_delete(id, expected_version=expected_version)
        )
