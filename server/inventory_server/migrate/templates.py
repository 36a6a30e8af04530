"""``inventory-migrate create``: new migration files from templates, numbered after the last one."""

from __future__ import annotations

import re
from pathlib import Path

from inventory_server.migrate.errors import UsageError
from inventory_server.migrate.files import FILE_NAME, MAX_VERSION, discover

MIN_VERSION_WIDTH = 4

SQL_TEMPLATE = """\
-- {description}
--
-- Statements end with a semicolon. The up part runs in one transaction with
-- its history row; put '-- migrate:no-transaction' above '-- migrate:up' for
-- statements that cannot (CREATE INDEX CONCURRENTLY), and make them safe to
-- rerun (IF EXISTS / IF NOT EXISTS). Delete the '-- migrate:down' line only if
-- the change cannot be undone: rollback then refuses to pass this migration.

-- migrate:up


-- migrate:down

"""

PYTHON_TEMPLATE = '''\
"""{description}."""

from __future__ import annotations

from typing import Any

import psycopg

# Runs in one transaction together with its history row. Set to False for work
# that must commit as it goes; conn is then in autocommit mode.
TRANSACTIONAL = True


def up(conn: psycopg.Connection[Any]) -> None:
    """Apply the change. Pass values as parameters: conn.execute("...%s...", (value,))."""


def down(conn: psycopg.Connection[Any]) -> None:
    """Undo what up() did. Delete this function if the change cannot be undone."""
'''


def slugify(description: str) -> str:
    """The file-name form of a description: ``Add SKU index!`` -> ``add_sku_index``."""
    return re.sub(r"[^a-z0-9]+", "_", description.lower()).strip("_")[:60].rstrip("_")


def create_migration(
    directory: Path, description: str, *, version: int | None = None, python: bool = False
) -> Path:
    """Write a new migration template; returns its path.

    The version defaults to one more than the highest existing version and is
    zero-padded like the existing files (at least four digits).
    """
    slug = slugify(description)
    if not slug:
        raise UsageError("the description must contain letters or digits")
    directory.mkdir(parents=True, exist_ok=True)
    existing = discover(directory)
    if version is None:
        version = max((m.version for m in existing), default=0) + 1
    if not 0 <= version <= MAX_VERSION:
        raise UsageError(f"the version must be between 0 and {MAX_VERSION} (a PostgreSQL bigint)")
    clash = next((m for m in existing if m.version == version), None)
    if clash is not None:
        raise UsageError(f"version {version} is already used by {clash.name}")
    width = _version_width([m.name for m in existing])
    extension = "py" if python else "sql"
    path = directory / f"{version:0{width}d}_{slug}.{extension}"
    template = PYTHON_TEMPLATE if python else SQL_TEMPLATE
    # One line, and nothing that could end the Python docstring early.
    text = " ".join(description.split()).replace("\\", "/").replace('"', "'")
    path.write_text(template.format(description=text[:1].upper() + text[1:]), encoding="utf-8")
    return path


def _version_width(names: list[str]) -> int:
    """How many digits the existing files use for their version (at least four)."""
    widths = [MIN_VERSION_WIDTH]
    for name in names:
        match = FILE_NAME.match(name)
        if match is not None:
            widths.append(len(match.group("version")))
    return max(widths)
