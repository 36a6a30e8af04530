"""Conditions: expressions of type boolean (WHERE, JOIN ... ON, aggregate FILTER, guards).

Conditions combine with ``&`` (AND), ``|`` (OR) and ``~`` (NOT); ``and_`` and
``or_`` skip ``None`` entries, so optional filters can be passed as they are.
The operator methods that make most conditions (``col("a").eq(1)``) live on
:class:`~inventory_server.db.query.expressions.Expr`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import ClassVar, Literal

from psycopg import sql

from inventory_server.db.query.base import Params, Statement, join_sql
from inventory_server.db.query.expressions import ComparisonOp, Expr, Keyword, operand


def escape_like(text: str) -> str:
    r"""``text`` with ``\``, ``%`` and ``_`` escaped, for a LIKE pattern that matches it literally.

    >>> escape_like("50%_off")
    '50\\%\\_off'
    """
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


class Condition(Expr):
    """An expression of type boolean; combine with ``&`` (AND), ``|`` (OR) and ``~`` (NOT).

    >>> from inventory_server.db.query import col
    >>> (col("a").eq(1) & (col("b").eq(2) | ~col("c").is_null())).as_string()
    '"a" = %s AND ("b" = %s OR NOT ("c" IS NULL))'
    """

    __slots__ = ()

    compound: ClassVar[bool] = True

    def __and__(self, other: Condition) -> Condition:
        return and_(self, other)

    def __or__(self, other: Condition) -> Condition:
        return or_(self, other)

    def __invert__(self) -> Condition:
        return Not(self)


@dataclass(frozen=True, slots=True)
class Compare(Condition):
    """``left op right`` for an operator from a fixed list.

    >>> from inventory_server.db.query import col
    >>> col("attributes").contains({"color": "red"}).as_string()
    '"attributes" @> %s'
    """

    left: Expr
    op: ComparisonOp
    right: Expr

    def compile(self, params: Params) -> sql.Composable:
        left, right = operand(self.left, params), operand(self.right, params)
        return sql.SQL("{} {} {}").format(left, sql.SQL(self.op), right)


@dataclass(frozen=True, slots=True)
class BoolOp(Condition):
    """``a AND b AND ...`` or ``a OR b OR ...``; nested groups are parenthesised.

    An empty AND is ``TRUE`` and an empty OR is ``FALSE``.

    >>> from inventory_server.db.query import col
    >>> or_(col("a").eq(1), col("a").eq(2)).as_string()
    '"a" = %s OR "a" = %s'
    """

    op: Literal["AND", "OR"]
    items: tuple[Condition, ...]

    def compile(self, params: Params) -> sql.Composable:
        if not self.items:
            return sql.SQL("TRUE" if self.op == "AND" else "FALSE")
        parts: list[sql.Composable] = []
        for item in self.items:
            compiled = item.compile(params)
            parts.append(sql.SQL("({})").format(compiled) if isinstance(item, BoolOp) else compiled)
        return join_sql(parts, f" {self.op} ")


def and_(*conditions: Condition | None) -> Condition:
    """All of ``conditions`` (None entries are skipped; nested ANDs are flattened)."""
    return _combine("AND", conditions)


def or_(*conditions: Condition | None) -> Condition:
    """Any of ``conditions`` (None entries are skipped; nested ORs are flattened)."""
    return _combine("OR", conditions)


def and_where(existing: Condition | None, more: Iterable[Condition | None]) -> Condition | None:
    """``existing`` AND every non-None condition of ``more``; ``existing`` itself when there is none."""
    added = [c for c in more if c is not None]
    if not added:
        return existing
    return and_(existing, *added)


def _combine(op: Literal["AND", "OR"], conditions: Iterable[Condition | None]) -> Condition:
    items: list[Condition] = []
    for condition in conditions:
        if condition is None:
            continue
        if isinstance(condition, BoolOp) and condition.op == op:
            items.extend(condition.items)
        else:
            items.append(condition)
    if len(items) == 1:
        return items[0]
    return BoolOp(op, tuple(items))


@dataclass(frozen=True, slots=True)
class Not(Condition):
    """``NOT (condition)``.

    >>> from inventory_server.db.query import col
    >>> not_(col("a").eq(1)).as_string()
    'NOT ("a" = %s)'
    """

    item: Condition

    def compile(self, params: Params) -> sql.Composable:
        return sql.SQL("NOT ({})").format(self.item.compile(params))


def not_(condition: Condition) -> Condition:
    return Not(condition)


@dataclass(frozen=True, slots=True)
class Truth(Condition):
    """A boolean-valued expression (a bool column, a function) used as a condition.

    >>> from inventory_server.db.query import col
    >>> Truth(col("active")).as_string()
    '"active"'
    """

    expr: Expr

    def compile(self, params: Params) -> sql.Composable:
        return self.expr.compile(params)


TRUE = Truth(Keyword("TRUE"))
FALSE = Truth(Keyword("FALSE"))


@dataclass(frozen=True, slots=True)
class InList(Condition):
    """``expr IN (%s, ...)``; an empty list is ``FALSE``.

    >>> from inventory_server.db.query import col
    >>> col("a").in_([1, 2]).as_string()
    '"a" IN (%s, %s)'
    >>> col("a").in_([]).as_string()
    'FALSE'
    """

    expr: Expr
    values: tuple[Expr, ...]

    def compile(self, params: Params) -> sql.Composable:
        if not self.values:
            return sql.SQL("FALSE")
        values = join_sql([value.compile(params) for value in self.values])
        return sql.SQL("{} IN ({})").format(self.expr.compile(params), values)


@dataclass(frozen=True, slots=True)
class InSubquery(Condition):
    """``expr IN (SELECT ...)``.

    >>> from inventory_server.db.query import col, select
    >>> col("id").in_(select(col("product_id")).from_("stock_levels")).as_string()
    '"id" IN (SELECT "product_id" FROM "stock_levels")'
    """

    expr: Expr
    query: Statement

    def compile(self, params: Params) -> sql.Composable:
        return sql.SQL("{} IN ({})").format(self.expr.compile(params), self.query.compile(params))


@dataclass(frozen=True, slots=True)
class AnyOf(Condition):
    """``expr = ANY(%s)`` with one array parameter (one statement shape for any list length).

    >>> from inventory_server.db.query import col
    >>> col("id").eq_any([1, 2, 3]).as_string()
    '"id" = ANY(%s)'
    """

    expr: Expr
    values: Expr

    def compile(self, params: Params) -> sql.Composable:
        return sql.SQL("{} = ANY({})").format(self.expr.compile(params), self.values.compile(params))


@dataclass(frozen=True, slots=True)
class IsNull(Condition):
    """``expr IS NULL`` / ``expr IS NOT NULL``.

    >>> from inventory_server.db.query import col
    >>> col("delete_time").is_null().as_string()
    '"delete_time" IS NULL'
    """

    expr: Expr
    negated: bool = False

    def compile(self, params: Params) -> sql.Composable:
        keyword = "IS NOT NULL" if self.negated else "IS NULL"
        return sql.SQL("{} {}").format(operand(self.expr, params), sql.SQL(keyword))


@dataclass(frozen=True, slots=True)
class Exists(Condition):
    """``EXISTS (SELECT ...)``.

    >>> from inventory_server.db.query import Param, select
    >>> exists(select(Param(1)).from_("t")).as_string()
    'EXISTS (SELECT %s FROM "t")'
    """

    query: Statement

    def compile(self, params: Params) -> sql.Composable:
        return sql.SQL("EXISTS ({})").format(self.query.compile(params))


def exists(query: Statement) -> Condition:
    return Exists(query)
