"""The engine on scratch migration folders: failures, validation, dry runs, rollback, baseline, repair."""

from __future__ import annotations

import json
import time
from collections.abc import Callable

from inventory_server.migrate.errors import (
    EXIT_DATABASE_UNREACHABLE,
    EXIT_MIGRATION_FAILED,
    EXIT_USAGE,
    EXIT_VALIDATION_FAILED,
)

from .migrate_helpers import CliResult, MigrationDir, execute, history, query, user_tables

Cli = Callable[..., CliResult]

CREATE_A = "-- migrate:up\nCREATE TABLE a (id int);\n-- migrate:down\nDROP TABLE a;\n"
CREATE_B = "-- migrate:up\nCREATE TABLE b (id int);\n-- migrate:down\nDROP TABLE b;\n"
CREATE_C = "-- migrate:up\nCREATE TABLE c (id int);\n-- migrate:down\nDROP TABLE c;\n"
BROKEN = """-- Creates two tables, then fails on the third statement.
-- migrate:up
CREATE TABLE b (id int);
CREATE TABLE b2 (id int);
INSERT INTO no_such_table
    VALUES (1);
-- migrate:down
DROP TABLE b2;
DROP TABLE b;
"""


def test_failing_migration_leaves_nothing_and_names_file_and_statement(
    empty_dsn: str, migration_dir: MigrationDir, cli: Cli
) -> None:
    migration_dir.write("0001_a.sql", CREATE_A)
    migration_dir.write("0002_broken.sql", BROKEN)
    result = cli(empty_dsn, migration_dir.path, "migrate")
    assert result.code == EXIT_MIGRATION_FAILED
    assert "0002_broken.sql" in result.err
    assert "statement 3 (line 5): INSERT INTO no_such_table" in result.err
    assert "42P01" in result.err
    assert user_tables(empty_dsn) == ["a", "schema_migrations"]
    assert history(empty_dsn) == [(1, True, False)]

    migration_dir.write("0002_broken.sql", BROKEN.replace("INSERT INTO no_such_table", "INSERT INTO b2"))
    fixed = cli(empty_dsn, migration_dir.path, "migrate")
    assert fixed.code == 0, fixed.text
    assert user_tables(empty_dsn) == ["a", "b", "b2", "schema_migrations"]
    assert history(empty_dsn) == [(1, True, False), (2, True, False)]


def test_failing_python_migration_is_rolled_back(
    empty_dsn: str, migration_dir: MigrationDir, cli: Cli
) -> None:
    migration_dir.write(
        "0001_data.py",
        "def up(conn):\n    conn.execute('CREATE TABLE half (id int)')\n    raise ValueError('bad data')\n",
    )
    result = cli(empty_dsn, migration_dir.path, "migrate")
    assert result.code == EXIT_MIGRATION_FAILED
    assert "0001_data.py" in result.err
    assert "ValueError: bad data" in result.err
    assert user_tables(empty_dsn) == ["schema_migrations"]
    assert history(empty_dsn) == []


def test_failed_non_transactional_migration_blocks_until_repair(
    empty_dsn: str, migration_dir: MigrationDir, cli: Cli
) -> None:
    migration_dir.write("0001_a.sql", CREATE_A)
    broken = (
        "-- migrate:no-transaction\n-- migrate:up\n"
        "CREATE INDEX CONCURRENTLY IF NOT EXISTS a_id_idx ON a (id);\nSELECT 1 / 0;\n"
        "-- migrate:down\nDROP INDEX CONCURRENTLY IF EXISTS a_id_idx;\n"
    )
    migration_dir.write("0002_index.sql", broken)
    failed = cli(empty_dsn, migration_dir.path, "migrate")
    assert failed.code == EXIT_MIGRATION_FAILED
    assert "0002_index.sql" in failed.err
    assert "statement 2 (line 4): SELECT 1 / 0" in failed.err
    assert history(empty_dsn) == [(1, True, False), (2, False, False)]
    assert query(empty_dsn, "SELECT to_regclass('a_id_idx') IS NOT NULL") == [
        (True,)
    ]  # stays: no transaction

    migration_dir.write("0002_index.sql", broken.replace("SELECT 1 / 0;\n", ""))
    blocked = cli(empty_dsn, migration_dir.path, "migrate")
    assert blocked.code == EXIT_VALIDATION_FAILED
    assert "repair" in blocked.err
    status = json.loads(cli(empty_dsn, migration_dir.path, "status", "--json").out)
    assert [m["state"] for m in status["migrations"]] == ["applied", "failed"]

    repaired = cli(empty_dsn, migration_dir.path, "repair")
    assert repaired.code == 0, repaired.text
    assert "removed failed history row of version 2" in repaired.out
    done = cli(empty_dsn, migration_dir.path, "migrate")
    assert done.code == 0, done.text
    assert history(empty_dsn) == [(1, True, False), (2, True, False)]


