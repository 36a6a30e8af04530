"""The database's own figures for Stats: ``pg_stat_database``, the server version, the schema version.

Plain reads of catalogue views and the migration history; no entity, no
write. They are not instrumented as repository operations, so asking for
Stats never shows up in the query figures it reports.

>>> database_figures_query().as_string()  # doctest: +NORMALIZE_WHITESPACE
'SELECT pg_database_size("datid") AS "size_bytes", "numbackends", "xact_commit", "xact_rollback",
 "deadlocks", "blks_hit", "blks_read", current_setting(%s) AS "server_version"
 FROM "pg_stat_database" WHERE "datname" = current_database()'
>>> schema_version_query().as_string()
'SELECT "version" FROM "schema_migrations" WHERE "success" = (TRUE) ORDER BY "version" DESC LIMIT %s'
"""

from __future__ import annotations

from dataclasses import dataclass

from psycopg import errors as pg_errors

from inventory_server.db.query import TRUE, Param, Select, col, func, select
from inventory_server.repositories.executor import StatementExecutor

# The migration engine's history table (``migrate.history.DEFAULT_TABLE``); the
# migrate package stands apart, so the name is repeated here, not imported.
HISTORY_TABLE = "schema_migrations"


@dataclass(frozen=True, slots=True)
class DatabaseFigures:
    """``pg_stat_database`` for the service's own database."""

    size_bytes: int
    connections: int
    commits: int
    rollbacks: int
    deadlocks: int
    blocks_hit: int
    blocks_read: int

    @property
    def cache_hit_ratio(self) -> float:
        """blks_hit / (blks_hit + blks_read); 0 before any block was read."""
        total = self.blocks_hit + self.blocks_read
        return self.blocks_hit / total if total else 0.0


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


def schema_version_query(table: str = HISTORY_TABLE) -> Select:
    """The newest migration version that succeeded."""
    return (
        select("version").from_(table).where(col("success").eq(TRUE)).order_by(col("version").desc()).limit(1)
    )


class DatabaseStatsRepository(StatementExecutor):
    """Reads the figures on the connection it was handed."""

    async def figures(self) -> tuple[DatabaseFigures | None, str]:
        """The figures and the PostgreSQL server version ("" when the row is missing)."""
        row = await self.fetch_one(database_figures_query())
        if row is None:
            return None, ""
        figures = DatabaseFigures(
            size_bytes=int(row["size_bytes"] or 0),
            connections=int(row["numbackends"] or 0),
            commits=int(row["xact_commit"] or 0),
            rollbacks=int(row["xact_rollback"] or 0),
            deadlocks=int(row["deadlocks"] or 0),
            blocks_hit=int(row["blks_hit"] or 0),
            blocks_read=int(row["blks_read"] or 0),
        )
        return figures, str(row["server_version"] or "")

    async def schema_version(self) -> str:
        """The newest applied migration, or "" for a database that was never migrated."""
        try:
            row = await self.fetch_one(schema_version_query())
        except pg_errors.UndefinedTable:
            return ""
        return "" if row is None else str(row["version"])
