"""SummarizeMovements over the ledger: CTEs split rows into sides, window sums total them.

Each ledger row touches up to two warehouses, so the rows of ``[start, end)``
are first split into their *sides* (``UNION ALL``): a transfer becomes an
``out`` movement of its source and an ``in`` movement of its destination.
The request's filter applies to the sides (so ``warehouse_id`` is the
warehouse a side moves stock in or out of). The totals per group are window
sums with aggregate ``FILTER``s partitioned by the grouping columns, one row
per group is kept (``row_number() = 1``), and the list planner pages over the
result by the grouping columns (the key), so pages neither skip nor repeat a
group.

>>> from datetime import UTC, datetime
>>> t = datetime(2024, 1, 1, tzinfo=UTC)
>>> print(summary_query(Grouping.PRODUCT, t, t, None).as_string()[:81])
WITH "sides" AS ((SELECT "product_id", "to_warehouse_id" AS "warehouse_id", %s AS
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from inventory_server.db.listing import FieldSpec, ListPlan, ResourceFields, parse_filter, plan_list
from inventory_server.db.query import (
    Cast,
    Condition,
    Expr,
    Select,
    and_,
    coalesce,
    col,
    func,
    select,
    to_expr,
)
from inventory_server.domain.movement_summary import Grouping, MovementSummary, TypeTotal
from inventory_server.domain.paging import ListQuery
from inventory_server.domain.transaction import TransactionType
from inventory_server.repositories.transaction_fields import TYPE_NAMES, TypeField

# Which types change on_hand on each side (reservations and releases move no goods).
_ON_HAND_IN = [
    TransactionType.RECEIPT.value,
    TransactionType.TRANSFER.value,
    TransactionType.ADJUSTMENT.value,
]
_ON_HAND_OUT = [
    TransactionType.SHIPMENT.value,
    TransactionType.TRANSFER.value,
    TransactionType.ADJUSTMENT.value,
]


# What the filter may name: the columns of a side (an allow-list: nothing else reaches the SQL).
SIDE_FIELDS = ResourceFields(
    "movement_sides",
    (
        FieldSpec("product_id", "product_id", "uuid"),
        FieldSpec("warehouse_id", "warehouse_id", "uuid"),
        TypeField("type", "type", "enum", enum_values=TYPE_NAMES),
    ),
    key=(FieldSpec("product_id", "product_id", "uuid"),),
    soft_delete_column=None,
)

_KEY_SPECS = {
    "product_id": FieldSpec("product_id", "product_id", "uuid", filterable=False, sortable=True),
    "warehouse_id": FieldSpec("warehouse_id", "warehouse_id", "uuid", filterable=False, sortable=True),
}


def _summary_fields(grouping: Grouping) -> ResourceFields:
    """The list planner's view of the summaries: ordered and paged by the grouping columns only."""
    keys = tuple(_KEY_SPECS[name] for name in grouping.value)
    return ResourceFields(
        f"movement_summary_{grouping.name.lower()}",
        (),
        key=keys,
        default_order=", ".join(grouping.value),
        soft_delete_column=None,
    )


def _side(warehouse_column: str, side: str, start: datetime, end: datetime) -> Select:
    return (
        select(
            "product_id",
            col(warehouse_column).as_("warehouse_id"),
            to_expr(side).as_("side"),
            "type",
            "quantity",
        )
        .from_("stock_transactions")
        .where(
            col(warehouse_column).ne(None),
            col("create_time").ge(start),
            col("create_time").lt(end),
        )
    )


def _column(kind: TransactionType, side: str) -> str:
    return f"{kind.value}_{side}"


def summary_query(grouping: Grouping, start: datetime, end: datetime, condition: Condition | None) -> Select:
    """One row per group with movements in ``[start, end)`` that match ``condition``."""
    sides = _side("to_warehouse_id", "in", start, end).union_all(
        _side("from_warehouse_id", "out", start, end)
    )
    moves = select("product_id", "warehouse_id", "side", "type", "quantity").from_("sides").where(condition)
    group = list(grouping.value)
    into, out_of = col("side").eq("in"), col("side").eq("out")

    def total(condition: Condition) -> Expr:
        # sums of bigint are numeric: back to bigint, which the proto's int64 holds
        return Cast(
            coalesce(func("sum", col("quantity")).filter(condition).over(partition_by=group), 0), "bigint"
        )

    per_type = [
        total(and_(side_is, col("type").eq(kind.value))).as_(_column(kind, side))
        for kind in TransactionType
        for side, side_is in (("in", into), ("out", out_of))
    ]
    totals = select(
        *group,
        total(and_(into, col("type").in_(_ON_HAND_IN))).as_("total_in"),
        total(and_(out_of, col("type").in_(_ON_HAND_OUT))).as_("total_out"),
        *per_type,
        func("row_number").over(partition_by=group).as_("nth"),
    ).from_("moves")
    type_columns = [_column(kind, side) for kind in TransactionType for side in ("in", "out")]
    return (
        select(*group, "total_in", "total_out", *type_columns)
        .with_("sides", sides)
        .with_("moves", moves)
        .with_("totals", totals)
        .from_("totals")
        .where(col("nth").eq(1))
    )


def summary_from_row(row: Mapping[str, Any]) -> MovementSummary:
    return MovementSummary(
        product_id=row.get("product_id"),
        warehouse_id=row.get("warehouse_id"),
        total_in=row["total_in"],
        total_out=row["total_out"],
        by_type=[
            TypeTotal(kind, row[_column(kind, "in")], row[_column(kind, "out")])
            for kind in TransactionType
            if row[_column(kind, "in")] or row[_column(kind, "out")]
        ],
    )


def plan_summary(
    grouping: Grouping, start: datetime, end: datetime, query: ListQuery
) -> tuple[Select, ListPlan]:
    """The statement of one page and its plan; InvalidArgument names filter or page_token.

    The filter (over sides) and the range shape the result, so they go into the
    token's fingerprint: a token cannot be replayed against other ones.
    """
    condition = parse_filter(query.filter, SIDE_FIELDS)
    extra = {
        "filter": query.filter.strip(),
        "start": start.isoformat(),
        "end": end.isoformat(),
    }
    pageable = ListQuery(page_size=query.page_size, page_token=query.page_token)
    plan = plan_list(_summary_fields(grouping), pageable, extra=extra)
    inner = summary_query(grouping, start, end, condition).subquery("summaries")
    statement = plan.apply(select(*(inner.col(c) for c in _output_columns(grouping))).from_(inner))
    return statement, plan


def _output_columns(grouping: Grouping) -> list[str]:
    return [
        *grouping.value,
        "total_in",
        "total_out",
        *(_column(k, s) for k in TransactionType for s in ("in", "out")),
    ]
