"""Clauses shared by several statements: WITH, row locks and RETURNING."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from psycopg import sql

from inventory_server.db.query.base import Node, Params, Statement, join_sql
from inventory_server.db.query.expressions import Column, Expr

LockStrength = Literal["UPDATE", "NO KEY UPDATE", "SHARE", "KEY SHARE"]
LockWait = Literal["NOWAIT", "SKIP LOCKED"]


@dataclass(frozen=True, slots=True)
class CommonTable(Node):
    """One entry of a WITH clause: ``"name" ("a", "b") AS (query)``.

    >>> from inventory_server.db.query import select
    >>> CommonTable("recent", select("id").from_("t"), ("product_id",)).as_string()
    '"recent" ("product_id") AS (SELECT "id" FROM "t")'
    """

    name: str
    query: Statement
    columns: tuple[str, ...] = ()

    def compile(self, params: Params) -> sql.Composable:
        parts: list[sql.Composable] = [sql.Identifier(self.name)]
        if self.columns:
            parts.append(sql.SQL(" ({})").format(join_sql([sql.Identifier(c) for c in self.columns])))
        parts.append(sql.SQL(" AS ({})").format(self.query.compile(params)))
        return sql.Composed(parts)

    def as_string(self) -> str:
        return self.compile(Params()).as_string(None)


def compile_with(ctes: tuple[CommonTable, ...], recursive: bool, params: Params) -> sql.Composable:
    """``WITH [RECURSIVE] a AS (...), b AS (...) `` or nothing."""
    if not ctes:
        return sql.SQL("")
    keyword = "WITH RECURSIVE " if recursive else "WITH "
    return sql.SQL("{}{} ").format(sql.SQL(keyword), join_sql([c.compile(params) for c in ctes]))


@dataclass(frozen=True, slots=True)
class Lock(Node):
    """A row-locking clause: ``FOR UPDATE``, ``FOR NO KEY UPDATE``, ``FOR SHARE`` or ``FOR KEY SHARE``.

    >>> Lock("NO KEY UPDATE", ("s",), "SKIP LOCKED").as_string()
    'FOR NO KEY UPDATE OF "s" SKIP LOCKED'
    >>> Lock("KEY SHARE").as_string()
    'FOR KEY SHARE'
    """

    strength: LockStrength = "UPDATE"
    of: tuple[str, ...] = ()
    wait: LockWait | None = None

    def compile(self, params: Params) -> sql.Composable:
        parts: list[sql.Composable] = [sql.SQL("FOR " + self.strength)]
        if self.of:
            parts.append(sql.SQL(" OF {}").format(join_sql([sql.Identifier(t) for t in self.of])))
        if self.wait is not None:
            parts.append(sql.SQL(" " + self.wait))
        return sql.Composed(parts)

    def as_string(self) -> str:
        return self.compile(Params()).as_string(None)


def columns_of(items: Sequence[Expr | str]) -> tuple[Expr, ...]:
    """Expressions from a mix of expressions and plain column names."""
    return tuple(Column(item) if isinstance(item, str) else item for item in items)


def compile_returning(returning: tuple[Expr, ...], params: Params) -> sql.Composable:
    """`` RETURNING a, b`` or nothing."""
    if not returning:
        return sql.SQL("")
    return sql.SQL(" RETURNING {}").format(join_sql([r.compile(params) for r in returning]))
