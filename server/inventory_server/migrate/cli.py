"""``inventory-migrate``: the command line of the migration engine.

Exit codes (see ``errors.py``): 0 success, 1 migration failed, 2 usage error,
3 validation failed, 4 lock timeout, 5 database unreachable. A reader that
closes stdout early (``status --json | head -1``) changes none of them: the
rest of the output is discarded and the command finishes its work.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import sys
import textwrap
from collections.abc import Mapping, Sequence
from pathlib import Path

import psycopg

from inventory_server import __version__
from inventory_server.migrate.apply import SessionSettings
from inventory_server.migrate.engine import DEFAULT_LOCK_WAIT_SECONDS, Migrator, MigratorSettings
from inventory_server.migrate.errors import (
    EXIT_DATABASE_UNREACHABLE,
    EXIT_MIGRATION_FAILED,
    EXIT_OK,
    EXIT_USAGE,
    MigrationError,
    UsageError,
)
from inventory_server.migrate.files import MAX_VERSION
from inventory_server.migrate.report import format_status
from inventory_server.migrate.templates import create_migration
from inventory_server.secret_files import (
    SecretFileError,
    command_line_password_warning,
    pick_secret,
    secret_from_environment,
)

PROG = "inventory-migrate"
DURATION = re.compile(r"^\d+(\.\d+)?\s*(us|ms|s|min|h|d)?$", re.ASCII)

# option -> (environment variable, default); DATABASE_URL is a secret and read apart (DATABASE_URL_FILE)
ENVIRONMENT: dict[str, tuple[str, str]] = {
    "dir": ("INVENTORY_MIGRATIONS_DIR", ""),
    "wait_for_db": ("INVENTORY_MIGRATE_WAIT_FOR_DB", "0"),
    "lock_wait": ("INVENTORY_MIGRATE_LOCK_WAIT", str(DEFAULT_LOCK_WAIT_SECONDS)),
    "lock_timeout": ("INVENTORY_MIGRATE_LOCK_TIMEOUT", "10s"),
    "statement_timeout": ("INVENTORY_MIGRATE_STATEMENT_TIMEOUT", "0"),
}

EXIT_CODES = (
    "exit codes: 0 ok (also: nothing to do), 1 migration failed, 2 usage error,\n"
    "3 validation failed (incl. malformed files), 4 lock timeout, 5 database unreachable"
)
EXAMPLES = """examples:
  DATABASE_URL_FILE=/run/secrets/database-url inventory-migrate migrate --wait-for-db 60
  inventory-migrate status --json
  inventory-migrate migrate --dry-run --to 12
  inventory-migrate rollback --steps 1
  inventory-migrate create --description "add supplier table"
"""


class HelpFormatter(argparse.RawDescriptionHelpFormatter):
    """Keeps the examples' line breaks; defaults are written into each option's help."""


def version_number(text: str) -> int:
    """A migration version: ASCII digits only, within PostgreSQL's bigint."""
    if not (text.isascii() and text.isdigit()):
        raise argparse.ArgumentTypeError(f"{text!r} is not a version (ASCII digits 0-9 only)")
    value = int(text)
    if value > MAX_VERSION:
        raise argparse.ArgumentTypeError(f"{text} is beyond the largest bigint ({MAX_VERSION})")
    return value


