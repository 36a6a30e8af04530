"""Migration files on disk: discovery, naming rules, checksums and loading.

A migration file is named ``<version>_<description>.<sql|py>``, e.g.
``0005_stock.sql``: the version is the leading number (ordering is numeric),
the description is the rest of the name with underscores as spaces. The
checksum is the SHA-256 of the file's bytes with CRLF line ends read as LF,
so a Windows checkout does not look like an edit.
"""

from __future__ import annotations

import enum
import hashlib
import importlib.util
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from types import ModuleType
from typing import Any

from inventory_server.migrate.errors import MigrationFileError
from inventory_server.migrate.sqltext import SqlSections, parse_sql_migration

FILE_NAME = re.compile(r"^(?P<version>\d+)_(?P<slug>[A-Za-z0-9][A-Za-z0-9_]*)\.(?P<ext>sql|py)$")

PythonStep = Callable[[Any], None]


class MigrationKind(enum.StrEnum):
    """How a migration is written, stored in the history's ``kind`` column."""

    SQL = "sql"
    PYTHON = "python"


@dataclass(frozen=True, eq=False)
class MigrationFile:
    """One versioned migration file. Its content is parsed or imported only when needed."""

    version: int
    description: str
    kind: MigrationKind
    path: Path
    checksum: str

    @property
    def name(self) -> str:
        """The file name, which is how messages refer to the migration."""
        return self.path.name

    @cached_property
    def sql(self) -> SqlSections:
        """The parsed sections of a SQL migration."""
        if self.kind is not MigrationKind.SQL:
            raise TypeError(f"{self.name} is not a SQL migration")
        return parse_sql_migration(read_text(self.path), self.name)

    @cached_property
    def module(self) -> ModuleType:
        """The imported Python migration (imported once, under a private module name)."""
        if self.kind is not MigrationKind.PYTHON:
            raise TypeError(f"{self.name} is not a Python migration")
        return load_python_migration(self.path, self.version)

    @property
    def transactional(self) -> bool:
        """Whether the migration runs inside one transaction together with its history row."""
        if self.kind is MigrationKind.SQL:
            return self.sql.transactional
        return bool(getattr(self.module, "TRANSACTIONAL", True))

    @property
    def reversible(self) -> bool:
        """Whether the migration has a down part (a SQL down section or a Python ``down()``)."""
        if self.kind is MigrationKind.SQL:
            return self.sql.down is not None
        return callable(getattr(self.module, "down", None))

    def python_step(self, direction: str) -> PythonStep:
        """The ``up`` or ``down`` function of a Python migration."""
        step = getattr(self.module, direction, None)
        if not callable(step):
            raise MigrationFileError(f"{self.name}: no {direction}(conn) function")
        return step  # type: ignore[no-any-return]

    def check(self) -> None:
        """Parse or import the file now, raising MigrationFileError when it is malformed."""
        if self.kind is MigrationKind.SQL:
            _ = self.sql
        else:
            self.python_step("up")


def read_text(path: Path) -> str:
    """A migration file's text (UTF-8)."""
    return path.read_bytes().decode("utf-8")


def checksum_of(path: Path) -> str:
    """SHA-256 hex digest of the file with CRLF normalised to LF."""
    return hashlib.sha256(path.read_bytes().replace(b"\r\n", b"\n")).hexdigest()


def describe(slug: str) -> str:
    """The description for a file-name slug: ``seed_transaction_types`` -> ``seed transaction types``."""
    return slug.replace("_", " ").strip()


def discover(directory: Path) -> list[MigrationFile]:
    """Every migration file in ``directory``, ordered by version.

    Files that are not ``.sql``/``.py`` are ignored, as are names starting with
    ``_`` or ``.`` (``__init__.py``, editor backups). A ``.sql``/``.py`` file with
    a bad name, or two files with the same version, raise MigrationFileError.
    """
    if not directory.is_dir():
        raise MigrationFileError(f"migrations directory {directory} does not exist")
    found: dict[int, MigrationFile] = {}
    problems: list[str] = []
    for path in sorted(directory.iterdir()):
        if not path.is_file() or path.name.startswith(("_", ".")) or path.suffix not in (".sql", ".py"):
            continue
        match = FILE_NAME.match(path.name)
        if match is None:
            problems.append(f"{path.name}: name must look like 0001_short_description{path.suffix}")
            continue
        version = int(match.group("version"))
        if version in found:
            problems.append(f"{path.name}: version {version} is also used by {found[version].name}")
            continue
        kind = MigrationKind.SQL if match.group("ext") == "sql" else MigrationKind.PYTHON
        found[version] = MigrationFile(version, describe(match.group("slug")), kind, path, checksum_of(path))
    if problems:
        raise MigrationFileError(f"bad migration files in {directory}", problems)
    return [found[version] for version in sorted(found)]


def load_python_migration(path: Path, version: int) -> ModuleType:
    """Import a Python migration file without putting it on sys.path or in sys.modules."""
    spec = importlib.util.spec_from_file_location(f"_inventory_migration_{version}", path)
    if spec is None or spec.loader is None:
        raise MigrationFileError(f"{path.name}: cannot be imported")
    module = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(module)
    except Exception as exc:
        raise MigrationFileError(f"{path.name}: import failed: {type(exc).__name__}: {exc}") from exc
    return module
