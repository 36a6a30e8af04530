"""SELECT statements and set operations (UNION, INTERSECT, EXCEPT).

Immutable: every method returns a new query, so a base query can be shared
and refined safely.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal

from psycopg import sql

from inventory_server.db.query.base import Params, Statement, compile_all
from inventory_server.db.query.clauses import (
    CommonTable,
    Lock,
    LockStrength,
    LockWait,
    columns_of,
    compile_with,
)
from inventory_server.db.query.conditions import Condition, and_where
from inventory_server.db.query.expressions import Expr, OrderItem, Subquery, order_item
from inventory_server.db.query.tables import AliasedQuery, FromItem, Join, JoinKind, from_item

SetOperator = Literal["UNION", "UNION ALL", "INTERSECT", "INTERSECT ALL", "EXCEPT", "EXCEPT ALL"]


class Query(Statement):
    """What SELECTs and set operations share: they can be combined, named and ordered."""

    __slots__ = ()

    def union(self, other: Query) -> Compound:
        return Compound("UNION", self, other)

    def union_all(self, other: Query) -> Compound:
        return Compound("UNION ALL", self, other)

    def intersect(self, other: Query) -> Compound:
        return Compound("INTERSECT", self, other)

    def except_(self, other: Query) -> Compound:
        return Compound("EXCEPT", self, other)

    def subquery(self, alias: str) -> AliasedQuery:
        """This query as a FROM item: ``(SELECT ...) AS "alias"``."""
        return AliasedQuery(self, alias)

    def scalar(self) -> Subquery:
        """This query as a value: ``(SELECT ...)``, usable anywhere an expression is."""
        return Subquery(self)


@dataclass(frozen=True, slots=True)
class Select(Query):
    """A SELECT statement.

    >>> from inventory_server.db.query import col, table
    >>> q = (select("id", "sku").from_("products")
    ...      .where(col("delete_time").is_null(), col("sku").ilike("%a%"))
    ...      .order_by(col("sku").desc(), "id").limit(10).for_update(skip_locked=True))
    >>> print(q.as_string())  # doctest: +NORMALIZE_WHITESPACE
    SELECT "id", "sku" FROM "products" WHERE "delete_time" IS NULL AND "sku" ILIKE %s
    ORDER BY "sku" DESC, "id" ASC LIMIT %s FOR UPDATE SKIP LOCKED
    >>> q.build()[1]
    ['%a%', 10]

    Common table expressions, also recursive ones:

    >>> tree = table("categories", "c")
    >>> walk = (select("id", "parent_id").from_("categories").where(col("id").eq(1))
    ...         .union_all(select(tree.col("id"), tree.col("parent_id")).from_(tree)
    ...                    .join("up", col("parent_id", "up").eq(tree.col("id")))))
    >>> ancestors = select("id").from_("up").with_("up", walk, recursive=True)
    >>> print(ancestors.as_string())  # doctest: +NORMALIZE_WHITESPACE
    WITH RECURSIVE "up" AS ((SELECT "id", "parent_id" FROM "categories" WHERE "id" = %s)
    UNION ALL (SELECT "c"."id", "c"."parent_id" FROM "categories" AS "c"
    INNER JOIN "up" ON "up"."parent_id" = "c"."id")) SELECT "id" FROM "up"

    Row locks, ``FOR KEY SHARE`` included (the lock a foreign-key check takes):

    >>> select("id").from_("products").where(col("id").eq(1)).for_key_share().as_string()
    'SELECT "id" FROM "products" WHERE "id" = %s FOR KEY SHARE'
    """

    columns: tuple[Expr, ...] = ()
    from_items: tuple[FromItem, ...] = ()
    joins: tuple[Join, ...] = ()
    where_: Condition | None = None
    order_by_: tuple[OrderItem, ...] = ()
    limit_: int | None = None
    lock: Lock | None = None
    ctes: tuple[CommonTable, ...] = ()
    recursive: bool = False

    def select(self, *columns: Expr | str) -> Select:
        """Add columns to the select list."""
        return replace(self, columns=self.columns + columns_of(columns))

    def from_(self, *items: FromItem | str) -> Select:
        return replace(self, from_items=self.from_items + tuple(from_item(i) for i in items))

    def join(self, item: FromItem | str, on: Condition, kind: JoinKind = "INNER") -> Select:
        return replace(self, joins=(*self.joins, Join(kind, from_item(item), on)))

    def left_join(self, item: FromItem | str, on: Condition) -> Select:
        return self.join(item, on, "LEFT")

    def where(self, *conditions: Condition | None) -> Select:
        """AND ``conditions`` onto the existing WHERE (None entries are ignored)."""
        return replace(self, where_=and_where(self.where_, conditions))

    def order_by(self, *items: OrderItem | Expr | str) -> Select:
        """Append ORDER BY keys (plain names and expressions sort ascending)."""
        return replace(self, order_by_=self.order_by_ + tuple(order_item(i) for i in items))

    def limit(self, count: int | None) -> Select:
        """``LIMIT %s`` (there is deliberately no OFFSET: page with keysets)."""
        if count is not None and count < 0:
            raise ValueError("limit must not be negative")
        return replace(self, limit_=count)

    def for_update(
        self, *, of: tuple[str, ...] = (), skip_locked: bool = False, nowait: bool = False
    ) -> Select:
        return self._locked("UPDATE", of, skip_locked, nowait)

    def for_no_key_update(
        self, *, of: tuple[str, ...] = (), skip_locked: bool = False, nowait: bool = False
    ) -> Select:
        return self._locked("NO KEY UPDATE", of, skip_locked, nowait)

    def for_share(
        self, *, of: tuple[str, ...] = (), skip_locked: bool = False, nowait: bool = False
    ) -> Select:
        return self._locked("SHARE", of, skip_locked, nowait)

    def for_key_share(
        self, *, of: tuple[str, ...] = (), skip_locked: bool = False, nowait: bool = False
    ) -> Select:
        """The weakest row lock: it only blocks deleting the row or changing its key."""
        return self._locked("KEY SHARE", of, skip_locked, nowait)

    def _locked(self, strength: LockStrength, of: tuple[str, ...], skip_locked: bool, nowait: bool) -> Select:
        if skip_locked and nowait:
            raise ValueError("choose SKIP LOCKED or NOWAIT, not both")
        wait: LockWait | None = "SKIP LOCKED" if skip_locked else "NOWAIT" if nowait else None
        return replace(self, lock=Lock(strength, of, wait))

    def with_(
        self,
        name: str,
        query: Statement,
        *,
        columns: tuple[str, ...] = (),
        recursive: bool = False,
    ) -> Select:
        """Add a common table expression; ``recursive=True`` makes the clause ``WITH RECURSIVE``."""
        cte = CommonTable(name, query, columns)
        return replace(self, ctes=(*self.ctes, cte), recursive=self.recursive or recursive)

    def compile(self, params: Params) -> sql.Composable:
        parts: list[sql.Composable] = [compile_with(self.ctes, self.recursive, params)]
        parts.append(sql.SQL("SELECT "))
        if not self.columns:
            raise ValueError("a SELECT needs at least one column")
        parts.append(compile_all(self.columns, params))
        if self.from_items:
            parts.append(sql.SQL(" FROM {}").format(compile_all(self.from_items, params)))
        elif self.joins:
            raise ValueError("a JOIN needs a FROM")
        for join in self.joins:
            parts.append(sql.SQL(" {}").format(join.compile(params)))
        if self.where_ is not None:
            parts.append(sql.SQL(" WHERE {}").format(self.where_.compile(params)))
        if self.order_by_:
            parts.append(sql.SQL(" ORDER BY {}").format(compile_all(self.order_by_, params)))
        if self.limit_ is not None:
            parts.append(sql.SQL(" LIMIT {}").format(params.add(self.limit_)))
        if self.lock is not None:
            parts.append(sql.SQL(" {}").format(self.lock.compile(params)))
        return sql.Composed(parts)


def select(*columns: Expr | str) -> Select:
    """Start a SELECT; plain strings are column names."""
    return Select(columns=columns_of(columns))


@dataclass(frozen=True, slots=True)
class Compound(Query):
    """Two queries joined by a set operator, with an optional ORDER BY and LIMIT over the result.

    >>> a = select("id").from_("a")
    >>> a.intersect(select("id").from_("b")).except_(select("id").from_("c")).as_string()
    '((SELECT "id" FROM "a") INTERSECT (SELECT "id" FROM "b")) EXCEPT (SELECT "id" FROM "c")'
    >>> a.union_all(select("id").from_("b")).order_by("id").limit(5).as_string()
    '(SELECT "id" FROM "a") UNION ALL (SELECT "id" FROM "b") ORDER BY "id" ASC LIMIT %s'
    """

    operator: SetOperator
    left: Query
    right: Query
    order_by_: tuple[OrderItem, ...] = ()
    limit_: int | None = None

    def order_by(self, *items: OrderItem | Expr | str) -> Compound:
        return replace(self, order_by_=self.order_by_ + tuple(order_item(i) for i in items))

    def limit(self, count: int | None) -> Compound:
        return replace(self, limit_=count)

    def compile(self, params: Params) -> sql.Composable:
        parts: list[sql.Composable] = [
            sql.SQL("({}) {} ({})").format(
                self.left.compile(params), sql.SQL(self.operator), self.right.compile(params)
            )
        ]
        if self.order_by_:
            parts.append(sql.SQL(" ORDER BY {}").format(compile_all(self.order_by_, params)))
        if self.limit_ is not None:
            parts.append(sql.SQL(" LIMIT {}").format(params.add(self.limit_)))
        return sql.Composed(parts)
