"""Schema migrations: versioned files in the top-level ``migrations/`` folder, applied under an advisory lock.

Library use::

    from inventory_server.migrate import migrate_database
    applied = migrate_database("postgresql://...")   # number of migrations applied

Command line: ``inventory-migrate`` / ``python -m inventory_server.migrate``
(see ``docs/migrations.md``).
"""

from __future__ import annotations

from pathlib import Path

from inventory_server.migrate.apply import SessionSettings
from inventory_server.migrate.engine import Migrator, MigratorSettings
from inventory_server.migrate.errors import (
    DatabaseUnreachable,
    LockTimeout,
    MigrationError,
    MigrationFailed,
    MigrationFileError,
    UsageError,
    ValidationFailed,
)
from inventory_server.migrate.plan import State, StatusEntry

# The repository's migrations/ folder, found from this file: server/inventory_server/migrate/__init__.py.
DEFAULT_MIGRATIONS_DIR = Path(__file__).resolve().parents[3] / "migrations"

__all__ = [
    "DEFAULT_MIGRATIONS_DIR",
    "DatabaseUnreachable",
    "LockTimeout",
    "MigrationError",
    "MigrationFailed",
    "MigrationFileError",
    "Migrator",
    "MigratorSettings",
    "SessionSettings",
    "State",
    "StatusEntry",
    "UsageError",
    "ValidationFailed",
    "migrate_database",
]


def migrate_database(dsn: str, directory: Path | None = None) -> int:
    """Apply every pending migration to the database at ``dsn``; return how many ran.

    Idempotent (a second call returns 0) and safe to call from several
    processes at once. Raises a MigrationError subclass on failure.
    """
    settings = MigratorSettings(directory=directory or DEFAULT_MIGRATIONS_DIR)
    return len(Migrator(dsn, settings).migrate())
