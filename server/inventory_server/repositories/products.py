"""Products over PostgreSQL; a product with stock on hand cannot be deleted."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any
from uuid import UUID

import psycopg

from inventory_server.db.listing import FieldSpec, ResourceFields
from inventory_server.db.query import TRUE, Cast, Condition, Param, col, exists, insert, select, table
from inventory_server.domain.errors import DomainError, FailedPrecondition, PreconditionViolation
from inventory_server.domain.paging import ListQuery, Page
from inventory_server.domain.product import PRODUCT_UPDATES, NewProduct, Product
from inventory_server.repositories.base import BaseRepository
from inventory_server.repositories.idempotency import claim_statement
from inventory_server.repositories.interfaces import Claim
from inventory_server.repositories.mapping import TableMapping

# SQL types of the columns a new product is inserted with (values in a SELECT list need them).
PRODUCT_TYPES = {
    "id": "uuid",
    "sku": "text",
    "name": "text",
    "description": "text",
    "unit_price_minor": "bigint",
    "currency_code": "text",
    "reorder_point": "bigint",
    "attributes": "jsonb",
}

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

    async def create_once(
        self, new: NewProduct, *, id: UUID, claim: Claim, response: dict[str, Any]
    ) -> Product | None:
        """One statement: claim the key with its response, and insert the product only if claimed.

        ``WITH claim AS (INSERT INTO idempotency_keys ... ON CONFLICT DO NOTHING
        RETURNING ...) INSERT INTO products ... SELECT ... WHERE EXISTS (SELECT
        FROM claim)``: the response is known before the insert (the id is chosen
        here), so claim, insert and store are one round trip. A concurrent
        request with the same key waits in the claim for the first one's
        transaction; a duplicate sku fails the statement, and the rollback
        takes the claim with it.
        """
        with self.operation("create_once"):
            values = {"id": id, **self._encode(dataclasses.asdict(new))}
            row = select(*(Cast(Param(value), PRODUCT_TYPES[name]) for name, value in values.items())).where(
                exists(select(TRUE).from_("claim"))
            )
            created = insert(self.mapping.table).from_select(row, tuple(values)).returning(*self._columns())
            statement = (
                select(*self._columns())
                .with_("claim", claim_statement(claim, response))
                .with_("created", created)
                .from_("created")
            )
            try:
                async with self.conn.pipeline():  # BEGIN goes with the statement: one round trip
                    found = await self.fetch_one(statement)
            except psycopg.errors.UniqueViolation as exc:
                raise self._already_exists(exc, [dataclasses.asdict(new)]) from exc
            return None if found is None else self.mapping.from_row(found)

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
