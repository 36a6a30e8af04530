"""Is the database's schema the one this build expects? Read from the migration history table.

A server on an empty or half-migrated database answers INTERNAL to every call
(missing tables and columns), so "the database answers" is not enough for
readiness: the health monitor also asks this module. The expected versions
come from the composition root, which reads this build's migration files;
db knows nothing of the migration engine, only the history table's name and
its ``version`` and ``success`` columns.

>>> schema_problem(frozenset({1, 2}), [(1, True), (2, True)]) is None
True
>>> print(schema_problem(frozenset({1, 2, 3}), [(1, True)]))
schema not at this build's version 3: 2 pending migration(s) (2, 3); run inventory-migrate migrate
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg import sql

DEFAULT_HISTORY_TABLE = "schema_migrations"
_LISTED = 5  # versions named in a reason, at most


@dataclass(frozen=True, slots=True)
class SchemaExpectation:
    """The migration versions this build defines, and where the database records the applied ones."""

    versions: frozenset[int]
    table: str = DEFAULT_HISTORY_TABLE

    @property
    def latest(self) -> int:
        return max(self.versions, default=0)


def schema_problem(expected: frozenset[int], applied: Iterable[tuple[int, bool]] | None) -> str | None:
    """Why a database with ``applied`` (version, success) history rows is not ready, or None when it is.

    ``applied`` None means there is no history table at all (an empty or foreign database).
    """
    target = max(expected, default=0)
    prefix = f"schema not at this build's version {target}: "
    if applied is None:
        return prefix + "no migration history (empty database?); run inventory-migrate migrate"
    rows = list(applied)
    failed = sorted(version for version, success in rows if not success)
    if failed:
        return prefix + f"migration(s) failed half-way ({_named(failed)}); see inventory-migrate status"
    done = {version for version, _ in rows}
    unknown = sorted(done - expected)
    if unknown:
        return (
            prefix + f"the database has migration(s) this build does not know ({_named(unknown)}); "
            "deploy the build that applied them"
        )
    pending = sorted(expected - done)
    if pending:
        return (
            prefix + f"{len(pending)} pending migration(s) ({_named(pending)}); run inventory-migrate migrate"
        )
    return None


async def read_schema_problem(conn: psycopg.AsyncConnection[Any], expected: SchemaExpectation) -> str | None:
    """:func:`schema_problem` for the database behind ``conn`` (two small queries; autocommit)."""
    cursor = await conn.execute("SELECT to_regclass(%s) IS NOT NULL", [expected.table])
    found = await cursor.fetchone()
    if found is None or not found[0]:
        return schema_problem(expected.versions, None)
    query = sql.SQL("SELECT version, success FROM {}").format(sql.Identifier(expected.table))
    cursor = await conn.execute(query)
    return schema_problem(expected.versions, [(int(v), bool(s)) for v, s in await cursor.fetchall()])


def _named(versions: list[int]) -> str:
    shown = ", ".join(str(v) for v in versions[:_LISTED])
    return shown + (f", … {len(versions) - _LISTED} more" if len(versions) > _LISTED else "")
