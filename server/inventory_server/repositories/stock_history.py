"""Stock levels as they were at a past instant, computed from the ledger alone.

A level is the sum of its ledger rows' effects, so the levels at time ``T``
are the sums over the rows written up to ``T`` (``create_time <= T``).
Each row touches up to two levels (its from- and to-warehouse), so the rows
are first split into their two *sides* (``UNION ALL``); the sums per level
are then window functions with aggregate ``FILTER``s, and one row per level is
kept (``row_number() = 1``). The result has the columns of ``stock_levels``
that listing uses, so the List translator's filters, order and keyset pages
apply to it unchanged. ``product_id``/``warehouse_id`` narrow the ledger scan
(GetStockLevel reads one level through the product index).

>>> print(as_of_levels(SAMPLE_TIME).as_string()[:88])
WITH "sides" AS ((SELECT "product_id", "to_warehouse_id" AS "warehouse_id", %s AS "side"
"""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import UUID

from inventory_server.db.query import (
    Cast,
    Condition,
    Expr,
    Select,
    and_,
    coalesce,
    col,
    func,
    or_,
    select,
    to_expr,
)
from inventory_server.domain.transaction import TransactionType

SAMPLE_TIME = datetime(2024, 1, 1, tzinfo=UTC)
_ADDS = [TransactionType.RECEIPT.value, TransactionType.TRANSFER.value, TransactionType.ADJUSTMENT.value]
_REMOVES = [TransactionType.SHIPMENT.value, TransactionType.TRANSFER.value, TransactionType.ADJUSTMENT.value]


def _side(
    warehouse_column: str, side: str, read_time: datetime, product_id: UUID | None, warehouse_id: UUID | None
) -> Select:
    return (
        select(
            "product_id",
            col(warehouse_column).as_("warehouse_id"),
            to_expr(side).as_("side"),
            "type",
            "quantity",
            "reservation_id",
            "create_time",
        )
        .from_("stock_transactions")
        .where(
            col(warehouse_column).ne(None),
            col("create_time").le(read_time),
            col("product_id").eq(product_id) if product_id is not None else None,
            col(warehouse_column).eq(warehouse_id) if warehouse_id is not None else None,
        )
    )


def as_of_levels(
    read_time: datetime, *, product_id: UUID | None = None, warehouse_id: UUID | None = None
) -> Select:
    """Each level with a ledger row up to ``read_time``, with the columns listing reads from levels."""
    to_rows = _side("to_warehouse_id", "to", read_time, product_id, warehouse_id)
    sides = to_rows.union_all(_side("from_warehouse_id", "from", read_time, product_id, warehouse_id))
    level = ["warehouse_id", "product_id"]
    to_side, from_side = col("side").eq("to"), col("side").eq("from")

    def total(condition: Condition) -> Expr:
        return coalesce(func("sum", col("quantity")).filter(condition).over(partition_by=level), 0)

    added = total(and_(to_side, col("type").in_(_ADDS)))
    removed = total(and_(from_side, col("type").in_(_REMOVES)))
    reserved = total(and_(from_side, col("type").eq(TransactionType.RESERVATION.value)))
    unreserved = total(
        and_(
            from_side,
            or_(
                col("type").eq(TransactionType.RELEASE.value),
                and_(col("type").eq(TransactionType.SHIPMENT.value), col("reservation_id").ne(None)),
            ),
        )
    )
    totals = select(
        "product_id",
        "warehouse_id",
        Cast(added - removed, "bigint").as_("on_hand"),  # sums of bigint are numeric
        Cast(reserved - unreserved, "bigint").as_("reserved"),
        func("max", col("create_time")).over(partition_by=level).as_("update_time"),
        func("row_number").over(partition_by=level, order_by=[col("create_time").desc()]).as_("nth"),
    ).from_("sides")
    return (
        select("product_id", "warehouse_id", "on_hand", "reserved", "update_time")
        .with_("sides", sides)
        .with_("totals", totals)
        .from_("totals")
        .where(col("nth").eq(1))
    )
