"""UPDATE and DELETE statements.

Both refuse to compile without a WHERE clause: write ``.where(TRUE)`` to
change every row on purpose.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from psycopg import sql

from inventory_server.db.query.base import Params, Statement, join_sql
from inventory_server.db.query.clauses import columns_of, compile_returning
from inventory_server.db.query.conditions import Condition, and_where
from inventory_server.db.query.expressions import Expr
from inventory_server.db.query.insert import assignments_of, compile_assignments
from inventory_server.db.query.tables import FromItem, Table, from_item


@dataclass(frozen=True, slots=True)
class Update(Statement):
    """An UPDATE, optionally with FROM and RETURNING.

    >>> from inventory_server.db.query import col, now
    >>> q = (update("stock_levels").set(on_hand=col("on_hand") + 5, update_time=now())
    ...      .where(col("product_id").eq(7)).returning("on_hand"))
    >>> print(q.as_string())  # doctest: +NORMALIZE_WHITESPACE
    UPDATE "stock_levels" SET "on_hand" = "on_hand" + %s, "update_time" = now()
    WHERE "product_id" = %s RETURNING "on_hand"
    >>> q.build()[1]
    [5, 7]
    """

    table: Table
    assignments: tuple[tuple[str, Expr], ...] = ()
    from_items: tuple[FromItem, ...] = ()
    where_: Condition | None = None
    returning_: tuple[Expr, ...] = ()

    def set(self, values: Mapping[str, Any] | None = None, /, **more: Any) -> Update:
        """Assign columns; values that are not expressions become parameters."""
        merged = {**(values or {}), **more}
        return replace(self, assignments=self.assignments + assignments_of(merged))

    def from_(self, *items: FromItem | str) -> Update:
        return replace(self, from_items=self.from_items + tuple(from_item(i) for i in items))

    def where(self, *conditions: Condition | None) -> Update:
        return replace(self, where_=and_where(self.where_, conditions))

    def returning(self, *columns: Expr | str) -> Update:
        return replace(self, returning_=self.returning_ + columns_of(columns))

    def compile(self, params: Params) -> sql.Composable:
        if not self.assignments:
            raise ValueError("an UPDATE needs at least one assignment")
        if self.where_ is None:
            raise ValueError("refusing an UPDATE without WHERE; use .where(TRUE) to mean every row")
        parts: list[sql.Composable] = [
            sql.SQL("UPDATE {} SET {}").format(
                self.table.compile(params), compile_assignments(self.assignments, params)
            )
        ]
        if self.from_items:
            parts.append(sql.SQL(" FROM {}").format(join_sql([f.compile(params) for f in self.from_items])))
        parts.append(sql.SQL(" WHERE {}").format(self.where_.compile(params)))
        parts.append(compile_returning(self.returning_, params))
        return sql.Composed(parts)


def update(target: Table | str) -> Update:
    """Start an UPDATE of a table."""
    return Update(Table(target) if isinstance(target, str) else target)


@dataclass(frozen=True, slots=True)
class Delete(Statement):
    """A DELETE, optionally with RETURNING.

    >>> from inventory_server.db.query import col, now
    >>> delete("idempotency_keys").where(col("create_time").lt(now())).returning("scope").as_string()
    'DELETE FROM "idempotency_keys" WHERE "create_time" < now() RETURNING "scope"'
    """

    table: Table
    where_: Condition | None = None
    returning_: tuple[Expr, ...] = ()

    def where(self, *conditions: Condition | None) -> Delete:
        return replace(self, where_=and_where(self.where_, conditions))

    def returning(self, *columns: Expr | str) -> Delete:
        return replace(self, returning_=self.returning_ + columns_of(columns))

    def compile(self, params: Params) -> sql.Composable:
        if self.where_ is None:
            raise ValueError("refusing a DELETE without WHERE; use .where(TRUE) to mean every row")
        parts: list[sql.Composable] = [sql.SQL("DELETE FROM {}").format(self.table.compile(params))]
        parts.append(sql.SQL(" WHERE {}").format(self.where_.compile(params)))
        parts.append(compile_returning(self.returning_, params))
        return sql.Composed(parts)


def delete(source: Table | str) -> Delete:
    """Start a DELETE from a table."""
    return Delete(Table(source) if isinstance(source, str) else source)
