"""Value expressions: the parts of a query that stand for a value.

Every class renders through ``psycopg.sql``: identifiers are quoted with
``sql.Identifier`` and values become ``%s`` placeholders. Operators are
methods (``col("sku").eq("A-1")``); the conditions they return live in
:mod:`inventory_server.db.query.conditions`.

The two modules refer to each other (an expression's ``eq`` makes a
condition; a condition is an expression). ``conditions`` imports names from
here, so this module imports ``conditions`` as a module at its very end, once
everything it needs is defined, and looks its classes up when a method runs.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from psycopg import sql
from psycopg.types.json import Jsonb

from inventory_server.db.query.base import Node, Params, Statement, join_sql, safe_type_name

if TYPE_CHECKING:
    from inventory_server.db.query.conditions import Condition

ComparisonOp = Literal["=", "<>", "<", "<=", ">", ">=", "@>", "?", "ILIKE", "IS DISTINCT FROM"]
ArithmeticOp = Literal["+", "-", "||"]
Direction = Literal["ASC", "DESC"]
Nulls = Literal["FIRST", "LAST"]


class Expr(Node):
    """Base of everything that has a value; gives the operator methods.

    >>> col("qty").ge(3).as_string()
    '"qty" >= %s'
    """

    __slots__ = ()

    # Whether this expression is parenthesised when it is an operand of an operator.
    compound: ClassVar[bool] = False

    def as_string(self) -> str:
        """The SQL of this expression alone, for tests and docstrings."""
        return self.compile(Params()).as_string(None)

    # comparisons -----------------------------------------------------------
    def eq(self, other: Any) -> Condition:
        """``self = other``; ``eq(None)`` means ``IS NULL``."""
        if other is None:
            return conditions.IsNull(self)
        return conditions.Compare(self, "=", to_expr(other))

    def ne(self, other: Any) -> Condition:
        """``self <> other``; ``ne(None)`` means ``IS NOT NULL``."""
        if other is None:
            return conditions.IsNull(self, negated=True)
        return conditions.Compare(self, "<>", to_expr(other))

    def lt(self, other: Any) -> Condition:
        return conditions.Compare(self, "<", to_expr(other))

    def le(self, other: Any) -> Condition:
        return conditions.Compare(self, "<=", to_expr(other))

    def gt(self, other: Any) -> Condition:
        return conditions.Compare(self, ">", to_expr(other))

    def ge(self, other: Any) -> Condition:
        return conditions.Compare(self, ">=", to_expr(other))

    def compare(self, op: ComparisonOp, other: Any) -> Condition:
        """Any operator of :data:`ComparisonOp` chosen at run time (from a fixed table)."""
        return conditions.Compare(self, op, to_expr(other))

    def is_distinct_from(self, other: Any) -> Condition:
        return conditions.Compare(self, "IS DISTINCT FROM", to_expr(other))

    def in_(self, values: Iterable[Any] | Statement) -> Condition:
        """``self IN (%s, ...)``, or ``self IN (SELECT ...)`` for a subquery."""
        if isinstance(values, Statement):
            return conditions.InSubquery(self, values)
        return conditions.InList(self, tuple(to_expr(v) for v in values))

    def eq_any(self, values: Sequence[Any]) -> Condition:
        """``self = ANY(%s)`` with the whole list as one array parameter."""
        return conditions.AnyOf(self, Param(list(values)))

    def is_null(self) -> Condition:
        return conditions.IsNull(self)

    def is_not_null(self) -> Condition:
        return conditions.IsNull(self, negated=True)

    def ilike(self, pattern: Any) -> Condition:
        """Case-insensitive match; escape ``%``/``_`` in user text with ``escape_like``."""
        return conditions.Compare(self, "ILIKE", to_expr(pattern))

    def contains(self, value: Any) -> Condition:
        """JSON containment ``self @> %s``; dicts and lists are sent as jsonb."""
        if isinstance(value, Mapping | list):
            value = Jsonb(value)
        return conditions.Compare(self, "@>", to_expr(value))

    def has_key(self, key: str) -> Condition:
        """JSON key existence ``self ? %s``."""
        return conditions.Compare(self, "?", Param(key))

    # ordering, naming, arithmetic --------------------------------------------
    def asc(self, nulls: Nulls | None = None) -> OrderItem:
        return OrderItem(self, "ASC", nulls)

    def desc(self, nulls: Nulls | None = None) -> OrderItem:
        return OrderItem(self, "DESC", nulls)

    def as_(self, alias: str) -> Aliased:
        """``self AS "alias"`` in a select list."""
        return Aliased(self, alias)

    def __add__(self, other: Any) -> Arithmetic:
        return Arithmetic(self, "+", to_expr(other))

    def __sub__(self, other: Any) -> Arithmetic:
        return Arithmetic(self, "-", to_expr(other))

    def concat(self, other: Any) -> Arithmetic:
        return Arithmetic(self, "||", to_expr(other))


def to_expr(value: Any) -> Expr:
    """An expression as is, a statement as a parenthesised subquery, anything else as a parameter."""
    if isinstance(value, Expr):
        return value
    if isinstance(value, Statement):
        return Subquery(value)
    return Param(value)


def operand(expr: Expr, params: Params) -> sql.Composable:
    """``expr`` compiled as the operand of an operator: parenthesised when it is itself compound."""
    compiled = expr.compile(params)
    return sql.SQL("({})").format(compiled) if expr.compound else compiled


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
    """``*``, as in ``count(*)``.

    >>> Star().as_string()
    '*'
    """

    def compile(self, params: Params) -> sql.Composable:
        return sql.SQL("*")


@dataclass(frozen=True, slots=True)
class Keyword(Expr):
    """One of a few fixed SQL words usable as a value.

    >>> NULL.as_string()
    'NULL'
    """

    word: Literal["NULL", "TRUE", "FALSE"]

    def compile(self, params: Params) -> sql.Composable:
        return sql.SQL(self.word)


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

    >>> Cast(Param("x"), "uuid[]").as_string()
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
    >>> ((col("on_hand") - col("reserved")) - 1).as_string()
    '("on_hand" - "reserved") - %s'
    """

    compound: ClassVar[bool] = True

    left: Expr
    op: ArithmeticOp
    right: Expr

    def compile(self, params: Params) -> sql.Composable:
        left, right = operand(self.left, params), operand(self.right, params)
        return sql.SQL("{} {} {}").format(left, sql.SQL(self.op), right)


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

    >>> from inventory_server.db.query import select
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


# Last, so that ``conditions`` finds every name it imports from here (see the module docstring).
from inventory_server.db.query import conditions  # noqa: E402
