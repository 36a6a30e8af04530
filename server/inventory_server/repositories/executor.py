"""What every repository shares: running built statements on its connection, instrumented.

Each public repository method runs inside ``with self.operation("get"):``, which

* turns integrity and data errors into domain errors (``repositories.errors``),
* records the call's latency and statement count as "<prefix>.<name>".
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from types import TracebackType
from typing import Any

import psycopg
from psycopg.rows import dict_row

from inventory_server.db.query import Statement
from inventory_server.repositories.errors import UNIQUE_FIELDS, translate_db_error
from inventory_server.repositories.instrumentation import QueryStats, query_stats

Row = dict[str, Any]


class StatementExecutor:
    """Executes built statements on a connection it was handed; never opens, commits or closes one.

    The base of every repository. (Not a transaction runner: transactions are
    the unit of work's business.)
    """

    stats_prefix: str = "repository"
    unique_fields: Mapping[str, tuple[str, str]] = UNIQUE_FIELDS

    def __init__(self, conn: psycopg.AsyncConnection[Any], *, stats: QueryStats | None = None) -> None:
        self.conn = conn
        self.stats = stats if stats is not None else query_stats()
        self.queries = 0

    def operation(self, name: str) -> Operation:
        """Context for one repository call: error translation plus timing."""
        return Operation(self, f"{self.stats_prefix}.{name}")

    async def fetch_all(self, statement: Statement) -> list[Row]:
        query, params = statement.build()
        self.queries += 1
        async with self.conn.cursor(row_factory=dict_row) as cursor:
            await cursor.execute(query, params)
            return await cursor.fetchall()

    async def fetch_one(self, statement: Statement) -> Row | None:
        query, params = statement.build()
        self.queries += 1
        async with self.conn.cursor(row_factory=dict_row) as cursor:
            await cursor.execute(query, params)
            return await cursor.fetchone()

    async def execute(self, statement: Statement) -> int:
        """Run a statement that returns no rows; the number of rows it touched."""
        query, params = statement.build()
        self.queries += 1
        async with self.conn.cursor() as cursor:
            await cursor.execute(query, params)
            return cursor.rowcount


class Operation:
    """``with executor.operation("get"):`` — see the module docstring."""

    __slots__ = ("_executor", "_name", "_queries_before", "_started")

    def __init__(self, executor: StatementExecutor, name: str) -> None:
        self._executor = executor
        self._name = name
        self._started = 0.0
        self._queries_before = 0

    def __enter__(self) -> Operation:
        self._started = time.perf_counter()
        self._queries_before = self._executor.queries
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        executor = self._executor
        executor.stats.record(
            self._name,
            time.perf_counter() - self._started,
            queries=executor.queries - self._queries_before,
            error=exc is not None,
        )
        if isinstance(exc, psycopg.Error):
            error = translate_db_error(exc, executor.unique_fields)
            if error is not None:
                raise error from exc
