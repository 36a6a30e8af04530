"""Warehouse use cases."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any
from uuid import UUID

from inventory_server.domain.paging import ListQuery, Page
from inventory_server.domain.warehouse import WAREHOUSE_UPDATES, NewWarehouse, Warehouse
from inventory_server.services.audit import audited
from inventory_server.services.idempotency import write_once
from inventory_server.services.unit_of_work import Transactor, UnitOfWork

CREATE_SCOPE = "CreateWarehouse"


# Audit events name resources "warehouses/<id>".
COLLECTION = "warehouses"


class WarehouseService:
    """Reads and changes warehouses; every change runs in one unit of work."""

    def __init__(self, transactor: Transactor[UnitOfWork]) -> None:
        self.transactor = transactor

    async def get(self, id: UUID, *, replica_ok: bool = False) -> Warehouse:
        return await self.transactor.read(lambda uow: uow.warehouses.get(id), replica_ok=replica_ok)

    async def list_warehouses(self, query: ListQuery) -> Page[Warehouse]:
        return await self.transactor.read(lambda uow: uow.warehouses.list(query), replica_ok=True)

    async def create(self, new: NewWarehouse, request_id: str = "") -> Warehouse:
        """Create; with a ``request_id`` a repeat returns the first result and creates nothing."""
        new.validate()

        async def replay(uow: UnitOfWork, stored: dict[str, Any]) -> Warehouse:
            return await uow.warehouses.get(UUID(stored["id"]))

        return await write_once(
            self.transactor,
            audited(COLLECTION, lambda uow: uow.warehouses.create(new), request_id=request_id),
            scope=CREATE_SCOPE,
            request_id=request_id,
            payload=dataclasses.asdict(new),
            encode=lambda created: {"id": str(created.id)},
            replay=replay,
        )

    async def update(self, id: UUID, changes: Mapping[str, Any], expected_version: int | None) -> Warehouse:
        """Change name and/or address; NotFound / EtagMismatch / InvalidArgument."""
        WAREHOUSE_UPDATES.check(changes)

        return await self.transactor.write(
            audited(
                COLLECTION,
                lambda uow: uow.warehouses.update(id, changes, expected_version=expected_version),
                changes,
            )
        )

    async def delete(self, id: UUID, expected_version: int | None) -> Warehouse:
        """Soft delete; a warehouse holding stock -> FailedPrecondition (checked under a row lock)."""

        return await self.transactor.write(
            audited(COLLECTION, lambda uow: uow.warehouses.soft_delete(id, expected_version=expected_version))
        )
