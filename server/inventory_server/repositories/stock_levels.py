"""Stock levels over PostgreSQL: guarded atomic updates, upserts and ordered row locks.

Every write keeps ``0 <= reserved <= on_hand`` by its own WHERE clause (the
CHECK constraints of migration 0005 are only the backstop), so a concurrent
change can never push a level out of bounds: the UPDATE either applies to
the latest committed row or matches nothing.

>>> key = LevelKey(UUID(int=1), UUID(int=2))
>>> print(guarded_change(key, on_hand=-3, reserved=0).as_string())
UPDATE "stock_levels" SET "on_hand" = "on_hand" + %s, "reserved" = "reserved" + %s,
"update_time" = now(), "version" = "version" + %s WHERE "warehouse_id" = %s AND "product_id" = %s
AND ("reserved" + %s) >= %s AND ("on_hand" + %s) >= ("reserved" + %s)
RETURNING "product_id", "warehouse_id", "on_hand", "reserved", "update_time"
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

from inventory_server.db.listing import FieldSpec, ResourceFields, plan_list
from inventory_server.db.query import (
    TRUE,
    AliasedQuery,
    Condition,
    Param,
    Row,
    Select,
    Table,
    Update,
    and_where,
    col,
    excluded,
    exists,
    insert,
    now,
    select,
    table,
    update,
)
from inventory_server.domain.paging import ListQuery, Page
from inventory_server.domain.stock import LevelKey, StockLevel
from inventory_server.repositories.executor import StatementExecutor
from inventory_server.repositories.mapping import entity_columns
from inventory_server.repositories.stock_history import as_of_levels
from inventory_server.repositories.stock_interfaces import LevelLookup

TABLE = "stock_levels"
LEVEL_COLUMNS = entity_columns(StockLevel)

_WAREHOUSE_ID = FieldSpec("warehouse_id", "warehouse_id", "uuid", sortable=True)
_PRODUCT_ID = FieldSpec("product_id", "product_id", "uuid", sortable=True)

# The key of a level is (warehouse_id, product_id): the planner ends every order with
# both, so the order is unique and keyset pages neither skip nor repeat a level.
LEVEL_LIST_FIELDS = ResourceFields(
    "stock_levels",
    (
        _PRODUCT_ID,
        _WAREHOUSE_ID,
        FieldSpec("on_hand", "on_hand", "int", sortable=True),
        FieldSpec("reserved", "reserved", "int", sortable=True),
        FieldSpec("available", "available", "int", sortable=True),
        FieldSpec("update_time", "update_time", "timestamp", sortable=True),
    ),
    key=(_WAREHOUSE_ID, _PRODUCT_ID),
    default_order="warehouse_id, product_id",
    soft_delete_column=None,
    show_deleted_in_token=False,
)


def level_from_row(row: Mapping[str, Any]) -> StockLevel:
    return StockLevel(**{name: row[name] for name in LEVEL_COLUMNS})


def _is_key(key: LevelKey) -> Condition:
    return col("warehouse_id").eq(key.warehouse_id) & col("product_id").eq(key.product_id)


def guarded_change(key: LevelKey, *, on_hand: int, reserved: int) -> Update:
    """The UPDATE that adds to on_hand and reserved only if ``0 <= reserved <= on_hand`` still holds after."""
    new_reserved = col("reserved") + reserved
    return (
        update(TABLE)
        .set(
            on_hand=col("on_hand") + on_hand,
            reserved=new_reserved,
            update_time=now(),
            version=col("version") + 1,
        )
        .where(_is_key(key), new_reserved.ge(0), (col("on_hand") + on_hand).ge(new_reserved))
        .returning(*LEVEL_COLUMNS)
    )


def _listing_source(read_time: datetime | None = None) -> Select:
    """Levels with their computed ``available`` and their product's reorder point, as one FROM item."""
    levels: Table | AliasedQuery = table(TABLE, "sl")
    if read_time is not None:
        levels = as_of_levels(read_time).subquery("sl")
    products = table("products", "p")
    inner = (
        select(
            *(levels.col(name) for name in LEVEL_COLUMNS),
            (levels.col("on_hand") - levels.col("reserved")).as_("available"),
            products.col("reorder_point"),
        )
        .from_(levels)
        .left_join(products, products.col("id").eq(levels.col("product_id")))
    )
    # A LEFT JOIN on the products key that the outer query does not use is removed by the planner.
    return select(*LEVEL_COLUMNS, "available").from_(inner.subquery("levels"))