def test_edited_applied_file_fails_validation_with_both_checksums(
    empty_dsn: str, migration_dir: MigrationDir, cli: Cli
) -> None:
    path = migration_dir.write("0001_a.sql", CREATE_A)
    assert cli(empty_dsn, migration_dir.path, "migrate").code == 0
    path.write_text(CREATE_A.replace("id int", "id bigint"), encoding="utf-8")
    migration_dir.write("0002_b.sql", CREATE_B)
    for command in ("validate", "migrate"):
        result = cli(empty_dsn, migration_dir.path, command)
        assert result.code == EXIT_VALIDATION_FAILED, command
        assert "0001_a.sql: changed after it was applied" in result.err
        assert result.err.count("checksum") == 2
    assert user_tables(empty_dsn) == ["a", "schema_migrations"]  # 0002 was not applied

    path.write_text(CREATE_A, encoding="utf-8")
    assert cli(empty_dsn, migration_dir.path, "validate").code == 0


def test_repair_can_accept_an_edited_checksum(empty_dsn: str, migration_dir: MigrationDir, cli: Cli) -> None:
    path = migration_dir.write("0001_a.sql", CREATE_A)
    assert cli(empty_dsn, migration_dir.path, "migrate").code == 0
    path.write_text("-- a harmless comment\n" + CREATE_A, encoding="utf-8")
    assert cli(empty_dsn, migration_dir.path, "validate").code == EXIT_VALIDATION_FAILED
    assert cli(empty_dsn, migration_dir.path, "repair", "--update-checksums").code == 0
    assert cli(empty_dsn, migration_dir.path, "validate").code == 0


def test_missing_applied_file_fails_validation(empty_dsn: str, migration_dir: MigrationDir, cli: Cli) -> None:
    migration_dir.write("0001_a.sql", CREATE_A)
    path = migration_dir.write("0002_b.sql", CREATE_B)
    assert cli(empty_dsn, migration_dir.path, "migrate").code == 0
    path.unlink()
    result = cli(empty_dsn, migration_dir.path, "validate")
    assert result.code == EXIT_VALIDATION_FAILED
    assert "version 2 (b): applied, but its file is missing" in result.err
    status = cli(empty_dsn, migration_dir.path, "status")
    assert "missing" in status.out


def test_out_of_order_version_is_refused_unless_allowed(
    empty_dsn: str, migration_dir: MigrationDir, cli: Cli
) -> None:
    migration_dir.write("0001_a.sql", CREATE_A)
    migration_dir.write("0003_c.sql", CREATE_C)
    assert cli(empty_dsn, migration_dir.path, "migrate").code == 0
    migration_dir.write("0002_b.sql", CREATE_B)
    refused = cli(empty_dsn, migration_dir.path, "migrate")
    assert refused.code == EXIT_VALIDATION_FAILED
    assert "0002_b.sql: version 2 is below the latest applied version 3" in refused.err
    assert "b" not in user_tables(empty_dsn)
    allowed = cli(empty_dsn, migration_dir.path, "migrate", "--allow-out-of-order")
    assert allowed.code == 0, allowed.text
    # Rollback follows the applied order: 0002 went in last, so it comes out first.
    assert cli(empty_dsn, migration_dir.path, "rollback").code == 0
    assert [row[0] for row in history(empty_dsn)] == [1, 3]


