"""Helpers shared by the migration engine tests (imported as ``migrate_helpers``)."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parents[3]


@dataclass
class MigrationDir:
    """A scratch migrations folder."""

    path: Path

    def write(self, name: str, text: str) -> Path:
        file = self.path / name
        file.write_text(text, encoding="utf-8")
        return file


@dataclass(frozen=True)
class CliResult:
    code: int
    out: str
    err: str

    @property
    def text(self) -> str:
        return self.out + self.err


def spawn_cli(dsn: str, directory: Path | None, *argv: str) -> subprocess.Popen[str]:
    """Start ``python -m inventory_server.migrate`` as a separate process."""
    env = {**os.environ, "DATABASE_URL": dsn}
    env.pop("INVENTORY_MIGRATIONS_DIR", None)
    if directory is not None:
        env["INVENTORY_MIGRATIONS_DIR"] = str(directory)
    return subprocess.Popen(
        [sys.executable, "-m", "inventory_server.migrate", *argv],
        env=env,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def query(dsn: str, sql: str, params: tuple[object, ...] = ()) -> list[tuple[object, ...]]:
    with psycopg.connect(dsn, autocommit=True) as conn:
        return conn.execute(sql, params).fetchall()


def user_tables(dsn: str) -> list[str]:
    rows = query(dsn, "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1")
    return [str(row[0]) for row in rows]


def history(dsn: str) -> list[tuple[object, ...]]:
    """(version, success, baseline) per history row, in applied order."""
    return query(dsn, "SELECT version, success, baseline FROM schema_migrations ORDER BY installed_rank")


CATALOG_QUERIES = {
    "columns": """
        SELECT table_name, column_name, ordinal_position, data_type, is_nullable, column_default
        FROM information_schema.columns WHERE table_schema = 'public' AND table_name <> 'schema_migrations'
        ORDER BY 1, 3""",
    "constraints": """
        SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid)
        FROM pg_constraint WHERE connamespace = 'public'::regnamespace
          AND conrelid <> 'schema_migrations'::regclass ORDER BY 1, 2""",
    "indexes": """
        SELECT tablename, indexname, indexdef FROM pg_indexes
        WHERE schemaname = 'public' AND tablename <> 'schema_migrations' ORDER BY 1, 2""",
    "invalid_indexes": "SELECT indexrelid::regclass::text FROM pg_index WHERE NOT indisvalid ORDER BY 1",
    "triggers": """
        SELECT tgrelid::regclass::text, tgname, pg_get_triggerdef(oid) FROM pg_trigger
        WHERE NOT tgisinternal ORDER BY 1, 2""",
    "functions": """
        SELECT proname, pg_get_functiondef(oid) FROM pg_proc
        WHERE pronamespace = 'public'::regnamespace ORDER BY 1""",
    "transaction_types": """
        SELECT code, description, on_hand_effect, reserved_effect FROM transaction_types ORDER BY 1""",
}


def catalog_snapshot(dsn: str) -> dict[str, list[tuple[object, ...]]]:
    """Everything about the schema that a rerun of the migrations must reproduce."""
    return {name: query(dsn, sql) for name, sql in CATALOG_QUERIES.items()}


def execute(dsn: str, sql: str) -> None:
    """Run statements that return no rows."""
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(sql)
