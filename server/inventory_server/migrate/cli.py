"""``inventory-migrate``: the command line of the migration engine.

Exit codes (see ``errors.py``): 0 success, 1 migration failed, 2 usage error,
3 validation failed, 4 lock timeout, 5 database unreachable.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

import psycopg

from inventory_server.migrate.engine import DEFAULT_LOCK_WAIT_SECONDS, Migrator, MigratorSettings
from inventory_server.migrate.errors import (
    EXIT_DATABASE_UNREACHABLE,
    EXIT_MIGRATION_FAILED,
    EXIT_OK,
    EXIT_USAGE,
    MigrationError,
    UsageError,
)
from inventory_server.migrate.report import print_status
from inventory_server.migrate.runner import SessionSettings
from inventory_server.migrate.templates import create_migration

PROG = "inventory-migrate"
DURATION = re.compile(r"^\d+(\.\d+)?\s*(us|ms|s|min|h|d)?$")

# option -> (environment variable, default)
ENVIRONMENT: dict[str, tuple[str, str]] = {
    "database_url": ("DATABASE_URL", ""),
    "dir": ("INVENTORY_MIGRATIONS_DIR", ""),
    "wait_for_db": ("INVENTORY_MIGRATE_WAIT_FOR_DB", "0"),
    "lock_wait": ("INVENTORY_MIGRATE_LOCK_WAIT", str(DEFAULT_LOCK_WAIT_SECONDS)),
    "lock_timeout": ("INVENTORY_MIGRATE_LOCK_TIMEOUT", "10s"),
    "statement_timeout": ("INVENTORY_MIGRATE_STATEMENT_TIMEOUT", "0"),
}


def build_parser() -> argparse.ArgumentParser:
    """The argument parser; common options are accepted before or after the command."""
    common = argparse.ArgumentParser(add_help=False, argument_default=argparse.SUPPRESS)
    common.add_argument("--database-url", metavar="DSN", help="PostgreSQL DSN (env DATABASE_URL)")
    common.add_argument("--dir", metavar="PATH", help="migrations folder (env INVENTORY_MIGRATIONS_DIR)")
    common.add_argument(
        "--wait-for-db",
        metavar="SECONDS",
        type=float,
        help="keep retrying the connection this long (env INVENTORY_MIGRATE_WAIT_FOR_DB, default 0)",
    )
    common.add_argument(
        "--lock-wait",
        metavar="SECONDS",
        type=float,
        help="wait this long for another migrator's lock (env INVENTORY_MIGRATE_LOCK_WAIT, default 60)",
    )
    common.add_argument(
        "--lock-timeout",
        metavar="DURATION",
        help="PostgreSQL lock_timeout for migration statements "
        "(env INVENTORY_MIGRATE_LOCK_TIMEOUT, default 10s)",
    )
    common.add_argument(
        "--statement-timeout",
        metavar="DURATION",
        help="PostgreSQL statement_timeout for migration statements "
        "(env INVENTORY_MIGRATE_STATEMENT_TIMEOUT, default 0 = none)",
    )
    common.add_argument(
        "--allow-out-of-order",
        action="store_true",
        help="apply pending migrations whose version is below the latest applied one",
    )

    parser = argparse.ArgumentParser(
        prog=PROG,
        parents=[common],
        description="Apply, inspect and roll back the inventory database schema migrations.",
        epilog="exit codes: 0 ok, 1 migration failed, 2 usage, 3 validation failed, 4 lock timeout, "
        "5 database unreachable",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    status = commands.add_parser(
        "status", parents=[common], help="list applied, pending, changed and missing migrations"
    )
    status.add_argument("--json", action="store_true", help="print JSON instead of a table")

    migrate = commands.add_parser("migrate", parents=[common], help="apply pending migrations")
    migrate.add_argument("--to", type=int, metavar="VERSION", help="stop after this version")
    migrate.add_argument(
        "--dry-run", action="store_true", help="print the SQL that would run; execute nothing"
    )

    create = commands.add_parser("create", parents=[common], help="write a new migration template")
    create.add_argument(
        "--description", required=True, help="what the migration does (becomes the file name)"
    )
    create.add_argument("--version", type=int, help="version number (default: the next one)")
    create.add_argument("--python", action="store_true", help="a Python migration instead of SQL")

    rollback = commands.add_parser("rollback", parents=[common], help="run down parts, newest first")
    which = rollback.add_mutually_exclusive_group()
    which.add_argument(
        "--version", type=int, help="roll back every applied migration down to and including this one"
    )
    which.add_argument("--steps", type=int, help="roll back this many migrations (default 1)")
    rollback.add_argument(
        "--dry-run", action="store_true", help="print the SQL that would run; execute nothing"
    )

    commands.add_parser(
        "validate", parents=[common], help="check files against the history; exit 3 on problems"
    )

    baseline = commands.add_parser(
        "baseline", parents=[common], help="mark migrations up to VERSION applied without running them"
    )
    baseline.add_argument("--version", type=int, required=True)

    repair = commands.add_parser(
        "repair", parents=[common], help="remove failed history rows after manual cleanup"
    )
    repair.add_argument(
        "--update-checksums",
        action="store_true",
        help="also accept the current checksum of edited applied files",
    )
    return parser


def main(argv: Sequence[str] | None = None, environ: Mapping[str, str] | None = None) -> int:
    """Run the command line; returns the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    env = os.environ if environ is None else environ
    try:
        return _dispatch(args, env)
    except MigrationError as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except psycopg.OperationalError as exc:  # the connection broke outside any migration step
        print(f"{PROG}: error: lost the database: {exc}", file=sys.stderr)
        return EXIT_DATABASE_UNREACHABLE
    except psycopg.Error as exc:  # e.g. no privilege to create the history table
        print(f"{PROG}: error: {type(exc).__name__}: {exc}", file=sys.stderr)
        return EXIT_MIGRATION_FAILED


