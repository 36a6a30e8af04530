"""Things a query reads from: tables, aliased subqueries, and joins between them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from psycopg import sql

from inventory_server.db.query.base import Node, Params, Statement
from inventory_server.db.query.conditions import Condition
from inventory_server.db.query.expressions import Column

JoinKind = Literal["INNER", "LEFT"]


@dataclass(frozen=True, slots=True)
class Table(Node):
    """A table (or CTE) by name, optionally aliased.

    ``col`` gives columns qualified by the alias (or the table name).

    >>> p = Table("products", "p")
    >>> p.as_string(), p.col("sku").as_string()
    ('"products" AS "p"', '"p"."sku"')
    """

    name: str
    alias: str | None = None

    @property
    def ref(self) -> str:
        """The name columns are qualified with: the alias if any, else the table name."""
        return self.alias or self.name

    def col(self, name: str) -> Column:
        """A column of this table, qualified."""
        return Column(name, self.ref)

    def compile(self, params: Params) -> sql.Composable:
        name = sql.Identifier(self.name)
        if self.alias is None:
            return name
        return sql.SQL("{} AS {}").format(name, sql.Identifier(self.alias))

    def as_string(self) -> str:
        return self.compile(Params()).as_string(None)


def table(name: str, alias: str | None = None) -> Table:
    """Shorthand for :class:`Table`."""
    return Table(name, alias)


@dataclass(frozen=True, slots=True)
class AliasedQuery(Node):
    """A subquery in FROM: ``(SELECT ...) AS "s"``.

    >>> from inventory_server.db.query import select
    >>> AliasedQuery(select("id").from_("t"), "s").as_string()
    '(SELECT "id" FROM "t") AS "s"'
    """

    query: Statement
    alias: str

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
    """``INNER JOIN t ON cond`` or ``LEFT JOIN t ON cond``.

    >>> from inventory_server.db.query import col
    >>> s = Table("stock_levels", "s")
    >>> Join("LEFT", s, s.col("product_id").eq(col("id"))).as_string()
    'LEFT JOIN "stock_levels" AS "s" ON "s"."product_id" = "id"'
    """

    kind: JoinKind
    item: FromItem
    on: Condition

    def compile(self, params: Params) -> sql.Composable:
        return sql.SQL("{} JOIN {} ON {}").format(
            sql.SQL(self.kind), self.item.compile(params), self.on.compile(params)
        )

    def as_string(self) -> str:
        return self.compile(Params()).as_string(None)
