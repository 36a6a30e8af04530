"""Errors of the migration engine, each tied to the CLI exit code that reports it.

The exit codes are a contract for Kubernetes Jobs and scripts:

====  ==============================================================
0     success (also: nothing to do)
1     a migration failed (its transaction was rolled back, or a
      non-transactional one was recorded as failed)
2     usage error (bad flags, unknown version, file already exists)
3     validation failed (edited or missing applied file, out-of-order
      version, malformed file, failed migration awaiting ``repair``)
4     timed out waiting for the migration lock
5     database unreachable
====  ==============================================================
"""

from __future__ import annotations

EXIT_OK = 0
EXIT_MIGRATION_FAILED = 1
EXIT_USAGE = 2
EXIT_VALIDATION_FAILED = 3
EXIT_LOCK_TIMEOUT = 4
EXIT_DATABASE_UNREACHABLE = 5


class MigrationError(Exception):
    """Base of every error the engine reports on purpose; ``exit_code`` is what the CLI returns."""

    exit_code = EXIT_MIGRATION_FAILED


class MigrationFailed(MigrationError):
    """A migration (up or down) raised; nothing of its transaction remains."""

    exit_code = EXIT_MIGRATION_FAILED


class UsageError(MigrationError):
    """The request itself makes no sense (unknown version, existing file, ...)."""

    exit_code = EXIT_USAGE


class ValidationFailed(MigrationError):
    """Files and history disagree; ``problems`` lists each disagreement in one line."""

    exit_code = EXIT_VALIDATION_FAILED

    def __init__(self, message: str, problems: list[str] | None = None):
        self.problems = list(problems or [])
        details = "".join(f"\n  - {problem}" for problem in self.problems)
        super().__init__(message + details)


class MigrationFileError(ValidationFailed):
    """A migration file is malformed or badly named."""


class LockTimeout(MigrationError):
    """Another migrator held the lock for longer than we were willing to wait."""

    exit_code = EXIT_LOCK_TIMEOUT


class DatabaseUnreachable(MigrationError):
    """No connection to the database could be made (in the allowed time)."""

    exit_code = EXIT_DATABASE_UNREACHABLE