def step_count(text: str) -> int:
    """A positive number of migrations."""
    if not (text.isascii() and text.isdigit()) or int(text) < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a positive whole number")
    return int(text)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser; common options are accepted before or after the command."""
    common = argparse.ArgumentParser(add_help=False, argument_default=argparse.SUPPRESS)
    common.add_argument(
        "--database-url",
        metavar="DSN",
        help="PostgreSQL DSN (env DATABASE_URL; required except for create). A password given here "
        "shows in the process list: prefer DATABASE_URL_FILE or --database-url-file",
    )
    common.add_argument(
        "--database-url-file",
        metavar="PATH",
        help="read the DSN from this file, e.g. a mounted Kubernetes Secret (env DATABASE_URL_FILE; "
        "setting it together with the DSN itself is an error)",
    )
    common.add_argument(
        "--dir",
        metavar="PATH",
        help="migrations folder (env INVENTORY_MIGRATIONS_DIR; default: the migrations shipped "
        "in the package, or the checkout's migrations/)",
    )
    common.add_argument(
        "--wait-for-db",
        metavar="SECONDS",
        type=float,
        help="keep retrying the connection this long (env INVENTORY_MIGRATE_WAIT_FOR_DB; default 0)",
    )
    common.add_argument(
        "--lock-wait",
        metavar="SECONDS",
        type=float,
        help="wait this long for another migrator's lock, then exit 4 "
        f"(env INVENTORY_MIGRATE_LOCK_WAIT; default {DEFAULT_LOCK_WAIT_SECONDS:g})",
    )
    common.add_argument(
        "--lock-timeout",
        metavar="DURATION",
        help="PostgreSQL lock_timeout for migration statements, e.g. 10s, 500ms "
        "(env INVENTORY_MIGRATE_LOCK_TIMEOUT; default 10s)",
    )
    common.add_argument(
        "--statement-timeout",
        metavar="DURATION",
        help="PostgreSQL statement_timeout for migration statements "
        "(env INVENTORY_MIGRATE_STATEMENT_TIMEOUT; default 0 = none)",
    )
    common.add_argument(
        "--allow-out-of-order",
        action="store_true",
        help="apply pending migrations whose version is below the latest applied one (default: refuse)",
    )

    parser = argparse.ArgumentParser(
        prog=PROG,
        parents=[common],
        formatter_class=HelpFormatter,
        description="Apply, inspect and roll back the inventory database schema migrations.",
        epilog=f"{EXIT_CODES}\n\n{EXAMPLES}",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(name: str, summary: str, description: str, example: str) -> argparse.ArgumentParser:
        return commands.add_parser(
            name,
            parents=[common],
            help=summary,
            description=textwrap.fill(description, 78),
            epilog=f"example:\n  {example}\n\n{EXIT_CODES}",
            formatter_class=HelpFormatter,
        )

    status = command(
        "status",
        "list applied, pending, changed and missing migrations",
        "One line per version (applied, pending, changed, missing, failed), the counts and every "
        "problem. Takes no lock and writes nothing; exits 0 even when there are problems "
        "(use validate to gate).",
        "inventory-migrate status --json",
    )
    status.add_argument("--json", action="store_true", help="print JSON instead of a table (default: table)")

    migrate = command(
        "migrate",
        "apply pending migrations",
        "Apply pending migrations in version order, each in its own transaction (unless marked "
        "no-transaction), under an advisory lock. Exit 0 when the schema is already up to date.",
        "inventory-migrate migrate --to 12 --dry-run",
    )
    migrate.add_argument(
        "--to", type=version_number, metavar="VERSION", help="stop after this version (default: the latest)"
    )
    migrate.add_argument(
        "--dry-run",
        action="store_true",
        help="print the plan (the SQL, and which up() of a Python migration would run); "
        "execute nothing, not even Python migration module code",
    )

    create = command(
        "create",
        "write a new migration template",
        "Write a SQL (or Python) migration template with the next version; needs no database.",
        'inventory-migrate create --description "add supplier table" --python',
    )
    create.add_argument(
        "--description", required=True, help="what the migration does (becomes the file name; required)"
    )
    create.add_argument(
        "--version",
        type=version_number,
        metavar="VERSION",
        help="version number (default: one above the highest file)",
    )
    create.add_argument(
        "--python", action="store_true", help="a Python data migration instead of SQL (default: SQL)"
    )

    rollback = command(
        "rollback",
        "run down parts, newest first",
        "Run the down parts of applied migrations in reverse applied order. Refuses (exit 3) before "
        "changing anything when one of them has no down part, no file or an edited file.",
        "inventory-migrate rollback --version 11 --dry-run",
    )
    which = rollback.add_mutually_exclusive_group()
    which.add_argument(
        "--version",
        type=version_number,
        metavar="VERSION",
        help="roll back every applied migration down to and including this one (default: use --steps)",
    )
    which.add_argument(
        "--steps", type=step_count, metavar="N", help="roll back this many migrations (default 1)"
    )
    rollback.add_argument(
        "--dry-run",
        action="store_true",
        help="print the down SQL (and which down() of a Python migration would run); execute nothing",
    )

    command(
        "validate",
        "check files against the history; exit 3 on problems",
        "Check every file (name, encoding, SQL parse, Python import) against the history: exit 3 on an "
        "edited or missing applied file, an out-of-order version or a failed row.",
        "inventory-migrate validate",
    )

    baseline = command(
        "baseline",
        "mark migrations up to VERSION applied without running them",
        "Adopt an existing database: mark every migration up to VERSION applied (baseline) "
        "without running it; migrate then applies only what comes after.",
        "inventory-migrate baseline --version 5",
    )
    baseline.add_argument(
        "--version", type=version_number, metavar="VERSION", required=True, help="the last version to mark"
    )

    repair = command(
        "repair",
        "remove failed history rows after manual cleanup",
        "Delete the history rows of failed non-transactional migrations (after you cleaned up by "
        "hand); the next migrate runs them again.",
        "inventory-migrate repair",
    )
    repair.add_argument(
        "--update-checksums",
        action="store_true",
        help="also accept the current checksum of edited applied files (default: off)",
    )
    return parser


def main(argv: Sequence[str] | None = None, environ: Mapping[str, str] | None = None) -> int:
    """Run the command line; returns the exit code."""
    try:
        return _main(argv, environ)
    except BrokenPipeError:  # e.g. `--help | head -1`: the reader left; nothing is wrong
        discard_stdout()
        return EXIT_OK


def _main(argv: Sequence[str] | None, environ: Mapping[str, str] | None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    env = os.environ if environ is None else environ
    try:
        return _dispatch(args, env)
    except MigrationError as exc:
        _complain(f"{PROG}: error: {exc}")
        return exc.exit_code
    except psycopg.OperationalError as exc:  # the connection broke outside any migration step
        _complain(f"{PROG}: error: lost the database: {exc}")
        return EXIT_DATABASE_UNREACHABLE
    except psycopg.Error as exc:  # e.g. no privilege to create the history table
        _complain(f"{PROG}: error: {type(exc).__name__}: {exc}")
        return EXIT_MIGRATION_FAILED


def database_url(args: argparse.Namespace, env: Mapping[str, str]) -> str:
    """The DSN: --database-url or --database-url-file, else DATABASE_URL or DATABASE_URL_FILE."""
    try:
        given = pick_secret(
            getattr(args, "database_url", None),
            getattr(args, "database_url_file", None),
            "--database-url",
            "--database-url-file",
        )
        return given or secret_from_environment("DATABASE_URL", env) or ""
    except SecretFileError as exc:
        raise UsageError(str(exc)) from None


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
        _say(f"created {path}")
        return EXIT_OK
    warning = command_line_password_warning(
        "--database-url",
        getattr(args, "database_url", None),
        alternatives="DATABASE_URL_FILE, --database-url-file or DATABASE_URL",
    )
    if warning:
        _complain(f"{PROG}: {warning}")
    dsn = database_url(args, env)
    if not dsn:
        _complain(
            f"{PROG}: error: no database: set DATABASE_URL or DATABASE_URL_FILE, or pass --database-url-file"
        )
        return EXIT_USAGE
    migrator = Migrator(dsn, settings, report=_say)
    if args.command == "status":
        entries = migrator.status()
        _say(format_status(entries, as_json=args.json, allow_out_of_order=settings.allow_out_of_order))
    elif args.command == "validate":
        entries = migrator.validate()
        _say(f"ok: {len(entries)} migrations checked")
    elif args.command == "migrate":
        applied = migrator.migrate(target=args.to, dry_run=args.dry_run)
        if args.dry_run:
            _say(f"-- dry run: {len(applied)} migrations would be applied; nothing was executed")
    elif args.command == "rollback":
        undone = migrator.rollback(version=args.version, steps=args.steps, dry_run=args.dry_run)
        if args.dry_run:
            _say(f"-- dry run: {len(undone)} migrations would be rolled back; nothing was executed")
    elif args.command == "baseline":
        marked = migrator.baseline(args.version)
        _say(f"baseline: {len(marked)} migrations marked applied")
    elif args.command == "repair":
        migrator.repair(update_checksums=args.update_checksums)
    return EXIT_OK


def _say(message: str) -> None:
    """Print a line of output. When the reader has gone (a closed pipe), the rest of the output
    is discarded and the command goes on: a ``migrate ... | head`` must not stop half-way."""
    try:
        print(message, flush=True)
    except BrokenPipeError:
        discard_stdout()


def _complain(message: str) -> None:
    """Print to stderr; a closed stderr must not turn a failure's exit code into a traceback (or 0)."""
    with contextlib.suppress(BrokenPipeError):
        print(message, file=sys.stderr, flush=True)


def discard_stdout() -> None:
    """Point stdout at /dev/null, so neither later prints nor the interpreter's final flush
    raise BrokenPipeError again (the recipe of the Python ``signal`` documentation)."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        try:
            os.dup2(devnull, sys.stdout.fileno())
        finally:
            os.close(devnull)
    except (OSError, ValueError, AttributeError):  # stdout replaced by something without a descriptor
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - lives as long as the process
