"""Expressions and conditions: the parts of a query that stand for values and truths.

Every class renders through ``psycopg.sql``: identifiers are quoted with
``sql.Identifier`` and values become ``%s`` placeholders. Operators are
methods (``col("sku").eq("A-1")``); conditions combine with ``&``, ``|`` and
``~``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from psycopg import sql
from psycopg.types.json import Jsonb

from inventory_server.db.query.base import Node, Params, Statement, join_sql, safe_type_name

ComparisonOp = Literal["=", "<>", "<", "<=", ">", ">=", "@>", "<@", "?", "LIKE", "ILIKE", "IS DISTINCT FROM"]
ArithmeticOp = Literal["+", "-", "*", "/", "||"]
Direction = Literal["ASC", "DESC"]
Nulls = Literal["FIRST", "LAST"]


class Expr(Node):
    """Base of everything that has a value; gives the operator methods.

    >>> col("qty").ge(3).as_string()
    '"qty" >= %s'
    """

    __slots__ = ()

    def as_string(self) -> str:
        """The SQL of this expression alone, for tests and docstrings."""
        return self.compile(Params()).as_string(None)

    # comparisons -----------------------------------------------------------
    def eq(self, other: Any) -> Condition:
        """``self = other``; ``eq(None)`` means ``IS NULL``."""
        return IsNull(self) if other is None else Compare(self, "=", to_expr(other))

    def ne(self, other: Any) -> Condition:
        """``self <> other``; ``ne(None)`` means ``IS NOT NULL``."""
        return IsNull(self, negated=True) if other is None else Compare(self, "<>", to_expr(other))

    def lt(self, other: Any) -> Condition:
        return Compare(self, "<", to_expr(other))

    def le(self, other: Any) -> Condition:
        return Compare(self, "<=", to_expr(other))

    def gt(self, other: Any) -> Condition:
        return Compare(self, ">", to_expr(other))

    def ge(self, other: Any) -> Condition:
        return Compare(self, ">=", to_expr(other))

    def compare(self, op: ComparisonOp, other: Any) -> Condition:
        """Any operator of :data:`ComparisonOp` chosen at run time (from a fixed table)."""
        return Compare(self, op, to_expr(other))

    def is_distinct_from(self, other: Any) -> Condition:
        return Compare(self, "IS DISTINCT FROM", to_expr(other))

    def in_(self, values: Iterable[Any] | Statement) -> Condition:
        """``self IN (%s, ...)``, or ``self IN (SELECT ...)`` for a subquery."""
        if isinstance(values, Statement):
            return InSubquery(self, values)
        return InList(self, tuple(to_expr(v) for v in values))

    def not_in(self, values: Iterable[Any] | Statement) -> Condition:
        if isinstance(values, Statement):
            return InSubquery(self, values, negated=True)
        return InList(self, tuple(to_expr(v) for v in values), negated=True)

    def eq_any(self, values: Sequence[Any]) -> Condition:
        """``self = ANY(%s)`` with the whole list as one array parameter."""
        return AnyOf(self, Param(list(values)))

    def is_null(self) -> Condition:
        return IsNull(self)

    def is_not_null(self) -> Condition:
        return IsNull(self, negated=True)

    def between(self, low: Any, high: Any) -> Condition:
        return Between(self, to_expr(low), to_expr(high))

    def like(self, pattern: Any) -> Condition:
        return Compare(self, "LIKE", to_expr(pattern))

    def ilike(self, pattern: Any) -> Condition:
        """Case-insensitive match; escape ``%``/``_`` in user text with :func:`escape_like`."""
        return Compare(self, "ILIKE", to_expr(pattern))

    def contains(self, value: Any) -> Condition:
        """JSON containment ``self @> %s``; dicts and lists are sent as jsonb."""
        if isinstance(value, Mapping | list):
            value = Jsonb(value)
        return Compare(self, "@>", to_expr(value))

    def has_key(self, key: str) -> Condition:
        """JSON key existence ``self ? %s``."""
        return Compare(self, "?", Param(key))

    # ordering, naming, casting, arithmetic ---------------------------------
    def asc(self, nulls: Nulls | None = None) -> OrderItem:
        return OrderItem(self, "ASC", nulls)

    def desc(self, nulls: Nulls | None = None) -> OrderItem:
        return OrderItem(self, "DESC", nulls)

    def as_(self, alias: str) -> Aliased:
        """``self AS "alias"`` in a select list."""
        return Aliased(self, alias)

    def cast(self, type_name: str) -> Cast:
        return Cast(self, type_name)

    def __add__(self, other: Any) -> Arithmetic:
        return Arithmetic(self, "+", to_expr(other))

    def __sub__(self, other: Any) -> Arithmetic:
        return Arithmetic(self, "-", to_expr(other))

    def __mul__(self, other: Any) -> Arithmetic:
        return Arithmetic(self, "*", to_expr(other))

    def concat(self, other: Any) -> Arithmetic:
        return Arithmetic(self, "||", to_expr(other))


def to_expr(value: Any) -> Expr:
    """An expression as is, a statement as a parenthesised subquery, anything else as a parameter."""
    if isinstance(value, Expr):
        return value
    if isinstance(value, Statement):
        return Subquery(value)
    return Param(value)


def escape_like(text: str) -> str:
    r"""``text`` with ``\``, ``%`` and ``_`` escaped, for a LIKE pattern that matches it literally.

    >>> escape_like("50%_off")
    '50\\%\\_off'
    """
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


@dataclass(frozen=True, slots=True)
class Param(Expr):
    """A bound value.

    >>> Param("A-1").as_string()
    '%s'
    """

    value: Any

    def compile(self, params: Params) -> sql.Composable:
        return params.add(self.value)


@dataclass(frozen=True, slots=True)
class Column(Expr):
    """A column, optionally qualified by a table name or alias.

    >>> Column("sku", "p").as_string()
    '"p"."sku"'
    """

    name: str
    qualifier: str | None = None

    def compile(self, params: Params) -> sql.Composable:
        if self.qualifier is None:
            return sql.Identifier(self.name)
        return sql.Identifier(self.qualifier, self.name)


def col(name: str, qualifier: str | None = None) -> Column:
    """Shorthand for :class:`Column`: ``col("sku")`` renders ``"sku"``."""
    return Column(name, qualifier)


@dataclass(frozen=True, slots=True)
class Star(Expr):
    """``*`` or ``"p".*``.

    >>> Star("p").as_string()
    '"p".*'
    """

    qualifier: str | None = None

    def compile(self, params: Params) -> sql.Composable:
        if self.qualifier is None:
            return sql.SQL("*")
        return sql.Composed([sql.Identifier(self.qualifier), sql.SQL(".*")])


@dataclass(frozen=True, slots=True)
class Keyword(Expr):
    """One of a few fixed SQL words usable as a value.

    >>> DEFAULT.as_string()
    'DEFAULT'
    """

    word: Literal["DEFAULT", "NULL", "TRUE", "FALSE", "CURRENT_TIMESTAMP"]

    def compile(self, params: Params) -> sql.Composable:
        return sql.SQL(self.word)


DEFAULT = Keyword("DEFAULT")
NULL = Keyword("NULL")


@dataclass(frozen=True, slots=True)
class Aliased(Expr):
    """An expression named in a select list.

    >>> col("sku").as_("code").as_string()
    '"sku" AS "code"'
    """

    expr: Expr
    alias: str

    def compile(self, params: Params) -> sql.Composable:
        return sql.SQL("{} AS {}").format(self.expr.compile(params), sql.Identifier(self.alias))


@dataclass(frozen=True, slots=True)
class Cast(Expr):
    """``CAST(expr AS type)``; the type name is checked against a strict pattern.

    >>> Param("x").cast("uuid[]").as_string()
    'CAST(%s AS uuid[])'
    """

    expr: Expr
    type_name: str

    def compile(self, params: Params) -> sql.Composable:
        return sql.SQL("CAST({} AS {})").format(self.expr.compile(params), safe_type_name(self.type_name))


@dataclass(frozen=True, slots=True)
class Arithmetic(Expr):
    """``left op right``; nested arithmetic is parenthesised.

    >>> (col("on_hand") + 5).as_string()
    '"on_hand" + %s'
    """

    left: Expr
    op: ArithmeticOp
    right: Expr

    def compile(self, params: Params) -> sql.Composable:
        return sql.SQL("{} {} {}").format(
            _operand(self.left, params), sql.SQL(self.op), _operand(self.right, params)
        )


def _operand(expr: Expr, params: Params) -> sql.Composable:
    compiled = expr.compile(params)
    if isinstance(expr, Arithmetic | Condition):
        return sql.SQL("({})").format(compiled)
    return compiled


@dataclass(frozen=True, slots=True)
class Row(Expr):
    """A row value ``(a, b, c)``, used in row comparisons.

    >>> Row((col("a"), col("b"))).gt(Row((Param(1), Param(2)))).as_string()
    '("a", "b") > (%s, %s)'
    """

    items: tuple[Expr, ...]

    def compile(self, params: Params) -> sql.Composable:
        return sql.SQL("({})").format(join_sql([item.compile(params) for item in self.items]))


@dataclass(frozen=True, slots=True)
class Subquery(Expr):
    """A statement used as a value: ``(SELECT ...)``.

    >>> from inventory_server.db.query.select import select
    >>> Subquery(select(col("id")).from_("t")).as_string()
    '(SELECT "id" FROM "t")'
    """

    query: Statement

    def compile(self, params: Params) -> sql.Composable:
        return sql.SQL("({})").format(self.query.compile(params))


@dataclass(frozen=True, slots=True)
class OrderItem(Node):
    """One ORDER BY key.

    >>> col("name").desc(nulls="LAST").as_string()
    '"name" DESC NULLS LAST'
    """

    expr: Expr
    direction: Direction = "ASC"
    nulls: Nulls | None = None

    def compile(self, params: Params) -> sql.Composable:
        parts: list[sql.Composable] = [self.expr.compile(params), sql.SQL(" " + self.direction)]
        if self.nulls is not None:
            parts.append(sql.SQL(" NULLS " + self.nulls))
        return sql.Composed(parts)

    def as_string(self) -> str:
        return self.compile(Params()).as_string(None)


def order_item(item: OrderItem | Expr | str) -> OrderItem:
    """An ORDER BY key from a key, an expression (ascending) or a column name (ascending)."""
    if isinstance(item, OrderItem):
        return item
    if isinstance(item, str):
        return OrderItem(Column(item))
    return OrderItem(item)


# conditions ------------------------------------------------------------------
class Condition(Expr):
    """An expression of type boolean; combine with ``&`` (AND), ``|`` (OR) and ``~`` (NOT).

    >>> (col("a").eq(1) & (col("b").eq(2) | ~col("c").is_null())).as_string()
    '"a" = %s AND ("b" = %s OR NOT ("c" IS NULL))'
    """

    __slots__ = ()

    def __and__(self, other: Condition) -> Condition:
        return and_(self, other)

    def __or__(self, other: Condition) -> Condition:
        return or_(self, other)

    def __invert__(self) -> Condition:
        return Not(self)


@dataclass(frozen=True, slots=True)
class Compare(Condition):
    """``left op right`` for an operator from a fixed list.

    >>> col("attributes").contains({"color": "red"}).as_string()
    '"attributes" @> %s'
    """

    left: Expr
    op: ComparisonOp
    right: Expr

    def compile(self, params: Params) -> sql.Composable:
        return sql.SQL("{} {} {}").format(
            _operand(self.left, params), sql.SQL(self.op), _operand(self.right, params)
        )


@dataclass(frozen=True, slots=True)
class BoolOp(Condition):
    """``a AND b AND ...`` or ``a OR b OR ...``; nested groups are parenthesised.

    An empty AND is ``TRUE`` and an empty OR is ``FALSE``.

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
    """``expr IN (%s, ...)``; an empty list is ``FALSE`` (``TRUE`` when negated).

    >>> col("a").in_([1, 2]).as_string()
    '"a" IN (%s, %s)'
    """

    expr: Expr
    values: tuple[Expr, ...]
    negated: bool = False

    def compile(self, params: Params) -> sql.Composable:
        if not self.values:
            return sql.SQL("TRUE" if self.negated else "FALSE")
        keyword = "NOT IN" if self.negated else "IN"
        values = join_sql([value.compile(params) for value in self.values])
        return sql.SQL("{} {} ({})").format(self.expr.compile(params), sql.SQL(keyword), values)


