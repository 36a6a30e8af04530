"""Reads the database's own figures for GetStats: ``pg_stat_database``, versions, schema version.

Two short read-only statements on a pooled connection (autocommit), bounded by
a small time budget so that Stats stays quick when the database is slow or
gone. When the health monitor already says the database is down, nothing is
tried. Any failure leaves the figures empty; it is never an error for Stats.

>>> database_figures_query().as_string()  # doctest: +NORMALIZE_WHITESPACE
'SELECT pg_database_size("datid") AS "size_bytes", "numbackends", "xact_commit", "xact_rollback",
 "deadlocks", "blks_hit", "blks_read", current_setting(%s) AS "server_version"
 FROM "pg_stat_database" WHERE "datname" = current_database()'
>>> schema_version_query().as_string()
'SELECT "version" FROM "schema_migrations" WHERE "success" = (TRUE) ORDER BY "version" DESC LIMIT %s'
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg import errors as pg_errors
from psycopg.rows import dict_row

from inventory_server.db.query import TRUE, Param, Select, Statement, col, func, select
from inventory_server.db.uow import TransactionRunner, UnitOfWork
from inventory_server.domain.errors import DomainError
from inventory_server.migrate.history import DEFAULT_TABLE
from inventory_server.services.stats.figures import DatabaseFigures, DatabaseReading

log = logging.getLogger(__name__)


def database_figures_query() -> Select:
    """One row of ``pg_stat_database`` for ``current_database()``, its size and the server version."""
    return (
        select(
            func("pg_database_size", col("datid")).as_("size_bytes"),
            "numbackends",
            "xact_commit",
            "xact_rollback",
            "deadlocks",
            "blks_hit",
            "blks_read",
            func("current_setting", Param("server_version")).as_("server_version"),
        )
        .from_("pg_stat_database")
        .where(col("datname").eq(func("current_database")))
    )


def schema_version_query(table: str = DEFAULT_TABLE) -> Select:
    """The newest migration version that succeeded."""
    return (
        select("version").from_(table).where(col("success").eq(TRUE)).order_by(col("version").desc()).limit(1)
    )


@dataclass(frozen=True, slots=True)
class _Row:
    figures: DatabaseFigures | None
    schema_version: str
    server_version: str


async def _fetch_one(conn: psycopg.AsyncConnection[Any], statement: Statement) -> dict[str, Any] | None:
    query, params = statement.build()
    async with conn.cursor(row_factory=dict_row) as cursor:
        await cursor.execute(query, params)
        return await cursor.fetchone()


async def _read(uow: UnitOfWork) -> _Row:
    row = await _fetch_one(uow.conn, database_figures_query())
    figures = None
    server_version = ""
    if row is not None:
        figures = DatabaseFigures(
            size_bytes=int(row["size_bytes"] or 0),
            connections=int(row["numbackends"] or 0),
            commits=int(row["xact_commit"] or 0),
            rollbacks=int(row["xact_rollback"] or 0),
            deadlocks=int(row["deadlocks"] or 0),
            blocks_hit=int(row["blks_hit"] or 0),
            blocks_read=int(row["blks_read"] or 0),
        )
        server_version = str(row["server_version"] or "")
    try:
        version_row = await _fetch_one(uow.conn, schema_version_query())
    except pg_errors.UndefinedTable:  # a database that was never migrated
        version_row = None
    schema_version = "" if version_row is None else str(version_row["version"])
    return _Row(figures, schema_version, server_version)


class DatabaseReader:
    """Reads the database figures through the runner; remembers the versions it last saw."""

    def __init__(
        self, runner: TransactionRunner, *, is_serving: Callable[[], bool], budget: float = 2.0
    ) -> None:
        self.runner = runner
        self.is_serving = is_serving
        self.budget = budget
        self._schema_version = ""
        self._server_version = ""

    async def read(self) -> DatabaseReading:
        """The figures now, or empty figures (and the last known versions) when the database won't say."""
        figures = None
        if self.is_serving():
            try:
                async with asyncio.timeout(self.budget):
                    row = await self.runner.run(_read, read_only=True, retryable=False)
            except (TimeoutError, DomainError, psycopg.Error) as exc:
                log.info("database figures unavailable for Stats: %s", type(exc).__name__)
            else:
                figures = row.figures
                self._schema_version = row.schema_version
                self._server_version = row.server_version or self._server_version
        return DatabaseReading(figures, self._schema_version, self._server_version)
