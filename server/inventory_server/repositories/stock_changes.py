"""The change stream's reads over PostgreSQL: ledger rows after a position, in position order.

Positions are stamped at commit (migration 0011), so "position > p" never
skips a row that commits late. One catch-up statement returns the matching rows
of the next ``limit`` positions *and* the last position it looked at (so a
filtered stream advances past rows it does not want) *and* the retention
horizon, all from one snapshot.

>>> text = catch_up_statement(7, parse_watch_filter('type = RECEIPT'), 100).as_string()
>>> print(text[:text.index(" SELECT ")])  # doctest: +NORMALIZE_WHITESPACE
WITH "scanned" AS (SELECT "position", "transaction_id", "from_on_hand", "from_reserved",
"from_update_time", "to_on_hand", "to_reserved", "to_update_time" FROM "stock_changes"
WHERE "position" > %s ORDER BY "position" ASC LIMIT %s)
>>> print(text[text.index(" WHERE ", 200):])  # doctest: +NORMALIZE_WHITESPACE
 WHERE "type" = %s OR "s"."position" = (SELECT max("position") FROM "scanned") ORDER BY "s"."position" ASC
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from inventory_server.db.listing import ResourceFields, parse_filter
from inventory_server.db.query import (
    TRUE,
    Condition,
    Select,
    coalesce,
    col,
    count,
    delete,
    func,
    or_,
    select,
    table,
    update,
)
from inventory_server.domain.stock import StockLevel
from inventory_server.domain.stock_changes import (
    ChangeBatch,
    StockChange,
    StreamBounds,
    takes_below_reorder_point,
)
from inventory_server.repositories.executor import StatementExecutor
from inventory_server.repositories.transactions import TRANSACTION_LIST_FIELDS, TRANSACTION_MAPPING

CHANGES = "stock_changes"
RETENTION = "stock_change_retention"
LEVEL_COLUMNS = (
    "from_on_hand",
    "from_reserved",
    "from_update_time",
    "to_on_hand",
    "to_reserved",
    "to_update_time",
)


def _field(name: str) -> Any:
    spec = TRANSACTION_LIST_FIELDS.find(name)
    if spec is None:  # pragma: no cover - a programming error, caught by any test
        raise LookupError(name)
    return spec


# What a watch filter may name: the ledger's own list fields, restricted to these three.
WATCH_FIELDS = ResourceFields(
    "stock_changes",
    (_field("product_id"), _field("warehouse_id"), _field("type")),
    key=(_field("product_id"),),
    soft_delete_column=None,
)


def parse_watch_filter(text: str) -> Condition | None:
    """The condition of an AIP-160 filter over product_id, warehouse_id and type (else InvalidArgument)."""
    return parse_filter(text, WATCH_FIELDS)


def catch_up_statement(after: int, condition: Condition | None, limit: int) -> Select:
    """The next ``limit`` positions after ``after``: matching rows plus the last position looked at."""
    scanned = (
        select("position", "transaction_id", *LEVEL_COLUMNS)
        .from_(CHANGES)
        .where(col("position").gt(after))
        .order_by("position")
        .limit(limit)
    )
    s, t, p = table("scanned", "s"), table("stock_transactions"), table("products", "p")
    last = select(func("max", col("position"))).from_("scanned").scalar()
    matches = TRUE if condition is None else condition
    purged = select(col("purged_through")).from_(RETENTION).scalar()
    return (
        select(
            s.col("position"),
            *(s.col(name) for name in LEVEL_COLUMNS),
            *(t.col(name) for name in TRANSACTION_MAPPING.columns),
            coalesce(matches, False).as_("matches"),
            purged.as_("purged_through"),
            p.col("reorder_point"),
            select(count()).from_("scanned").scalar().as_("scanned_count"),
        )
        .with_("scanned", scanned)  # referenced twice, so PostgreSQL computes it once
        .from_(s)
        .join(t, t.col("id").eq(s.col("transaction_id")))
        .join(p, p.col("id").eq(t.col("product_id")))
        .where(or_(matches, s.col("position").eq(last)))
        .order_by(s.col("position"))
    )


def _levels(row: Mapping[str, Any]) -> tuple[StockLevel, ...]:
    levels: list[StockLevel] = []
    for side in ("from", "to"):
        warehouse = row[f"{side}_warehouse_id"]
        on_hand = row[f"{side}_on_hand"]
        if warehouse is None or on_hand is None:
            continue
        levels.append(
            StockLevel(
                product_id=row["product_id"],
                warehouse_id=warehouse,
                on_hand=on_hand,
                reserved=row[f"{side}_reserved"],
                update_time=row[f"{side}_update_time"],
            )
        )
    return tuple(levels)


def _change(row: Mapping[str, Any]) -> StockChange:
    transaction, levels = TRANSACTION_MAPPING.from_row(row), _levels(row)
    return StockChange(
        position=int(row["position"]),
        transaction=transaction,
        levels=levels,
        below_reorder_point=takes_below_reorder_point(transaction, levels, int(row["reorder_point"])),
    )


class StockChangeRepository(StatementExecutor):
    """Reads (and purges) the commit-ordered positions of ledger rows."""

    stats_prefix = "stock_changes"

    async def bounds(self) -> StreamBounds:
        """The retention horizon and the latest visible position, in one statement."""
        with self.operation("bounds"):
            latest = select(func("max", col("position"))).from_(CHANGES).scalar()
            row = await self.fetch_one(select("purged_through", latest.as_("latest")).from_(RETENTION))
            if row is None:
                raise RuntimeError("stock_change_retention has no row (migration 0011 missing?)")
            purged = int(row["purged_through"])
            return StreamBounds(purged_through=purged, latest=max(purged, int(row["latest"] or 0)))

    async def read_after(self, after: int, condition: Condition | None, limit: int) -> ChangeBatch:
        """The matching changes among the ``limit`` positions after ``after`` (see the module docstring)."""
        with self.operation("read_after"):
            rows = await self.fetch_all(catch_up_statement(after, condition, limit))
            changes = [_change(row) for row in rows if row["matches"]]
            if not rows:
                # nothing new; the horizon is unknown here, and the next non-empty read sees it
                return ChangeBatch(changes, None, 0, full=False)
            last = rows[-1]
            return ChangeBatch(
                changes,
                int(last["position"]),
                int(last["purged_through"]),
                full=int(last["scanned_count"]) >= limit,
            )

    async def purge_older_than(self, retention: timedelta, *, limit: int) -> int:
        """Forget up to ``limit`` of the oldest positions committed more than ``retention`` ago.

        The ledger rows stay; only their stream positions go, and the horizon
        moves up so that a resume from before it is refused (FAILED_PRECONDITION)
        instead of silently missing rows.
        """
        with self.operation("purge"):
            oldest = (
                select("position")
                .from_(CHANGES)
                .where(col("commit_time").lt(func("now") - retention))
                .order_by("position")
                .limit(limit)
            )
            rows = await self.fetch_all(
                delete(CHANGES).where(col("position").in_(oldest)).returning("position")
            )
            if rows:
                # the same transaction: a reader sees the rows gone and the horizon moved, or neither
                horizon = max(int(row["position"]) for row in rows)
                await self.execute(
                    update(RETENTION)
                    .set(purged_through=func("greatest", col("purged_through"), horizon))
                    .where(col("singleton").eq(True))
                )
            return len(rows)