def test_dry_runs_print_the_sql_and_execute_nothing(
    empty_dsn: str, migration_dir: MigrationDir, cli: Cli
) -> None:
    migration_dir.write("0001_a.sql", CREATE_A)
    migration_dir.write(
        "0002_seed.py", '"""Seed the a table."""\n\ndef up(conn):\n    pass\n\ndef down(conn):\n    pass\n'
    )
    planned = cli(empty_dsn, migration_dir.path, "migrate", "--dry-run")
    assert planned.code == 0, planned.text
    assert "CREATE TABLE a (id int);" in planned.out
    assert "-- up 0002_seed.py" in planned.out
    assert "Seed the a table." in planned.out
    assert user_tables(empty_dsn) == []  # not even the history table

    assert cli(empty_dsn, migration_dir.path, "migrate").code == 0
    undo = cli(empty_dsn, migration_dir.path, "rollback", "--steps", "2", "--dry-run")
    assert undo.code == 0, undo.text
    assert "DROP TABLE a;" in undo.out
    assert undo.out.index("0002_seed.py") < undo.out.index("0001_a.sql")
    assert user_tables(empty_dsn) == ["a", "schema_migrations"]
    assert [row[0] for row in history(empty_dsn)] == [1, 2]


def test_rollback_refuses_when_a_down_part_is_missing(
    empty_dsn: str, migration_dir: MigrationDir, cli: Cli
) -> None:
    migration_dir.write("0001_a.sql", CREATE_A)
    migration_dir.write("0002_b.sql", "-- migrate:up\nCREATE TABLE b (id int);\n")
    migration_dir.write("0003_c.sql", CREATE_C)
    assert cli(empty_dsn, migration_dir.path, "migrate").code == 0
    result = cli(empty_dsn, migration_dir.path, "rollback", "--version", "1")
    assert result.code == EXIT_VALIDATION_FAILED
    assert "0002_b.sql: has no down part" in result.err
    assert user_tables(empty_dsn) == ["a", "b", "c", "schema_migrations"]  # nothing was rolled back
    assert cli(empty_dsn, migration_dir.path, "rollback", "--steps", "1").code == 0
    assert user_tables(empty_dsn) == ["a", "b", "schema_migrations"]


def test_rollback_of_an_unapplied_version_is_a_usage_error(
    empty_dsn: str, migration_dir: MigrationDir, cli: Cli
) -> None:
    migration_dir.write("0001_a.sql", CREATE_A)
    migration_dir.write("0002_b.sql", CREATE_B)
    assert cli(empty_dsn, migration_dir.path, "migrate", "--to", "1").code == 0
    assert cli(empty_dsn, migration_dir.path, "rollback", "--version", "2").code == EXIT_USAGE
    assert cli(empty_dsn, migration_dir.path, "migrate", "--to", "7").code == EXIT_USAGE
    assert [row[0] for row in history(empty_dsn)] == [1]


def test_baseline_adopts_an_existing_database(empty_dsn: str, migration_dir: MigrationDir, cli: Cli) -> None:
    execute(empty_dsn, "CREATE TABLE a (id int); CREATE TABLE b (id int)")
    migration_dir.write("0001_a.sql", CREATE_A)
    migration_dir.write("0002_b.sql", CREATE_B)
    migration_dir.write("0003_c.sql", CREATE_C)
    marked = cli(empty_dsn, migration_dir.path, "baseline", "--version", "2")
    assert marked.code == 0, marked.text
    assert history(empty_dsn) == [(1, True, True), (2, True, True)]
    applied = cli(empty_dsn, migration_dir.path, "migrate")
    assert applied.code == 0, applied.text
    assert "applied 0003_c.sql" in applied.out
    assert "0001_a.sql" not in applied.out
    assert history(empty_dsn)[-1] == (3, True, False)


