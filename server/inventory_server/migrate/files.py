"""Migration files on disk: discovery, naming rules, checksums and loading.

A migration file is named ``<version>_<description>.<sql|py>``, e.g.
``0005_stock.sql``: the version is the leading number (ordering is numeric),
the description is the rest of the name with underscores as spaces. The
checksum is the SHA-256 of the file's bytes with CRLF line ends read as LF,
so a Windows checkout does not look like an edit.

A version is ASCII digits only (``re`` and ``int`` would also take other
scripts' digits, which sort and display differently) and fits PostgreSQL's
``bigint``, the type of the history table's ``version`` column.

A Python migration is *outlined* without running it (its syntax tree gives the
docstring, ``TRANSACTIONAL`` and whether ``up``/``down`` exist), so that
``--dry-run``, ``status`` and the rollback checks never execute module code;
it is imported only when it is about to run or is checked by ``validate``.
"""

from __future__ import annotations

import ast
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

FILE_NAME = re.compile(r"^(?P<version>[0-9]+)_(?P<slug>[A-Za-z0-9][A-Za-z0-9_]*)\.(?P<ext>sql|py)$", re.ASCII)
# Leading digits of any script: a name that starts like a version but is not ASCII.
_ANY_DIGITS = re.compile(r"^\d+_")
# The history table's version column is a PostgreSQL bigint.
MAX_VERSION = 2**63 - 1

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
    def outline(self) -> PythonOutline:
        """What a Python migration defines, read from its syntax tree without running it."""
        if self.kind is not MigrationKind.PYTHON:
            raise TypeError(f"{self.name} is not a Python migration")
        return outline_python_migration(self.path)

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
        return self.outline.transactional

    @property
    def reversible(self) -> bool:
        """Whether the migration has a down part (a SQL down section or a Python ``down()``)."""
        if self.kind is MigrationKind.SQL:
            return self.sql.down is not None
        return "down" in self.outline.names

    def python_step(self, direction: str) -> PythonStep:
        """The ``up`` or ``down`` function of a Python migration."""
        step = getattr(self.module, direction, None)
        if not callable(step):
            raise MigrationFileError(f"{self.name}: no {direction}(conn) function")
        return step  # type: ignore[no-any-return]

    def check(self, *, run_python: bool = True) -> None:
        """Parse the file now (and import a Python one unless ``run_python`` is false),
        raising MigrationFileError when it is malformed."""
        if self.kind is MigrationKind.SQL:
            _ = self.sql
            return
        if run_python:
            self.python_step("up")  # imports it: reports what fails at import time
        elif "up" not in self.outline.names:
            raise MigrationFileError(f"{self.name}: no up(conn) function")
        _ = self.outline  # TRANSACTIONAL must be a literal either way


@dataclass(frozen=True, slots=True)
class PythonOutline:
    """A Python migration as its syntax tree shows it: nothing of it has run."""

    docstring: str
    names: frozenset[str]  # top-level names it binds (def, class, assignment, import)
    transactional: bool
    function_docs: dict[str, str]  # docstring of each top-level def


def read_text(path: Path) -> str:
    """A migration file's text, which must be UTF-8 (MigrationFileError, exit 3, otherwise)."""
    data = path.read_bytes()
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise MigrationFileError(
            f"{path.name}: not valid UTF-8 (byte 0x{data[exc.start]:02x} at offset {exc.start}, "
            f"line {line}); save the file as UTF-8"
        ) from None


def outline_python_migration(path: Path) -> PythonOutline:
    """Read a Python migration's docstring, top-level names and ``TRANSACTIONAL`` without running it.

    ``TRANSACTIONAL`` must be the literal ``True`` or ``False`` (default True) so that a dry run
    can say how the migration would run without importing it.
    """
    data = path.read_bytes()
    try:
        source = importlib.util.decode_source(data)  # honours a PEP 263 coding line, else UTF-8
    except (UnicodeDecodeError, SyntaxError) as exc:
        raise MigrationFileError(f"{path.name}: cannot be decoded ({exc}); save the file as UTF-8") from None
    try:
        tree = ast.parse(source, filename=path.name)
    except (SyntaxError, ValueError) as exc:
        raise MigrationFileError(f"{path.name}: cannot be parsed: {exc}") from None
    names: set[str] = set()
    docs: dict[str, str] = {}
    transactional: object = True
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(node.name)
            docs[node.name] = ast.get_docstring(node) or ""
        elif isinstance(node, ast.Assign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            bound = {t.id for t in targets if isinstance(t, ast.Name)}
            names |= bound
            if "TRANSACTIONAL" in bound:
                value = node.value
                transactional = value.value if isinstance(value, ast.Constant) else None
        elif isinstance(node, ast.Import | ast.ImportFrom):
            names |= {(alias.asname or alias.name).split(".")[0] for alias in node.names}
    if not isinstance(transactional, bool):
        raise MigrationFileError(f"{path.name}: TRANSACTIONAL must be the literal True or False")
    return PythonOutline(ast.get_docstring(tree) or "", frozenset(names), transactional, docs)


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
            if _ANY_DIGITS.match(path.name):
                problems.append(f"{path.name}: the version must be written in ASCII digits 0-9")
            else:
                problems.append(f"{path.name}: name must look like 0001_short_description{path.suffix}")
            continue
        version = int(match.group("version"))
        if version > MAX_VERSION:
            problems.append(f"{path.name}: version {version} is beyond the largest bigint ({MAX_VERSION})")
            continue
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
    except SystemExit as exc:  # sys.exit() at import time must not end the migrator with its code
        raise MigrationFileError(f"{path.name}: import called sys.exit({exc.code!r})") from None
    except Exception as exc:
        raise MigrationFileError(f"{path.name}: import failed: {type(exc).__name__}: {exc}") from exc
    return module
