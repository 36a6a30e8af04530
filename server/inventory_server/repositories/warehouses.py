"""Warehouses over PostgreSQL; a warehouse that holds stock cannot be deleted."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any
from uuid import UUID

from inventory_server.db.listing import FieldSpec, ResourceFields
from inventory_server.db.query import Condition, col, exists, or_, select, table
from inventory_server.domain.errors import DomainError, FailedPrecondition, PreconditionViolation
from inventory_server.domain.paging import ListQuery, Page
from inventory_server.domain.warehouse import WAREHOUSE_UPDATES, NewWarehouse, Warehouse
from inventory_server.repositories.base import BaseRepository
from inventory_server.repositories.mapping import TableMapping

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


WAREHOUSE_MAPPING = TableMapping(
    table="warehouses",
    resource="warehouse",
    entity=Warehouse,
    list_fields=WAREHOUSE_LIST_FIELDS,
    updatable=WAREHOUSE_UPDATES.columns,
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