class StockLevelRepository(StatementExecutor):
    """The StockLevelRepository protocol of ``repositories.stock_interfaces`` over PostgreSQL."""

    stats_prefix = "stock_levels"

    async def read(
        self, product_id: UUID, warehouse_id: UUID, *, read_time: datetime | None = None
    ) -> LevelLookup:
        """One statement: whether the product and warehouse exist (deleted or not), and the level.

        With ``read_time``, the level as the ledger had it then (``repositories.stock_history``).
        """
        with self.operation("read"):
            refs = select(
                exists(select(TRUE).from_("products").where(col("id").eq(product_id))).as_("product_found"),
                exists(select(TRUE).from_("warehouses").where(col("id").eq(warehouse_id))).as_(
                    "warehouse_found"
                ),
            ).subquery("refs")
            levels: Table | AliasedQuery = table(TABLE, "sl")
            if read_time is not None:
                levels = as_of_levels(read_time, product_id=product_id, warehouse_id=warehouse_id).subquery(
                    "sl"
                )
            statement = (
                select(
                    refs.col("product_found"),
                    refs.col("warehouse_found"),
                    *(levels.col(name) for name in LEVEL_COLUMNS),
                )
                .from_(refs)
                .left_join(
                    levels,
                    levels.col("warehouse_id").eq(warehouse_id) & levels.col("product_id").eq(product_id),
                )
            )
            row = await self.fetch_one(statement)
            if row is None:  # the FROM item always yields one row
                raise RuntimeError("stock level lookup returned no row")
            level = level_from_row(row) if row["product_id"] is not None else None
            return LevelLookup(bool(row["product_found"]), bool(row["warehouse_found"]), level)

    async def list(
        self,
        query: ListQuery,
        *,
        product_id: UUID | None = None,
        warehouse_id: UUID | None = None,
        below_reorder_point: bool = False,
        read_time: datetime | None = None,
    ) -> Page[StockLevel]:
        """A keyset page in one statement (page_size + 1 rows tell whether another page follows).

        ``below_reorder_point`` compares *available* stock with the reorder point;
        ``read_time`` lists the levels as the ledger had them then.
        """
        with self.operation("list"):
            base = and_where(
                None,
                [
                    col("product_id").eq(product_id) if product_id is not None else None,
                    col("warehouse_id").eq(warehouse_id) if warehouse_id is not None else None,
                    col("available").lt(col("reorder_point")) if below_reorder_point else None,
                ],
            )
            extra = {
                "product_id": str(product_id or ""),
                "warehouse_id": str(warehouse_id or ""),
                "below_reorder_point": below_reorder_point,
                "read_time": read_time.isoformat() if read_time is not None else "",
            }
            plan = plan_list(LEVEL_LIST_FIELDS, query, base_where=base, extra=extra)
            rows = await self.fetch_all(plan.apply(_listing_source(read_time)))
            page_rows, next_token = plan.split(rows)
            return Page([level_from_row(row) for row in page_rows], next_token)

    async def add(self, key: LevelKey, quantity: int) -> StockLevel:
        """Upsert: ``INSERT ... ON CONFLICT DO UPDATE SET on_hand = on_hand + quantity``."""
        with self.operation("add"):
            current = table(TABLE)
            statement = (
                insert(TABLE)
                .values({"warehouse_id": key.warehouse_id, "product_id": key.product_id, "on_hand": quantity})
                .on_conflict_do_update(
                    ("warehouse_id", "product_id"),
                    {
                        "on_hand": current.col("on_hand") + excluded("on_hand"),
                        "update_time": now(),
                        "version": current.col("version") + 1,
                    },
                )
                .returning(*LEVEL_COLUMNS)
            )
            row = await self.fetch_one(statement)
            if row is None:
                raise RuntimeError("an upsert without RETURNING row")
            return level_from_row(row)

    async def change(self, key: LevelKey, *, on_hand: int = 0, reserved: int = 0) -> StockLevel | None:
        """The guarded atomic UPDATE (see ``guarded_change``); None when it matched no row."""
        with self.operation("change"):
            row = await self.fetch_one(guarded_change(key, on_hand=on_hand, reserved=reserved))
            return level_from_row(row) if row is not None else None

    async def ensure(self, key: LevelKey) -> None:
        """``INSERT ... ON CONFLICT DO NOTHING`` of a zero level."""
        with self.operation("ensure"):
            statement = (
                insert(TABLE)
                .values({"warehouse_id": key.warehouse_id, "product_id": key.product_id})
                .on_conflict_do_nothing("warehouse_id", "product_id")
            )
            await self.execute(statement)

    async def lock(self, keys: Sequence[LevelKey]) -> dict[LevelKey, StockLevel]:
        """``SELECT ... ORDER BY warehouse_id, product_id FOR NO KEY UPDATE``: one fixed lock order."""
        with self.operation("lock"):
            if not keys:
                return {}
            wanted = [Row((Param(k.warehouse_id), Param(k.product_id))) for k in sorted(set(keys))]
            statement = (
                select(*LEVEL_COLUMNS)
                .from_(TABLE)
                .where(Row((col("warehouse_id"), col("product_id"))).in_(wanted))
                .order_by("warehouse_id", "product_id")
                .for_no_key_update()
            )
            levels = [level_from_row(row) for row in await self.fetch_all(statement)]
            return {level.key: level for level in levels}
