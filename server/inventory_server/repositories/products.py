"""Products over PostgreSQL; a product with stock on hand cannot be deleted."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any
from uuid import UUID

from inventory_server.db.listing import FieldSpec, ResourceFields
from inventory_server.db.query import Condition, col, exists, select, table
from inventory_server.domain.errors import DomainError, FailedPrecondition, PreconditionViolation
from inventory_server.domain.paging import ListQuery, Page
from inventory_server.domain.product import PRODUCT_UPDATES, NewProduct, Product
from inventory_server.repositories.base import BaseRepository
from inventory_server.repositories.mapping import TableMapping

PRODUCT_LIST_FIELDS = ResourceFields(
    "products",
    (
        FieldSpec("sku", "sku", "text", sortable=True),
        FieldSpec("name", "name", "text", sortable=True),
        FieldSpec("currency_code", "currency_code", "text", sortable=True),
        FieldSpec("unit_price_minor", "unit_price_minor", "int", sortable=True),
        FieldSpec("reorder_point", "reorder_point", "int", sortable=True),
        FieldSpec("create_time", "create_time", "timestamp", sortable=True),
        FieldSpec("update_time", "update_time", "timestamp", sortable=True),
        FieldSpec("attributes", "attributes", "json"),
    ),
    default_order="create_time",
)


PRODUCT_MAPPING = TableMapping(
    table="products",
    resource="product",
    entity=Product,
    list_fields=PRODUCT_LIST_FIELDS,
    updatable=PRODUCT_UPDATES.columns,
    json_columns=frozenset({"attributes"}),
)


class ProductRepository(BaseRepository[Product]):
    """Products; a product with stock on hand cannot be deleted."""

    mapping = PRODUCT_MAPPING

    async def create(self, new: NewProduct) -> Product:
        """Insert; duplicate sku (any case) -> AlreadyExists(field="sku")."""
        return await self.insert_one(dataclasses.asdict(new))

    async def create_many(self, news: Sequence[NewProduct]) -> list[Product]:
        """Insert all in one statement, returned in input order; duplicate sku -> AlreadyExists."""
        return await self.insert_many([dataclasses.asdict(new) for new in news])

    async def update(self, id: UUID, changes: Mapping[str, Any], *, expected_version: int | None) -> Product:
        """Set ``changes`` (updatable fields only), bump version; NotFound / EtagMismatch."""
        return await self.update_fields(id, changes, expected_version=expected_version)

    async def list(self, query: ListQuery) -> Page[Product]:
        """A keyset page; bad filter / order_by / page_token -> InvalidArgument."""
        return await self.list_page(query)

    def delete_guard(self) -> Condition:
        levels = table("stock_levels")
        stocked = (
            select(col("product_id"))
            .from_(levels)
            .where(levels.col("product_id").eq(table("products").col("id")), levels.col("on_hand").gt(0))
        )
        return ~exists(stocked)

    def delete_refused(self, id: UUID) -> DomainError:
        return FailedPrecondition(
            f"product {str(id)!r} still has stock on hand",
            reason="STOCK_ON_HAND",
            violations=[
                PreconditionViolation("STOCK", f"products/{id}", "ship or adjust the stock to zero first")
            ],
        )
