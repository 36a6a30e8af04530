"""Things a query reads from: tables, aliased subqueries, and joins between them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from psycopg import sql

from inventory_server.db.query.base import Node, Params, Statement
from inventory_server.db.query.expressions import Column, Condition, Star

JoinKind = Literal["INNER", "LEFT", "RIGHT", "FULL", "CROSS"]


@dataclass(frozen=True, slots=True)
class Table(Node):
    """A table (or CTE) by name, optionally schema-qualified and aliased.

    ``col`` gives columns qualified by the alias (or the table name).

    >>> p = Table("products").as_("p")
    >>> p.as_string(), p.col("sku").as_string()
    ('"products" AS "p"', '"p"."sku"')
    """

    name: str
    alias: str | None = None
    schema: str | None = None

    def as_(self, alias: str) -> Table:
        return Table(self.name, alias, self.schema)

    @property
    def ref(self) -> str:
        """The name columns are qualified with: the alias if any, else the table name."""
        return self.alias or self.name

    def col(self, name: str) -> Column:
        """A column of this table, qualified."""
        return Column(name, self.ref)

    def star(self) -> Star:
        return Star(self.ref)

    def compile(self, params: Params) -> sql.Composable:
        name = sql.Identifier(self.schema, self.name) if self.schema else sql.Identifier(self.name)
        if self.alias is None:
            return name
        return sql.SQL("{} AS {}").format(name, sql.Identifier(self.alias))

    def as_string(self) -> str:
        return self.compile(Params()).as_string(None)


def table(name: str, alias: str | None = None, *, schema: str | None = None) -> Table:
    """Shorthand for :class:`Table`."""
    return Table(name, alias, schema)


@dataclass(frozen=True, slots=True)
class AliasedQuery(Node):
    """A subquery in FROM: ``(SELECT ...) AS "s"``.

    >>> from inventory_server.db.query.select import select
    >>> AliasedQuery(select(col("id")).from_("t"), "s").as_string()
    '(SELECT "id" FROM "t") AS "s"'
    """

    query: Statement
    alias: str

    @property
    def ref(self) -> str:
        return self.alias

    def col(self, name: str) -> Column:
        return Column(name, self.alias)

    def compile(self, params: Params) -> sql.Composable:
        return sql.SQL("({}) AS {}").format(self.query.compile(params), sql.Identifier(self.alias))

    def as_string(self) -> str:
        return self.compile(Params()).as_string(None)


FromItem = Table | AliasedQuery


def from_item(item: FromItem | str) -> FromItem:
    """A FROM item from a table name or an existing item."""
    return Table(item) if isinstance(item, str) else item


@dataclass(frozen=True, slots=True)
class Join(Node):
    """``INNER JOIN t ON cond`` / ``LEFT JOIN`` / ``CROSS JOIN t``.

    >>> s = Table("stock_levels").as_("s")
    >>> Join("LEFT", s, s.col("product_id").eq(col("id"))).as_string()
    'LEFT JOIN "stock_levels" AS "s" ON "s"."product_id" = "id"'
    """

    kind: JoinKind
    item: FromItem
    on: Condition | None = None

    def __post_init__(self) -> None:
        if (self.kind == "CROSS") != (self.on is None):
            raise ValueError("CROSS JOIN takes no ON condition; every other join needs one")

    def compile(self, params: Params) -> sql.Composable:
        joined = sql.SQL("{} JOIN {}").format(sql.SQL(self.kind), self.item.compile(params))
        if self.on is None:
            return joined
        return sql.SQL("{} ON {}").format(joined, self.on.compile(params))

    def as_string(self) -> str:
        return self.compile(Params()).as_string(None)
