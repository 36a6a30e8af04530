"""Warehouses over PostgreSQL; a warehouse that holds stock cannot be deleted."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any
from uuid import UUID

from inventory_server.db.listing import FieldSpec, ResourceFields
from inventory_server.db.query import Condition, col, exists, or_, select, table
from inventory_server.domain.errors import DomainError, FailedPrecondition, NotFound, PreconditionViolation
from inventory_server.domain.paging import ListQuery, Page
from inventory_server.domain.warehouse import UPDATABLE_FIELDS, NewWarehouse, Warehouse
from inventory_server.repositories.base import BaseRepository
from inventory_server.repositories.mapping import TableMapping

WAREHOUSE_COLUMNS = (
    "id",
    "code",
    "name",
    "address",
    "create_time",
    "update_time",
    "delete_time",
    "version",
)

WAREHOUSE_LIST_FIELDS = ResourceFields(
    "warehouses",
    (
        FieldSpec("code", "code", "text", sortable=True),
        FieldSpec("name", "name", "text", sortable=True),
        FieldSpec("create_time", "create_time", "timestamp", sortable=True),
        FieldSpec("update_time", "update_time", "timestamp", sortable=True),
    ),
    default_order="create_time",
)


def warehouse_from_row(row: Mapping[str, Any]) -> Warehouse:
    return Warehouse(**{name: row[name] for name in WAREHOUSE_COLUMNS})


WAREHOUSE_MAPPING = TableMapping(
    table="warehouses",
    resource="warehouse",
    columns=WAREHOUSE_COLUMNS,
    from_row=warehouse_from_row,
    list_fields=WAREHOUSE_LIST_FIELDS,
    updatable=UPDATABLE_FIELDS,
)


class WarehouseRepository(BaseRepository[Warehouse]):
    """Warehouses; code is unique case-insensitively (``warehouses_code_key`` on ``lower(code)``)."""

    mapping = WAREHOUSE_MAPPING

    async def create(self, new: NewWarehouse) -> Warehouse:
        """Insert; duplicate code (any case) -> AlreadyExists(field="code")."""
        return await self.insert_one(dataclasses.asdict(new))

    async def update(
        self, id: UUID, changes: Mapping[str, Any], *, expected_version: int | None
    ) -> Warehouse:
        """Set ``changes`` (updatable fields only), bump version; NotFound / EtagMismatch."""
        return await self.update_fields(id, changes, expected_version=expected_version)

    async def list(self, query: ListQuery) -> Page[Warehouse]:
        """A keyset page; bad filter / order_by / page_token -> InvalidArgument."""
        return await self.list_page(query)

    async def soft_delete(self, id: UUID, *, expected_version: int | None) -> Warehouse:
        """Set delete_time unless the warehouse holds stock (FailedPrecondition); NotFound / EtagMismatch.

        Why the row lock: the stock check and the delete must not race a
        receipt. The warehouse row is locked ``FOR UPDATE`` first, the one
        row-lock strength that conflicts with ``FOR KEY SHARE``: the lock a
        foreign-key check takes when a ``stock_levels`` or ``stock_transactions``
        row referencing the warehouse is written. A movement that took it first
        has committed before this lock is granted, and the guarded UPDATE (a
        new statement, so a new snapshot under READ COMMITTED) sees its stock.
        ``FOR NO KEY UPDATE`` (what a plain UPDATE takes) would not do: it lets
        key-share lockers through. Deleting is rare; the stronger lock costs
        nothing that matters.

        The other direction needs the stock side's help: a movement must read
        the warehouse ``FOR KEY SHARE`` (or stronger) when it checks that the
        warehouse is live, before it changes a level. It then waits for this
        transaction and reads the warehouse as deleted. A movement that only
        checks with a plain read could update an existing level row (no
        foreign-key check) after that read and before this delete commits.
        """
        with self.operation("soft_delete"):
            locked = await self.fetch_one(self._select().where(self._id().eq(id)).for_update())
            if locked is None:
                raise NotFound(self.mapping.resource, str(id))
            return await self._set_deleted(id, expected_version, deleting=True)

    def delete_guard(self) -> Condition:
        """No stock level of the warehouse has anything on hand or reserved."""
        levels = table("stock_levels")
        stocked = (
            select(col("product_id"))
            .from_(levels)
            .where(
                levels.col("warehouse_id").eq(table("warehouses").col("id")),
                or_(levels.col("on_hand").gt(0), levels.col("reserved").gt(0)),
            )
        )
        return ~exists(stocked)

    def delete_refused(self, id: UUID) -> DomainError:
        return FailedPrecondition(
            f"warehouse {str(id)!r} still holds stock",
            reason="STOCK_ON_HAND",
            violations=[
                PreconditionViolation(
                    "STOCK",
                    f"warehouses/{id}",
                    "the warehouse holds stock; ship, transfer or adjust it to zero first",
                )
            ],
        )