def _option(args: argparse.Namespace, env: Mapping[str, str], name: str) -> str:
    value = getattr(args, name, None)
    if value is not None:
        return str(value)
    variable, default = ENVIRONMENT[name]
    return env.get(variable, "") or default


def _seconds(args: argparse.Namespace, env: Mapping[str, str], name: str) -> float:
    raw = _option(args, env, name)
    try:
        value = float(raw)
    except ValueError:
        raise UsageError(f"--{name.replace('_', '-')}: expected seconds, got {raw!r}") from None
    if value < 0:
        raise UsageError(f"--{name.replace('_', '-')}: must not be negative")
    return value


def _duration(args: argparse.Namespace, env: Mapping[str, str], name: str) -> str:
    raw = _option(args, env, name).strip()
    if not DURATION.match(raw):
        raise UsageError(
            f"--{name.replace('_', '-')}: expected a duration such as 10s, 500ms or 0, got {raw!r}"
        )
    return raw


def _settings(args: argparse.Namespace, env: Mapping[str, str]) -> MigratorSettings:
    from inventory_server.migrate import DEFAULT_MIGRATIONS_DIR

    directory = _option(args, env, "dir")
    return MigratorSettings(
        directory=Path(directory) if directory else DEFAULT_MIGRATIONS_DIR,
        lock_wait_seconds=_seconds(args, env, "lock_wait"),
        connect_wait_seconds=_seconds(args, env, "wait_for_db"),
        session=SessionSettings(
            lock_timeout=_duration(args, env, "lock_timeout"),
            statement_timeout=_duration(args, env, "statement_timeout"),
        ),
        allow_out_of_order=bool(getattr(args, "allow_out_of_order", False)),
    )


def _dispatch(args: argparse.Namespace, env: Mapping[str, str]) -> int:
    settings = _settings(args, env)
    if args.command == "create":
        path = create_migration(
            settings.directory, args.description, version=args.version, python=args.python
        )
        print(f"created {path}")
        return EXIT_OK
    dsn = _option(args, env, "database_url")
    if not dsn:
        print(f"{PROG}: error: no database: set DATABASE_URL or pass --database-url", file=sys.stderr)
        return EXIT_USAGE
    migrator = Migrator(dsn, settings, report=_say)
    if args.command == "status":
        print_status(migrator.status(), as_json=args.json, allow_out_of_order=settings.allow_out_of_order)
    elif args.command == "validate":
        entries = migrator.validate()
        print(f"ok: {len(entries)} migrations checked")
    elif args.command == "migrate":
        applied = migrator.migrate(target=args.to, dry_run=args.dry_run)
        if args.dry_run:
            print(f"-- dry run: {len(applied)} migrations would be applied; nothing was executed")
    elif args.command == "rollback":
        undone = migrator.rollback(version=args.version, steps=args.steps, dry_run=args.dry_run)
        if args.dry_run:
            print(f"-- dry run: {len(undone)} migrations would be rolled back; nothing was executed")
    elif args.command == "baseline":
        marked = migrator.baseline(args.version)
        print(f"baseline: {len(marked)} migrations marked applied")
    elif args.command == "repair":
        migrator.repair(update_checksums=args.update_checksums)
    return EXIT_OK


def _say(message: str) -> None:
    print(message, flush=True)
