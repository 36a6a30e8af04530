"""Reads the database's own figures for GetStats, through the unit of work's ``database_stats``.

One short read-only unit (autocommit), bounded by a small time budget so that
Stats stays quick when the database is slow or gone. When the health monitor
already says the database is down, nothing is tried. Any failure leaves the
figures empty; it is never an error for Stats.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass

import psycopg

from inventory_server.domain.errors import DomainError
from inventory_server.repositories.database_stats import DatabaseFigures
from inventory_server.services.stats.figures import DatabaseReading
from inventory_server.services.unit_of_work import Transactor, UnitOfWork

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class _Read:
    figures: DatabaseFigures | None
    schema_version: str
    server_version: str


async def _read(uow: UnitOfWork) -> _Read:
    figures, server_version = await uow.database_stats.figures()
    return _Read(figures, await uow.database_stats.schema_version(), server_version)


class DatabaseReader:
    """Reads the database figures in a read unit; remembers the versions it last saw."""

    def __init__(
        self, transactor: Transactor[UnitOfWork], *, is_serving: Callable[[], bool], budget: float = 2.0
    ) -> None:
        self.transactor = transactor
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
                    row = await self.transactor.read(_read, retryable=False)
            except (TimeoutError, DomainError, psycopg.Error) as exc:
                log.info("database figures unavailable for Stats: %s", type(exc).__name__)
            else:
                figures = row.figures
                self._schema_version = row.schema_version
                self._server_version = row.server_version or self._server_version
        return DatabaseReading(figures, self._schema_version, self._server_version)
