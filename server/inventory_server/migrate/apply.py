"""Running one migration's up or down part on a connection, with its history row.

A transactional migration runs inside one transaction together with the
insert (up) or delete (down) of its history row: it either happens entirely
or leaves no trace. A non-transactional one runs statement by statement in
autocommit mode; for ``up`` a ``success = false`` row is written first and
turned to ``true`` at the end, so a failure or a crash half-way stays
visible and blocks later runs until ``repair``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg import sql

from inventory_server.migrate.errors import MigrationFailed
from inventory_server.migrate.files import MigrationFile, MigrationKind
from inventory_server.migrate.history import History
from inventory_server.migrate.sqltext import Statement

# A backend whose client died notices it within this interval even while a
# statement runs, ending the session and so releasing the migration lock.
CLIENT_CHECK_INTERVAL = "1s"


@dataclass(frozen=True, kw_only=True, slots=True)
class SessionSettings:
    """Per-statement limits for migration DDL (PostgreSQL duration strings, "0" = none)."""

    lock_timeout: str = "10s"
    statement_timeout: str = "0"


class _StepFailed(Exception):
    """Internal: a statement or Python step raised; carries the description for the final error."""


def apply_up(
    conn: psycopg.Connection[Any], history: History, migration: MigrationFile, settings: SessionSettings
) -> int:
    """Run ``migration``'s up part and record it; returns the execution time in milliseconds."""
    prepare_session(conn, settings)
    started = time.monotonic()
    if migration.transactional:
        try:
            with conn.transaction():
                _run(conn, migration, "up")
                history.record(migration, execution_ms=_elapsed_ms(started), success=True)
        except _StepFailed as exc:
            raise MigrationFailed(f"{migration.name}: up failed, rolled back: {exc}") from exc.__cause__
        return _elapsed_ms(started)
    history.record(migration, execution_ms=0, success=False)
    try:
        _run(conn, migration, "up")
    except _StepFailed as exc:
        raise MigrationFailed(
            f"{migration.name}: up failed (non-transactional; statements before the failing one stay "
            f"applied; recorded as failed, run 'inventory-migrate repair' after cleaning up): {exc}"
        ) from exc.__cause__
    elapsed = _elapsed_ms(started)
    history.mark_succeeded(migration.version, elapsed)
    return elapsed


def apply_down(
    conn: psycopg.Connection[Any], history: History, migration: MigrationFile, settings: SessionSettings
) -> int:
    """Run ``migration``'s down part and delete its history row; returns milliseconds."""
    prepare_session(conn, settings)
    started = time.monotonic()
    try:
        if migration.transactional:
            with conn.transaction():
                _run(conn, migration, "down")
                history.remove(migration.version)
        else:
            _run(conn, migration, "down")
            history.remove(migration.version)
    except _StepFailed as exc:
        how = "rolled back" if migration.transactional else "non-transactional: may be partly undone, rerun"
        raise MigrationFailed(f"{migration.name}: down failed ({how}): {exc}") from exc.__cause__
    return _elapsed_ms(started)


def prepare_session(conn: psycopg.Connection[Any], settings: SessionSettings) -> None:
    """Reset what an earlier migration may have SET, then apply the DDL limits."""
    conn.execute("RESET ALL")
    conn.execute(
        "SELECT set_config('lock_timeout', %s, false), set_config('statement_timeout', %s, false)",
        (settings.lock_timeout, settings.statement_timeout),
    )
    if conn.info.server_version >= 140000:
        conn.execute(
            "SELECT set_config('client_connection_check_interval', %s, false)", (CLIENT_CHECK_INTERVAL,)
        )


def _run(conn: psycopg.Connection[Any], migration: MigrationFile, direction: str) -> None:
    if migration.kind is MigrationKind.PYTHON:
        step = migration.python_step(direction)
        try:
            step(conn)
        except SystemExit as exc:  # would otherwise end the migrator with the migration's exit code
            raise _StepFailed(
                f"{direction}() called sys.exit({exc.code!r}); a migration must return or raise"
            ) from exc
        except Exception as exc:  # a data migration may raise anything; report it, never half-commit
            raise _StepFailed(f"{direction}() raised {type(exc).__name__}: {exc}") from exc
        return
    sections = migration.sql
    statements = sections.up if direction == "up" else sections.down
    for number, statement in enumerate(statements or [], start=1):
        try:
            conn.execute(sql.SQL(statement.text))  # file SQL runs as written
        except psycopg.Error as exc:
            raise _StepFailed(describe_statement_error(statement, number, exc)) from exc


def describe_statement_error(statement: Statement, number: int, exc: psycopg.Error) -> str:
    """``statement 3 (line 42): CREATE TABLE ...: ERROR 42P07: relation "x" already exists``."""
    diag = exc.diag
    line = statement.line
    position = diag.statement_position
    if position and position.isdigit():
        line += statement.text.count("\n", 0, int(position) - 1)
    message = diag.message_primary or str(exc).strip().splitlines()[0]
    where = f"statement {number} (line {line}): {statement.summary}"
    parts = [f"{where}: ERROR {diag.sqlstate or ''}: {message}"]
    if diag.message_detail:
        parts.append(f"DETAIL: {diag.message_detail}")
    if diag.message_hint:
        parts.append(f"HINT: {diag.message_hint}")
    return "; ".join(parts)


def _elapsed_ms(started: float) -> int:
    return int((time.monotonic() - started) * 1000)
