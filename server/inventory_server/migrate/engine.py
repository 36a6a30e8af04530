"""The migration engine: status, validate, migrate, rollback, baseline and repair.

Every command that writes holds the advisory lock for its whole run and reads
the history only after getting it, so concurrent migrators apply each
migration exactly once: the ones that waited find nothing left to do.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg

from inventory_server.migrate import plan
from inventory_server.migrate.apply import SessionSettings, apply_down, apply_up
from inventory_server.migrate.connection import connect
from inventory_server.migrate.errors import MigrationFailed, MigrationFileError, UsageError, ValidationFailed
from inventory_server.migrate.files import MigrationFile, MigrationKind, discover
from inventory_server.migrate.history import DEFAULT_TABLE, AppliedMigration, History
from inventory_server.migrate.lock import migration_lock

DEFAULT_LOCK_WAIT_SECONDS = 60.0

Reporter = Callable[[str], None]


def _silent(_: str) -> None:
    """The default reporter: say nothing."""


@dataclass(frozen=True, kw_only=True)
class MigratorSettings:
    """Everything a migration run is configured with (see the CLI for the matching flags)."""

    directory: Path
    table: str = DEFAULT_TABLE
    lock_wait_seconds: float = DEFAULT_LOCK_WAIT_SECONDS
    connect_wait_seconds: float = 0.0
    session: SessionSettings = field(default_factory=SessionSettings)
    allow_out_of_order: bool = False


class Migrator:
    """Runs the commands against one database. Each call opens and closes its own connection."""

    def __init__(self, dsn: str, settings: MigratorSettings, *, report: Reporter = _silent):
        self._dsn = dsn
        self._settings = settings
        self._report = report

    # -- read-only commands -------------------------------------------------------------------

    def status(self) -> list[plan.StatusEntry]:
        """Every version with its state; takes no lock and writes nothing."""
        files = discover(self._settings.directory)
        with self._connection() as conn:
            return plan.compare(files, History(conn, self._settings.table).applied())

    def validate(self) -> list[plan.StatusEntry]:
        """Check files (names, syntax) and history; raise ValidationFailed listing every problem."""
        entries = self.status()
        problems = plan.problems(entries, allow_out_of_order=self._settings.allow_out_of_order)
        for entry in entries:
            if entry.file is not None:
                try:
                    entry.file.check()
                except MigrationFileError as exc:
                    problems.append(str(exc))
        if problems:
            raise ValidationFailed("validation failed", problems)
        return entries

    # -- commands that change the database ------------------------------------------------------

    def migrate(self, *, target: int | None = None, dry_run: bool = False) -> list[MigrationFile]:
        """Apply pending migrations (up to ``target``) in version order; return those applied (or planned)."""
        files = discover(self._settings.directory)
        if target is not None and target not in {f.version for f in files}:
            raise UsageError(f"--to {target}: no migration file has that version")
        with self._connection() as conn:
            history = History(conn, self._settings.table)
            if dry_run:
                todo = self._plan_migrate(files, history.applied(), target, run_python=False)
                for migration in todo:
                    self._report(render_dry_run(migration, "up"))
                return todo
            with self._locked(conn):
                history.ensure()
                todo = self._plan_migrate(files, history.applied(), target)
                if not todo:
                    self._report("schema is up to date")
                for migration in todo:
                    self._report(f"applying {migration.name} ...")
                    elapsed = self._guard(apply_up, conn, history, migration, self._settings.session)
                    self._report(f"applied {migration.name} in {elapsed} ms")
                return todo

    def rollback(
        self, *, version: int | None = None, steps: int | None = None, dry_run: bool = False
    ) -> list[MigrationFile]:
        """Run down parts in reverse applied order: the last ``steps`` (default 1), or every
        applied migration with a version of at least ``version``. Refuses, before changing
        anything, when one of them has no down part, no file, or an edited file."""
        if version is not None and steps is not None:
            raise UsageError("give either a version or a number of steps, not both")
        if steps is not None and steps < 1:
            raise UsageError("--steps must be at least 1")
        files = discover(self._settings.directory)
        with self._connection() as conn:
            history = History(conn, self._settings.table)
            if dry_run:
                todo = self._plan_rollback(files, history.applied(), version, steps)
                for migration in todo:
                    self._report(render_dry_run(migration, "down"))
                return todo
            with self._locked(conn):
                todo = self._plan_rollback(files, history.applied(), version, steps)
                if not todo:
                    self._report("nothing to roll back")
                for migration in todo:
                    self._report(f"rolling back {migration.name} ...")
                    elapsed = self._guard(apply_down, conn, history, migration, self._settings.session)
                    self._report(f"rolled back {migration.name} in {elapsed} ms")
                return todo

    def baseline(self, version: int) -> list[int]:
        """Mark every migration up to ``version`` as applied without running it (adopting an
        existing database); returns the versions marked."""
        files = discover(self._settings.directory)
        if version not in {f.version for f in files}:
            raise UsageError(f"--version {version}: no migration file has that version")
        with self._connection() as conn, self._locked(conn):
            history = History(conn, self._settings.table)
            history.ensure()
            applied = history.applied()
            if any(not row.success for row in applied):
                raise ValidationFailed("a failed migration is recorded; run 'inventory-migrate repair' first")
            done = {row.version for row in applied}
            marked = [f for f in files if f.version <= version and f.version not in done]
            with conn.transaction():
                for migration in marked:
                    history.record(migration, execution_ms=0, success=True, baseline=True)
            for migration in marked:
                self._report(f"baselined {migration.name} (marked applied, not run)")
            return [m.version for m in marked]

    def repair(self, *, update_checksums: bool = False) -> list[int]:
        """Remove failed history rows (after an operator cleaned up); with ``update_checksums``
        also accept the current checksum of edited applied files. Returns the versions touched."""
        files = {f.version: f for f in discover(self._settings.directory)}
        with self._connection() as conn, self._locked(conn):
            history = History(conn, self._settings.table)
            if not history.exists():
                self._report("no history table; nothing to repair")
                return []
            with conn.transaction():
                removed = history.remove_failed()
                updated: list[int] = []
                if update_checksums:
                    for row in history.applied():
                        file = files.get(row.version)
                        if file is not None and file.checksum != row.checksum:
                            history.update_checksum(row.version, file.checksum)
                            updated.append(row.version)
            for number in removed:
                self._report(f"removed failed history row of version {number}")
            for number in updated:
                self._report(f"accepted the new checksum of {files[number].name}")
            if not removed and not updated:
                self._report("nothing to repair")
            return sorted(set(removed) | set(updated))

    # -- helpers --------------------------------------------------------------------------------

    def _plan_migrate(
        self,
        files: list[MigrationFile],
        applied: list[AppliedMigration],
        target: int | None,
        *,
        run_python: bool = True,
    ) -> list[MigrationFile]:
        entries = plan.compare(files, applied)
        problems = plan.problems(entries, allow_out_of_order=self._settings.allow_out_of_order)
        if problems:
            raise ValidationFailed("refusing to migrate", problems)
        todo = plan.pending(entries, target=target)
        bad: list[str] = []
        for migration in todo:
            try:
                migration.check(run_python=run_python)
            except MigrationFileError as exc:
                bad.append(str(exc))
        if bad:
            raise MigrationFileError("refusing to migrate: malformed migration files", bad)
        return todo

    def _plan_rollback(
        self,
        files: list[MigrationFile],
        applied: list[AppliedMigration],
        version: int | None,
        steps: int | None,
    ) -> list[MigrationFile]:
        if any(not row.success for row in applied):
            raise ValidationFailed("a failed migration is recorded; run 'inventory-migrate repair' first")
        newest_first = list(reversed(applied))
        if version is not None:
            if version not in {row.version for row in applied}:
                raise UsageError(f"--version {version} is not applied")
            rows = [row for row in newest_first if row.version >= version]
        else:
            rows = newest_first[: steps or 1]
        by_version = {f.version: f for f in files}
        problems: list[str] = []
        todo: list[MigrationFile] = []
        for row in rows:
            file = by_version.get(row.version)
            if file is None:
                problems.append(f"version {row.version} ({row.description}): file is missing")
            elif file.checksum != row.checksum:
                problems.append(f"{file.name}: changed after it was applied; its down part cannot be trusted")
            else:
                try:
                    if not file.reversible:
                        problems.append(f"{file.name}: has no down part")
                except MigrationFileError as exc:
                    problems.append(str(exc))
                todo.append(file)
        if problems:
            raise ValidationFailed("refusing to roll back", problems)
        return todo

    @contextmanager
    def _connection(self) -> Iterator[psycopg.Connection[Any]]:
        conn = connect(self._dsn, wait_seconds=self._settings.connect_wait_seconds, on_retry=self._report)
        try:
            yield conn
        finally:
            conn.close()

    @contextmanager
    def _locked(self, conn: psycopg.Connection[Any]) -> Iterator[None]:
        def waiting(holder: str) -> None:
            self._report("waiting for the migration lock" + (f" held by {holder}" if holder else ""))

        with migration_lock(conn, timeout=self._settings.lock_wait_seconds, on_wait=waiting):
            yield

    @staticmethod
    def _guard(
        step: Callable[[psycopg.Connection[Any], History, MigrationFile, SessionSettings], int],
        conn: psycopg.Connection[Any],
        history: History,
        migration: MigrationFile,
        session: SessionSettings,
    ) -> int:
        """Run one step; a database error outside any statement (e.g. a lost connection) is a failure too."""
        try:
            return step(conn, history, migration, session)
        except psycopg.Error as exc:
            raise MigrationFailed(f"{migration.name}: database error: {type(exc).__name__}: {exc}") from exc


def render_dry_run(migration: MigrationFile, direction: str) -> str:
    """What a dry run prints for one migration: a header and the SQL, or for a Python migration
    which function would run and the docstrings, read from the file without executing any of it."""
    mode = "transaction" if migration.transactional else "no transaction"
    header = f"-- {direction} {migration.name} ({mode})"
    if migration.kind is MigrationKind.PYTHON:
        outline = migration.outline
        lines = [f"Python migration: would call {direction}(conn) of {migration.name} (not imported now)"]
        lines += outline.docstring.splitlines()
        step_doc = outline.function_docs.get(direction, "")
        if step_doc:
            lines += [f"{direction}():", *(f"  {line}" for line in step_doc.splitlines())]
        body = "\n".join(f"-- {line}".rstrip() for line in lines)
        return f"{header}\n{body}\n"
    text = migration.sql.up_text if direction == "up" else migration.sql.down_text
    return f"{header}\n{(text or '').strip()}\n"