def test_created_templates_can_be_applied_and_rolled_back(
    empty_dsn: str, migration_dir: MigrationDir, cli: Cli
) -> None:
    assert cli(empty_dsn, migration_dir.path, "create", "--description", "Add widgets").code == 0
    assert cli(empty_dsn, migration_dir.path, "create", "--description", "Seed widgets", "--python").code == 0
    assert cli(empty_dsn, migration_dir.path, "create", "--description", "empty step").code == 0
    sql_file = migration_dir.path / "0001_add_widgets.sql"
    py_file = migration_dir.path / "0002_seed_widgets.py"
    assert sql_file.is_file()
    assert py_file.is_file()
    assert (migration_dir.path / "0003_empty_step.sql").is_file()
    sql_text = sql_file.read_text(encoding="utf-8")
    sql_file.write_text(
        sql_text.replace("-- migrate:up\n", "-- migrate:up\nCREATE TABLE widgets (name text);\n").replace(
            "-- migrate:down\n", "-- migrate:down\nDROP TABLE widgets;\n"
        ),
        encoding="utf-8",
    )
    py_text = py_file.read_text(encoding="utf-8")
    py_file.write_text(
        py_text.replace(
            '"""Apply the change. Pass values as parameters: conn.execute("...%s...", (value,))."""',
            '"""Apply."""\n    conn.execute("INSERT INTO widgets VALUES (%s)", ("gear",))',
        ).replace(
            '"""Undo what up() did. Delete this function if the change cannot be undone."""',
            '"""Undo."""\n    conn.execute("DELETE FROM widgets")',
        ),
        encoding="utf-8",
    )
    applied = cli(empty_dsn, migration_dir.path, "migrate")
    assert applied.code == 0, applied.text
    assert query(empty_dsn, "SELECT name FROM widgets") == [("gear",)]
    kinds = query(empty_dsn, "SELECT version, kind FROM schema_migrations ORDER BY version")
    assert kinds == [(1, "sql"), (2, "python"), (3, "sql")]
    undone = cli(empty_dsn, migration_dir.path, "rollback", "--steps", "3")
    assert undone.code == 0, undone.text
    assert user_tables(empty_dsn) == ["schema_migrations"]
    assert history(empty_dsn) == []


def test_unreachable_database_exits_5_after_waiting_and_hides_the_password(
    migration_dir: MigrationDir, cli: Cli
) -> None:
    migration_dir.write("0001_a.sql", CREATE_A)
    dsn = "postgresql://someone:hunter2@127.0.0.1:1/nowhere?connect_timeout=1"
    started = time.monotonic()
    result = cli(dsn, migration_dir.path, "migrate", "--wait-for-db", "1")
    elapsed = time.monotonic() - started
    assert result.code == EXIT_DATABASE_UNREACHABLE
    assert 1.0 <= elapsed < 10
    assert "hunter2" not in result.text
    assert "password=***" in result.err
    assert "retrying" in result.out


def test_sql_runs_as_written_with_percent_signs_braces_and_function_bodies(
    empty_dsn: str, migration_dir: MigrationDir, cli: Cli
) -> None:
    migration_dir.write(
        "0001_literal.sql",
        "-- migrate:up\nCREATE TABLE notes (body text);\n"
        "INSERT INTO notes VALUES ('100% {sure}; really');\n"
        "CREATE FUNCTION shout(t text) RETURNS text LANGUAGE plpgsql AS $$\nBEGIN\n"
        "    RETURN upper(t) || ';';\nEND;\n$$;\n"
        "-- migrate:down\nDROP FUNCTION shout(text);\nDROP TABLE notes;\n",
    )
    result = cli(empty_dsn, migration_dir.path, "migrate")
    assert result.code == 0, result.text
    assert query(empty_dsn, "SELECT shout(body) FROM notes") == [("100% {SURE}; REALLY;",)]


def test_non_transactional_python_migration_runs_in_autocommit(
    empty_dsn: str, migration_dir: MigrationDir, cli: Cli
) -> None:
    migration_dir.write("0001_a.sql", CREATE_A)
    migration_dir.write(
        "0002_index.py",
        "TRANSACTIONAL = False\n\n"
        "def up(conn):\n    conn.execute('CREATE INDEX CONCURRENTLY a_idx ON a (id)')\n\n"
        "def down(conn):\n    conn.execute('DROP INDEX CONCURRENTLY a_idx')\n",
    )
    assert cli(empty_dsn, migration_dir.path, "migrate").code == 0
    assert history(empty_dsn) == [(1, True, False), (2, True, False)]
    valid = query(empty_dsn, "SELECT indisvalid FROM pg_index WHERE indexrelid = 'a_idx'::regclass")
    assert valid == [(True,)]
    assert cli(empty_dsn, migration_dir.path, "rollback").code == 0
    assert query(empty_dsn, "SELECT to_regclass('a_idx') IS NULL") == [(True,)]
