"""The history table: which migrations ran, when, by whom, how long, and whether they succeeded.

One row per applied version. ``installed_rank`` records the order of
application (rollback undoes in reverse of it); ``baseline`` marks rows
written by ``baseline`` without running the migration; a row with
``success = false`` is a non-transactional migration that failed half-way
and blocks further runs until ``repair`` removes it.
"""

from __future__ import annotations

import socket
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psycopg
from psycopg import sql

from inventory_server.migrate.files import MigrationFile

DEFAULT_TABLE = "schema_migrations"


@dataclass(frozen=True, slots=True)
class AppliedMigration:
    """One row of the history table."""

    version: int
    description: str
    kind: str
    checksum: str
    applied_at: datetime
    execution_ms: int
    applied_by: str
    success: bool
    baseline: bool
    installed_rank: int


def create_table_sql(table: str = DEFAULT_TABLE) -> sql.Composed:
    """The DDL of the history table (idempotent)."""
    return sql.SQL(
        """CREATE TABLE IF NOT EXISTS {table} (
    version        bigint      PRIMARY KEY,
    description    text        NOT NULL,
    kind           text        NOT NULL CHECK (kind IN ('sql', 'python')),
    checksum       text        NOT NULL,
    applied_at     timestamptz NOT NULL DEFAULT now(),
    execution_ms   bigint      NOT NULL DEFAULT 0,
    applied_by     text        NOT NULL,
    success        boolean     NOT NULL,
    baseline       boolean     NOT NULL DEFAULT false,
    installed_rank bigint      GENERATED ALWAYS AS IDENTITY UNIQUE
)"""
    ).format(table=sql.Identifier(table))


class History:
    """Reads and writes the history table through a connection it is given."""

    def __init__(self, conn: psycopg.Connection[Any], table: str = DEFAULT_TABLE):
        self._conn = conn
        self._table = sql.Identifier(table)
        self._table_name = table

    def exists(self) -> bool:
        """Whether the history table exists (in the connection's search_path)."""
        name = self._table.as_string(self._conn)
        row = self._conn.execute("SELECT to_regclass(%s) IS NOT NULL", (name,)).fetchone()
        return bool(row and row[0])

    def ensure(self) -> None:
        """Create the history table when it is missing."""
        self._conn.execute(create_table_sql(self._table_name))

    def applied(self) -> list[AppliedMigration]:
        """Every row, in the order the migrations were applied; empty when the table does not exist."""
        if not self.exists():
            return []
        query = sql.SQL(
            "SELECT version, description, kind, checksum, applied_at, execution_ms, applied_by,"
            " success, baseline, installed_rank FROM {} ORDER BY installed_rank"
        ).format(self._table)
        return [AppliedMigration(*row) for row in self._conn.execute(query).fetchall()]

    def record(
        self, migration: MigrationFile, *, execution_ms: int, success: bool, baseline: bool = False
    ) -> None:
        """Insert the history row of one migration; ``applied_by`` is current_user@hostname."""
        query = sql.SQL(
            "INSERT INTO {} (version, description, kind, checksum, execution_ms, applied_by, success,"
            " baseline, applied_at) VALUES (%s, %s, %s, %s, %s, current_user || '@' || %s, %s, %s,"
            " clock_timestamp())"
        ).format(self._table)
        values = (
            migration.version,
            migration.description,
            str(migration.kind),
            migration.checksum,
            execution_ms,
            socket.gethostname(),
            success,
            baseline,
        )
        self._conn.execute(query, values)

    def remove(self, version: int) -> None:
        """Delete the history row of one version (after its down part ran, or by repair)."""
        self._conn.execute(sql.SQL("DELETE FROM {} WHERE version = %s").format(self._table), (version,))

    def remove_failed(self) -> list[int]:
        """Delete every failed row; return their versions."""
        query = sql.SQL("DELETE FROM {} WHERE NOT success RETURNING version").format(self._table)
        return sorted(row[0] for row in self._conn.execute(query).fetchall())

    def mark_succeeded(self, version: int, execution_ms: int) -> None:
        """Turn the provisional failed row of a non-transactional migration into a success."""
        query = sql.SQL(
            "UPDATE {} SET success = true, execution_ms = %s, applied_at = clock_timestamp()"
            " WHERE version = %s"
        )
        self._conn.execute(query.format(self._table), (execution_ms, version))

    def update_checksum(self, version: int, checksum: str) -> None:
        """Accept a new checksum for an applied version (repair --update-checksums)."""
        query = sql.SQL("UPDATE {} SET checksum = %s WHERE version = %s").format(self._table)
        self._conn.execute(query, (checksum, version))
