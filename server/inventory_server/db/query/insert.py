"""INSERT statements: multi-row VALUES or a SELECT, ON CONFLICT (upsert), RETURNING."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, Literal

from psycopg import sql

from inventory_server.db.query.base import Node, Params, Statement, join_sql
from inventory_server.db.query.clauses import columns_of, compile_returning
from inventory_server.db.query.expressions import Column, Expr, to_expr
from inventory_server.db.query.tables import Table


def excluded(column: str) -> Column:
    """The proposed value of ``column`` inside ``ON CONFLICT DO UPDATE``."""
    return Column(column, "excluded")


def compile_assignments(assignments: tuple[tuple[str, Expr], ...], params: Params) -> sql.Composable:
    """``"a" = %s, "b" = "b" + %s``."""
    return join_sql(
        [sql.SQL("{} = {}").format(sql.Identifier(name), expr.compile(params)) for name, expr in assignments]
    )


def assignments_of(values: Mapping[str, Any]) -> tuple[tuple[str, Expr], ...]:
    """Column assignments; non-expression values become parameters."""
    return tuple((name, to_expr(value)) for name, value in values.items())


@dataclass(frozen=True, slots=True)
class OnConflict(Node):
    """``ON CONFLICT [(target)] DO NOTHING`` or ``ON CONFLICT (target) DO UPDATE SET ...`` (an upsert).

    Targets that are not plain columns (``lower(sku)``) are parenthesised, as
    PostgreSQL requires for index expressions.

    >>> from inventory_server.db.query import col, func
    >>> OnConflict((func("lower", col("sku")),), action="NOTHING").as_string()
    'ON CONFLICT ((lower("sku"))) DO NOTHING'
    >>> OnConflict((col("sku"),), "UPDATE", (("name", excluded("name")),)).as_string()
    'ON CONFLICT ("sku") DO UPDATE SET "name" = "excluded"."name"'
    """

    target: tuple[Expr, ...] = ()
    action: Literal["NOTHING", "UPDATE"] = "NOTHING"
    assignments: tuple[tuple[str, Expr], ...] = ()

    def __post_init__(self) -> None:
        if self.action == "UPDATE" and not self.target:
            raise ValueError("ON CONFLICT DO UPDATE needs a conflict target")
        if self.action == "UPDATE" and not self.assignments:
            raise ValueError("ON CONFLICT DO UPDATE needs at least one assignment")

    def compile(self, params: Params) -> sql.Composable:
        parts: list[sql.Composable] = [sql.SQL("ON CONFLICT")]
        if self.target:
            targets = [
                t.compile(params) if isinstance(t, Column) else sql.SQL("({})").format(t.compile(params))
                for t in self.target
            ]
            parts.append(sql.SQL(" ({})").format(join_sql(targets)))
        if self.action == "NOTHING":
            parts.append(sql.SQL(" DO NOTHING"))
            return sql.Composed(parts)
        parts.append(sql.SQL(" DO UPDATE SET {}").format(compile_assignments(self.assignments, params)))
        return sql.Composed(parts)

    def as_string(self) -> str:
        return self.compile(Params()).as_string(None)


@dataclass(frozen=True, slots=True)
class Insert(Statement):
    """An INSERT.

    >>> q = (insert("products").values({"sku": "A-1", "name": "Bolt"}, {"sku": "B-2", "name": "Nut"})
    ...      .on_conflict_do_nothing().returning("id"))
    >>> q.as_string()
    'INSERT INTO "products" ("sku", "name") VALUES (%s, %s), (%s, %s) ON CONFLICT DO NOTHING RETURNING "id"'
    >>> q.build()[1]
    ['A-1', 'Bolt', 'B-2', 'Nut']
    """

    table: Table
    columns: tuple[str, ...] = ()
    rows: tuple[tuple[Expr, ...], ...] = ()
    source: Statement | None = None
    conflict: OnConflict | None = None
    returning_: tuple[Expr, ...] = ()

    def values(self, *rows: Mapping[str, Any]) -> Insert:
        """Add rows; every row must name the same columns (the first row sets them)."""
        columns = self.columns or (tuple(rows[0]) if rows else ())
        new_rows: list[tuple[Expr, ...]] = []
        for row in rows:
            if tuple(row) != columns and set(row) != set(columns):
                raise ValueError(f"every row must have the columns {columns}, got {tuple(row)}")
            new_rows.append(tuple(to_expr(row[c]) for c in columns))
        return replace(self, columns=columns, rows=self.rows + tuple(new_rows))

    def from_select(self, query: Statement, columns: Sequence[str]) -> Insert:
        """``INSERT INTO t (columns) SELECT ...``."""
        return replace(self, columns=tuple(columns), source=query)

    def on_conflict_do_nothing(self, *target: Expr | str) -> Insert:
        return replace(self, conflict=OnConflict(columns_of(target)))

    def on_conflict_do_update(self, target: Sequence[Expr | str], set: Mapping[str, Any]) -> Insert:
        """``ON CONFLICT (target) DO UPDATE SET ...``; use :func:`excluded` for the proposed values."""
        return replace(self, conflict=OnConflict(columns_of(target), "UPDATE", assignments_of(set)))

    def returning(self, *columns: Expr | str) -> Insert:
        return replace(self, returning_=self.returning_ + columns_of(columns))

    def compile(self, params: Params) -> sql.Composable:
        if (self.source is None) == (not self.rows):
            raise ValueError("an INSERT needs either VALUES rows or a SELECT")
        parts: list[sql.Composable] = [
            sql.SQL("INSERT INTO {} ({})").format(
                self.table.compile(params), join_sql([sql.Identifier(c) for c in self.columns])
            )
        ]
        if self.source is not None:
            parts.append(sql.SQL(" {}").format(self.source.compile(params)))
        else:
            rows = [sql.SQL("({})").format(join_sql([v.compile(params) for v in row])) for row in self.rows]
            parts.append(sql.SQL(" VALUES {}").format(join_sql(rows)))
        if self.conflict is not None:
            parts.append(sql.SQL(" {}").format(self.conflict.compile(params)))
        parts.append(compile_returning(self.returning_, params))
        return sql.Composed(parts)


def insert(into: Table | str) -> Insert:
    """Start an INSERT into a table."""
    return Insert(Table(into) if isinstance(into, str) else into)
