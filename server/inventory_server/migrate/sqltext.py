"""Parsing SQL migration files: ``-- migrate:`` sections and statement splitting.

A SQL migration file looks like this::

    -- Free comment lines (the header).
    -- migrate:no-transaction        (optional, header only)
    -- migrate:up
    CREATE TABLE t (id int);
    -- migrate:down                  (optional: without it the migration cannot be rolled back)
    DROP TABLE t;

Statements are split on semicolons outside quotes, dollar-quoted bodies and
comments, so that each one can run (and fail) on its own: the error then
names the statement and its line. SQL-standard function bodies
(``BEGIN ATOMIC ... END``) are not supported; use a dollar-quoted body.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from inventory_server.migrate.errors import MigrationFileError

DIRECTIVE = re.compile(r"^\s*--\s*migrate:\s*([A-Za-z-]+)\s*$")
KNOWN_DIRECTIVES = frozenset({"up", "down", "no-transaction"})
_DOLLAR_TAG = re.compile(r"\$(?:[A-Za-z_\x80-\uffff][A-Za-z0-9_\x80-\uffff]*)?\$")
_IDENTIFIER_CHAR = re.compile(r"[A-Za-z0-9_$\x80-\uffff]")


@dataclass(frozen=True, slots=True)
class Statement:
    """One SQL statement of a file and the line (1-based, in the file) where it starts."""

    text: str
    line: int

    @property
    def summary(self) -> str:
        """The first line of the statement, shortened for error messages."""
        first = self.text.strip().splitlines()[0] if self.text.strip() else ""
        return first if len(first) <= 120 else first[:117] + "..."


@dataclass(frozen=True, slots=True)
class SqlSections:
    """The parts of a SQL migration file.

    ``down`` is None when the file has no ``-- migrate:down`` line (irreversible);
    an empty list when the section exists but holds no statement (a no-op rollback).
    """

    up: list[Statement]
    down: list[Statement] | None
    transactional: bool
    up_text: str
    down_text: str | None


def parse_sql_migration(text: str, filename: str = "<migration>") -> SqlSections:
    """Split ``text`` into its up and down sections and their statements."""
    lines = text.splitlines(keepends=True)
    sections: dict[str, tuple[int, int]] = {}  # name -> (first line index, end line index)
    transactional = True
    current: str | None = None
    for index, line in enumerate(lines):
        match = DIRECTIVE.match(line)
        if match is None:
            if current is None and line.strip() and not line.lstrip().startswith("--"):
                raise MigrationFileError(
                    f"{filename}:{index + 1}: SQL before the '-- migrate:up' line; "
                    "put statements in the up or down section"
                )
            continue
        name = match.group(1).lower()
        if name not in KNOWN_DIRECTIVES:
            raise MigrationFileError(f"{filename}:{index + 1}: unknown directive 'migrate:{name}'")
        if name == "no-transaction":
            if current is not None:
                raise MigrationFileError(
                    f"{filename}:{index + 1}: '-- migrate:no-transaction' must come before '-- migrate:up'"
                )
            transactional = False
            continue
        if name in sections:
            raise MigrationFileError(f"{filename}:{index + 1}: a second '-- migrate:{name}' section")
        if name == "down" and "up" not in sections:
            raise MigrationFileError(f"{filename}:{index + 1}: '-- migrate:down' before '-- migrate:up'")
        if current is not None:
            sections[current] = (sections[current][0], index)
        sections[name] = (index + 1, len(lines))
        current = name
    if "up" not in sections:
        raise MigrationFileError(f"{filename}: no '-- migrate:up' line")

    def section(name: str) -> tuple[list[Statement], str]:
        first, end = sections[name]
        body = "".join(lines[first:end])
        return split_statements(body, first_line=first + 1, filename=filename), body

    up, up_text = section("up")
    down: list[Statement] | None = None
    down_text: str | None = None
    if "down" in sections:
        down, down_text = section("down")
    return SqlSections(up, down, transactional, up_text, down_text)


def split_statements(text: str, *, first_line: int = 1, filename: str = "<sql>") -> list[Statement]:
    """Split SQL text into statements on top-level semicolons.

    >>> [s.text for s in split_statements("SELECT ';'; -- a; comment\\nSELECT $$ ; $$;")]
    ["SELECT ';'", 'SELECT $$ ; $$']
    """
    statements: list[Statement] = []
    content_start: int | None = None
    i = 0
    length = len(text)

    def line_of(position: int) -> int:
        return first_line + text.count("\n", 0, position)

    def finish(end: int) -> None:
        nonlocal content_start
        if content_start is not None:
            statements.append(Statement(text[content_start:end].strip(), line_of(content_start)))
        content_start = None

    while i < length:
        char = text[i]
        if char.isspace():
            i += 1
            continue
        if text.startswith("--", i):
            newline = text.find("\n", i)
            i = length if newline < 0 else newline + 1
            continue
        if text.startswith("/*", i):
            i = _skip_block_comment(text, i, line_of, filename)
            continue
        if char == ";":
            finish(i)
            i += 1
            continue
        if content_start is None:
            content_start = i
        if char == "'":
            escapes = i > 0 and text[i - 1] in "eE" and (i < 2 or not _IDENTIFIER_CHAR.match(text[i - 2]))
            i = _skip_quoted(text, i, "'", escapes, line_of, filename)
        elif char == '"':
            i = _skip_quoted(text, i, '"', False, line_of, filename)
        elif char == "$" and (i == 0 or not _IDENTIFIER_CHAR.match(text[i - 1])):
            tag = _DOLLAR_TAG.match(text, i)
            if tag is None:
                i += 1
                continue
            close = text.find(tag.group(0), tag.end())
            if close < 0:
                raise MigrationFileError(
                    f"{filename}:{line_of(i)}: unterminated dollar-quoted string {tag.group(0)}"
                )
            i = close + len(tag.group(0))
        else:
            i += 1
    finish(length)
    return statements


def _skip_block_comment(text: str, i: int, line_of: Callable[[int], int], filename: str) -> int:
    """Index after the (possibly nested) block comment starting at ``i``."""
    depth = 0
    position = i
    while position < len(text):
        if text.startswith("/*", position):
            depth += 1
            position += 2
        elif text.startswith("*/", position):
            depth -= 1
            position += 2
            if depth == 0:
                return position
        else:
            position += 1
    raise MigrationFileError(f"{filename}:{line_of(i)}: unterminated /* comment")


def _skip_quoted(
    text: str, i: int, quote: str, backslash_escapes: bool, line_of: Callable[[int], int], filename: str
) -> int:
    """Index after the quoted literal or identifier starting at ``i`` (doubled quotes stay inside)."""
    position = i + 1
    while position < len(text):
        char = text[position]
        if backslash_escapes and char == "\\":
            position += 2
            continue
        if char == quote:
            if text.startswith(quote * 2, position):
                position += 2
                continue
            return position + 1
        position += 1
    kind = "string" if quote == "'" else "quoted identifier"
    raise MigrationFileError(f"{filename}:{line_of(i)}: unterminated {kind}")
