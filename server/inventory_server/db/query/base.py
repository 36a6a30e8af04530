"""The pieces every query node shares: the parameter collector and the statement base.

Nodes compile to ``psycopg.sql`` composables. Values never enter the SQL
text: each one is appended to a :class:`Params` list and replaced by a
positional ``%s`` placeholder, so nodes must be compiled in the order they
appear in the text.
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from collections.abc import Iterable, Sequence
from typing import Any

from psycopg import sql
from psycopg.abc import AdaptContext

# Function names, type names and other SQL words that cannot be quoted.
_WORD = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)?$")
_TYPE_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*( [A-Za-z_][A-Za-z0-9_]*)*(\[\])?$")


class Params:
    """Collects bound values while a query compiles; each value becomes one ``%s``.

    >>> params = Params()
    >>> params.add(42).as_string()
    '%s'
    >>> params.values
    [42]
    """

    def __init__(self) -> None:
        self.values: list[Any] = []

    def add(self, value: Any) -> sql.Placeholder:
        """Remember ``value`` and return the placeholder that stands for it."""
        self.values.append(value)
        return sql.Placeholder()


class Node(ABC):
    """Anything that compiles to a piece of SQL."""

    __slots__ = ()

    @abstractmethod
    def compile(self, params: Params) -> sql.Composable:
        """The SQL for this node; bound values go to ``params``."""


class Statement(Node):
    """A complete statement (or subquery) that can be built and executed.

    ``build()`` returns what ``cursor.execute`` takes::

        query, params = statement.build()
        await conn.execute(query, params)
    """

    __slots__ = ()

    def build(self) -> tuple[sql.Composed, list[Any]]:
        """The statement as a composed SQL object and its positional parameters."""
        params = Params()
        composed = sql.Composed([self.compile(params)])
        return composed, params.values

    def as_string(self, context: AdaptContext | None = None) -> str:
        """Readable SQL with ``%s`` placeholders, for logs, tests and docstrings."""
        composed, _ = self.build()
        return composed.as_string(context)


def safe_word(word: str, what: str = "SQL word") -> sql.SQL:
    """A function or keyword name checked against a strict pattern (it cannot be quoted).

    >>> safe_word("lower").as_string()
    'lower'
    >>> safe_word("lower(x); drop")
    Traceback (most recent call last):
    ...
    ValueError: invalid SQL word: 'lower(x); drop'
    """
    if not _WORD.match(word):
        raise ValueError(f"invalid {what}: {word!r}")
    return sql.SQL(word)


def safe_type_name(name: str) -> sql.SQL:
    """A type name such as ``uuid``, ``text[]`` or ``timestamp with time zone``, checked.

    >>> safe_type_name("uuid[]").as_string()
    'uuid[]'
    """
    if not _TYPE_NAME.match(name):
        raise ValueError(f"invalid type name: {name!r}")
    return sql.SQL(name)


def compile_all(nodes: Iterable[Node], params: Params, separator: str = ", ") -> sql.Composed:
    """Every node compiled in order and joined with ``separator``."""
    return sql.SQL(separator).join([node.compile(params) for node in nodes])


def join_sql(parts: Sequence[sql.Composable], separator: str = ", ") -> sql.Composed:
    """``parts`` joined with ``separator`` (a constant, never user input)."""
    return sql.SQL(separator).join(parts)