@dataclass(frozen=True, slots=True)
class InSubquery(Condition):
    """``expr IN (SELECT ...)``.

    >>> from inventory_server.db.query.select import select
    >>> col("id").in_(select(col("product_id")).from_("stock_levels")).as_string()
    '"id" IN (SELECT "product_id" FROM "stock_levels")'
    """

    expr: Expr
    query: Statement
    negated: bool = False

    def compile(self, params: Params) -> sql.Composable:
        keyword = sql.SQL("NOT IN" if self.negated else "IN")
        return sql.SQL("{} {} ({})").format(self.expr.compile(params), keyword, self.query.compile(params))


@dataclass(frozen=True, slots=True)
class AnyOf(Condition):
    """``expr = ANY(%s)`` with one array parameter (one statement shape for any list length).

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

    >>> col("delete_time").is_null().as_string()
    '"delete_time" IS NULL'
    """

    expr: Expr
    negated: bool = False

    def compile(self, params: Params) -> sql.Composable:
        keyword = "IS NOT NULL" if self.negated else "IS NULL"
        return sql.SQL("{} {}").format(_operand(self.expr, params), sql.SQL(keyword))


@dataclass(frozen=True, slots=True)
class Between(Condition):
    """``expr BETWEEN low AND high``.

    >>> col("qty").between(1, 9).as_string()
    '"qty" BETWEEN %s AND %s'
    """

    expr: Expr
    low: Expr
    high: Expr

    def compile(self, params: Params) -> sql.Composable:
        return sql.SQL("{} BETWEEN {} AND {}").format(
            _operand(self.expr, params), _operand(self.low, params), _operand(self.high, params)
        )


@dataclass(frozen=True, slots=True)
class Exists(Condition):
    """``EXISTS (SELECT ...)``.

    >>> from inventory_server.db.query.select import select
    >>> exists(select(Param(1)).from_("t")).as_string()
    'EXISTS (SELECT %s FROM "t")'
    """

    query: Statement

    def compile(self, params: Params) -> sql.Composable:
        return sql.SQL("EXISTS ({})").format(self.query.compile(params))


def exists(query: Statement) -> Condition:
    return Exists(query)
