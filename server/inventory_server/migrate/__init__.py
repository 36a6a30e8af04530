"""Schema migrations: versioned files in the top-level ``migrations/`` folder (shipped inside the
wheel as ``inventory_server/migrations``), applied under an advisory lock.

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

# An installed wheel carries the migrations as package data (inventory_server/migrations, copied
# from the top-level migrations/ folder at build time by setup.py); a checkout or an editable
# install reads that top-level folder itself, found from this file's place in server/.
PACKAGED_MIGRATIONS_DIR = Path(__file__).resolve().parents[1] / "migrations"
CHECKOUT_MIGRATIONS_DIR = Path(__file__).resolve().parents[3] / "migrations"


def default_migrations_dir() -> Path:
    """Where the migrations of this build are: the packaged copy if installed, else the checkout's."""
    return PACKAGED_MIGRATIONS_DIR if PACKAGED_MIGRATIONS_DIR.is_dir() else CHECKOUT_MIGRATIONS_DIR


DEFAULT_MIGRATIONS_DIR = default_migrations_dir()

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
