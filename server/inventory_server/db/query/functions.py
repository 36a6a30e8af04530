"""Function calls and window functions.

Function names cannot be quoted (``coalesce`` is not a real function), so they
are checked against a strict identifier pattern instead; arguments are
ordinary expressions, so values still travel as parameters.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from psycopg import sql

from inventory_server.db.query.base import Params, join_sql, safe_word
from inventory_server.db.query.conditions import Condition
from inventory_server.db.query.expressions import Column, Expr, OrderItem, Star, order_item, to_expr


@dataclass(frozen=True, slots=True)
class Func(Expr):
    """``name(arg, ...)``, optionally with ``FILTER (WHERE ...)``.

    >>> from inventory_server.db.query import col
    >>> func("lower", "A").as_string()
    'lower(%s)'
    >>> count().filter(col("inserted").eq(True)).as_string()
    'count(*) FILTER (WHERE "inserted" = %s)'
    """

    name: str
    args: tuple[Expr, ...] = ()
    filter_where: Condition | None = None

    def compile(self, params: Params) -> sql.Composable:
        args = join_sql([arg.compile(params) for arg in self.args])
        call = sql.SQL("{}({})").format(safe_word(self.name, "function name"), args)
        if self.filter_where is None:
            return call
        return sql.SQL("{} FILTER (WHERE {})").format(call, self.filter_where.compile(params))

    def filter(self, condition: Condition) -> Func:
        """An aggregate restricted to rows matching ``condition``."""
        return Func(self.name, self.args, condition)

    def over(
        self,
        partition_by: Sequence[Expr | str] = (),
        order_by: Sequence[OrderItem | Expr | str] = (),
    ) -> Window:
        """This function as a window function: ``name(...) OVER (PARTITION BY ... ORDER BY ...)``."""
        partitions = tuple(Column(p) if isinstance(p, str) else p for p in partition_by)
        return Window(self, partitions, tuple(order_item(o) for o in order_by))


@dataclass(frozen=True, slots=True)
class Window(Expr):
    """A window function call.

    >>> from inventory_server.db.query import col
    >>> func("row_number").over(partition_by=["warehouse_id"], order_by=[col("qty").desc()]).as_string()
    'row_number() OVER (PARTITION BY "warehouse_id" ORDER BY "qty" DESC)'
    """

    call: Func
    partition_by: tuple[Expr, ...] = ()
    order_by: tuple[OrderItem, ...] = field(default=())

    def compile(self, params: Params) -> sql.Composable:
        call = self.call.compile(params)
        spec: list[sql.Composable] = []
        if self.partition_by:
            spec.append(
                sql.SQL("PARTITION BY {}").format(join_sql([p.compile(params) for p in self.partition_by]))
            )
        if self.order_by:
            spec.append(sql.SQL("ORDER BY {}").format(join_sql([o.compile(params) for o in self.order_by])))
        return sql.SQL("{} OVER ({})").format(call, join_sql(spec, " "))


def func(name: str, *args: Any) -> Func:
    """A call of function ``name``; non-expression arguments become parameters."""
    return Func(name, tuple(to_expr(arg) for arg in args))


def count(expr: Expr | None = None) -> Func:
    """``count(*)`` or ``count(expr)``."""
    return Func("count", (Star() if expr is None else expr,))


def now() -> Func:
    """``now()``: the start time of the current transaction."""
    return Func("now")


def lower(expr: Any) -> Func:
    """``lower(expr)``."""
    return func("lower", expr)


def coalesce(*args: Any) -> Func:
    """``coalesce(a, b, ...)``."""
    return func("coalesce", *args)
