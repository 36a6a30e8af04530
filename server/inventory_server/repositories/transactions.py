"""The append-only stock ledger over PostgreSQL: append, read, list, and reservation balances.

Rows are only ever inserted (a trigger refuses UPDATE, DELETE and TRUNCATE).
``ListTransactions`` filters over an allow-list that includes two special
fields: ``warehouse_id`` matches either side of a movement, and ``type``
accepts the proto enum names as well as the short ones.

>>> print(EitherColumn("from_warehouse_id", None, "to_warehouse_id").compare("=", 1).as_string())
"from_warehouse_id" = %s OR "to_warehouse_id" = %s
>>> from inventory_server.repositories.transaction_fields import TypeColumn
>>> TypeColumn("type").compare("=", "TRANSACTION_TYPE_SHIPMENT").right
Param(value='shipment')
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from inventory_server.db.listing import FieldSpec, ResourceFields
from inventory_server.db.query import (
    TRUE,
    Cast,
    Column,
    ComparisonOp,
    Condition,
    and_,
    coalesce,
    col,
    exists,
    func,
    insert,
    or_,
    select,
    table,
)
from inventory_server.domain.errors import NotFound
from inventory_server.domain.movement_summary import Grouping, MovementSummary
from inventory_server.domain.paging import ListQuery, Page
from inventory_server.domain.stock import Reservation
from inventory_server.domain.transaction import NewTransaction, StockTransaction, TransactionType
from inventory_server.repositories.base import ReadRepository
from inventory_server.repositories.mapping import TableMapping
from inventory_server.repositories.movement_summary import plan_summary, summary_from_row
from inventory_server.repositories.stock_interfaces import Reference
from inventory_server.repositories.transaction_fields import TYPE_NAMES, TypeField

TABLE = "stock_transactions"
DOCUMENT_SETTING = "inventory.document_id"
# Which table each kind of reference lives in (an allow-list: nothing else reaches the SQL).
REFERENCE_TABLES: Mapping[str, str] = {"product": "products", "warehouse": "warehouses", "user": "users"}


@dataclass(frozen=True, slots=True)
class EitherColumn(Column):
    """A filter-only pseudo column: ``x = v`` holds when either of two columns equals v.

    ``x != v`` holds when neither does (NULL counts as "not v").
    """

    other: str = ""

    def compare(self, op: ComparisonOp, other: Any) -> Condition:
        first, second = Column(self.name, self.qualifier), Column(self.other, self.qualifier)
        if op == "=":
            return or_(first.eq(other), second.eq(other))
        if op == "<>":
            return and_(first.is_distinct_from(other), second.is_distinct_from(other))
        raise ValueError(f"{op} does not apply to {self.name} or {self.other}")


@dataclass(frozen=True, slots=True)
class _EitherWarehouseField(FieldSpec):
    @property
    def expr(self) -> Column:
        return EitherColumn("from_warehouse_id", None, "to_warehouse_id")


TRANSACTION_LIST_FIELDS = ResourceFields(
    "stock_transactions",
    (
        FieldSpec("product_id", "product_id", "uuid"),
        _EitherWarehouseField("warehouse_id", "from_warehouse_id", "uuid"),
        FieldSpec("from_warehouse_id", "from_warehouse_id", "uuid"),
        FieldSpec("to_warehouse_id", "to_warehouse_id", "uuid"),
        TypeField("type", "type", "enum", enum_values=TYPE_NAMES),
        FieldSpec("performed_by", "performed_by", "uuid"),
        FieldSpec("reservation_id", "reservation_id", "uuid"),
        FieldSpec("document_id", "document_id", "uuid"),
        FieldSpec("reference", "reference", "text"),
        FieldSpec("create_time", "create_time", "timestamp", sortable=True),
    ),
    key=(FieldSpec("id", "id", "uuid", filterable=False, sortable=False),),
    default_order="create_time",
    soft_delete_column=None,
)


TRANSACTION_MAPPING = TableMapping(
    table=TABLE,
    resource="transaction",
    entity=StockTransaction,
    list_fields=TRANSACTION_LIST_FIELDS,
    convert={"type": TransactionType},
    version_column=None,
    update_time_column=None,
    soft_delete_column=None,
)


class TransactionRepository(ReadRepository[StockTransaction]):
    """The TransactionRepository protocol of ``repositories.stock_interfaces`` over PostgreSQL.

    Reads (get, list) come from ``ReadRepository``; the ledger is append-only,
    so it has no update or delete.
    """

    mapping = TRANSACTION_MAPPING

    async def append(self, new: NewTransaction) -> StockTransaction:
        """INSERT one ledger row (id and create_time from the database)."""
        with self.operation("append"):
            values = {
                "type": new.type.value,
                "product_id": new.product_id,
                "from_warehouse_id": new.from_warehouse_id,
                "to_warehouse_id": new.to_warehouse_id,
                "quantity": new.quantity,
                "reservation_id": new.reservation_id,
                "reference": new.reference,
                "reason": new.reason,
                "performed_by": new.performed_by,
                "caller": new.caller,
                "request_id": new.request_id,
                "expire_time": new.expire_time,
            }
            row = await self.fetch_one(insert(TABLE).values(values).returning(*self._columns()))
            if row is None:
                raise RuntimeError("INSERT ... RETURNING returned no row")
            return self.mapping.from_row(row)

    async def list(self, query: ListQuery) -> Page[StockTransaction]:
        """One keyset page in one statement, ordered by (create_time, id) either way."""
        return await self.list_page(query)

    async def summarize(
        self, grouping: Grouping, start: datetime, end: datetime, query: ListQuery
    ) -> Page[MovementSummary]:
        """One keyset page of movement summaries in one statement (``repositories.movement_summary``)."""
        with self.operation("summarize"):
            statement, plan = plan_summary(grouping, start, end, query)
            rows = await self.fetch_all(statement)
            page_rows, next_token = plan.split(rows)
            return Page([summary_from_row(row) for row in page_rows], next_token)

    async def get_reservation(self, id: UUID) -> Reservation:
        """The RESERVATION row ``id`` and the units shipped or released against it, in one statement.

        Read it after locking the reservation's level: every consumer of a
        reservation holds that lock, so the sum is then up to date.
        """
        with self.operation("get_reservation"):
            row_, consumer = table(TABLE, "r"), table(TABLE, "c")
            consumed = (
                select(Cast(coalesce(func("sum", consumer.col("quantity")), 0), "bigint"))
                .from_(consumer)
                .where(consumer.col("reservation_id").eq(row_.col("id")))
            )
            statement = (
                select(
                    row_.col("id"),
                    row_.col("product_id"),
                    row_.col("from_warehouse_id"),
                    row_.col("quantity"),
                    consumed.scalar().as_("consumed"),
                    row_.col("expire_time"),
                    coalesce(row_.col("expire_time").le(func("now")), False).as_("expired"),
                )
                .from_(row_)
                .where(row_.col("id").eq(id), row_.col("type").eq(TransactionType.RESERVATION.value))
            )
            row = await self.fetch_one(statement)
            if row is None:
                raise NotFound("reservation", str(id))
            return Reservation(
                id=row["id"],
                product_id=row["product_id"],
                warehouse_id=row["from_warehouse_id"],
                quantity=row["quantity"],
                consumed=row["consumed"],
                expire_time=row["expire_time"],
                expired=row["expired"],
            )

    async def tag_document(self, document_id: UUID) -> None:
        """Tag the transaction: the ledger's document_id default reads this setting (migration 0013).

        ``set_config(..., is_local => true)`` is like SET LOCAL: gone when the
        transaction ends, so safe on pooled connections and behind PgBouncer.
        """
        with self.operation("tag_document"):
            await self.fetch_one(
                select(func("set_config", DOCUMENT_SETTING, str(document_id), True).as_("tag"))
            )

    async def ensure_live(self, references: Sequence[Reference]) -> None:
        """One statement with an EXISTS per reference; NotFound names the first missing one.

        Each live row is locked ``FOR KEY SHARE`` (the lock a foreign key check
        takes anyway) until the transaction ends, so a soft delete that locks the
        row ``FOR UPDATE`` either waits for this movement, and then sees its stock,
        or is waited for, and the row is then re-read as deleted.
        """
        with self.operation("ensure_live"):
            if not references:
                return
            checks = [
                exists(
                    select(TRUE)
                    .from_(REFERENCE_TABLES[ref.resource])
                    .where(col("id").eq(ref.id), col("delete_time").is_null())
                    .for_key_share()
                ).as_(f"ref{index}")
                for index, ref in enumerate(references)
            ]
            row = await self.fetch_one(select(*checks))
            for index, ref in enumerate(references):
                if row is None or not row[f"ref{index}"]:
                    raise NotFound(
                        ref.resource, str(ref.id), message=f"{ref.field}: {ref.resource} '{ref.id}' not found"
                    )
