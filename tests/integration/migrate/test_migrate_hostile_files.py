"""Migration files that misbehave, and readers that leave early: the run fails with the documented
code (never exit 0 with nothing applied), dry runs execute nothing, closed pipes end quietly."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from inventory_server.migrate.errors import EXIT_MIGRATION_FAILED, EXIT_VALIDATION_FAILED

from .migrate_helpers import ROOT, CliResult, MigrationDir, history, user_tables

Cli = Callable[..., CliResult]

CREATE_A = "-- migrate:up\nCREATE TABLE a (id int);\n-- migrate:down\nDROP TABLE a;\n"


@pytest.mark.parametrize("code", ["0", "None", "3", "'bye'"])
@pytest.mark.parametrize("transactional", [True, False])
def test_a_migration_calling_sys_exit_fails_the_run(
    empty_dsn: str, migration_dir: MigrationDir, cli: Cli, code: str, transactional: bool
) -> None:
    migration_dir.write("0001_a.sql", CREATE_A)
    migration_dir.write(
        "0002_quits.py",
        f"import sys\nTRANSACTIONAL = {transactional}\n\n"
        f"def up(conn):\n    conn.execute('CREATE TABLE half (id int)')\n    sys.exit({code})\n",
    )
    migration_dir.write("0003_b.sql", CREATE_A.replace(" a ", " b ").replace(" a;", " b;"))
    result = cli(empty_dsn, migration_dir.path, "migrate")
    assert result.code == EXIT_MIGRATION_FAILED, result.text
    assert "0002_quits.py: up failed" in result.err
    assert "called sys.exit(" in result.err
    assert "applied 0003" not in result.out  # the run stopped at the failing migration
    if transactional:
        assert user_tables(empty_dsn) == ["a", "schema_migrations"]
        assert history(empty_dsn) == [(1, True, False)]
    else:  # recorded as failed, awaiting repair
        assert history(empty_dsn) == [(1, True, False), (2, False, False)]


def test_a_migration_exiting_at_import_time_is_a_malformed_file(
    empty_dsn: str, migration_dir: MigrationDir, cli: Cli
) -> None:
    migration_dir.write("0001_exits.py", "import sys\nsys.exit(0)\n\ndef up(conn):\n    pass\n")
    result = cli(empty_dsn, migration_dir.path, "migrate")
    assert result.code == EXIT_VALIDATION_FAILED, result.text
    assert "0001_exits.py: import called sys.exit(0)" in result.err
    assert history(empty_dsn) == []


def test_a_file_that_is_not_utf8_is_exit_3_without_a_traceback(
    empty_dsn: str, migration_dir: MigrationDir
) -> None:
    (migration_dir.path / "0001_latin1.sql").write_bytes(
        "-- Café\n-- migrate:up\nCREATE TABLE a (id int);\n".encode("latin-1")
    )
    for command in ("migrate", "validate"):
        process = run_cli(empty_dsn, migration_dir.path, command)
        assert process.returncode == EXIT_VALIDATION_FAILED, process.stderr
        assert "0001_latin1.sql: not valid UTF-8" in process.stderr
        assert "Traceback" not in process.stderr
    assert user_tables(empty_dsn) == ["schema_migrations"]


def test_a_dry_run_executes_no_python_migration_code_but_names_the_function(
    empty_dsn: str, migration_dir: MigrationDir, cli: Cli, tmp_path: Path
) -> None:
    marker = tmp_path / "module-code-ran"
    migration_dir.write(
        "0001_backfill.py",
        f'"""Backfill."""\nfrom pathlib import Path\nPath({str(marker)!r}).touch()\n\n'
        "def up(conn):\n    conn.execute('CREATE TABLE a (id int)')\n\n"
        "def down(conn):\n    conn.execute('DROP TABLE a')\n",
    )
    planned = cli(empty_dsn, migration_dir.path, "migrate", "--dry-run")
    assert planned.code == 0, planned.text
    assert "would call up(conn) of 0001_backfill.py" in planned.out
    assert not marker.exists()
    assert user_tables(empty_dsn) == []

    assert cli(empty_dsn, migration_dir.path, "migrate").code == 0
    marker.unlink()
    undo = cli(empty_dsn, migration_dir.path, "rollback", "--dry-run")
    assert undo.code == 0, undo.text
    assert "would call down(conn) of 0001_backfill.py" in undo.out
    assert not marker.exists()
    assert user_tables(empty_dsn) == ["a", "schema_migrations"]


def test_status_json_into_a_closed_pipe_ends_quietly(empty_dsn: str, migration_dir: MigrationDir) -> None:
    for version in range(1, 400):  # more than a pipe buffer of JSON
        migration_dir.write(f"{version:04d}_step_{version}.sql", f"-- migrate:up\nSELECT {version};\n")
    read_end, write_end = os.pipe()
    os.close(read_end)  # like `| head -0`: the reader is gone before the first write
    try:
        process = run_cli(empty_dsn, migration_dir.path, "status", "--json", stdout=write_end)
    finally:
        os.close(write_end)
    assert process.returncode == 0
    assert process.stderr == ""


def test_status_json_piped_into_head_ends_quietly(empty_dsn: str, migration_dir: MigrationDir) -> None:
    for version in range(1, 400):
        migration_dir.write(f"{version:04d}_step_{version}.sql", f"-- migrate:up\nSELECT {version};\n")
    env = {**os.environ, "DATABASE_URL": empty_dsn, "INVENTORY_MIGRATIONS_DIR": str(migration_dir.path)}
    shell = subprocess.run(
        [
            *("bash", "-o", "pipefail", "-c"),
            f"{sys.executable} -m inventory_server.migrate status --json | head -1",
        ],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert shell.stdout == "{\n"
    assert shell.stderr == ""
    assert shell.returncode == 0


def test_migrate_into_a_closed_pipe_still_applies_everything(
    empty_dsn: str, migration_dir: MigrationDir
) -> None:
    migration_dir.write("0001_a.sql", CREATE_A)
    migration_dir.write("0002_b.sql", CREATE_A.replace(" a ", " b ").replace(" a;", " b;"))
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        process = run_cli(empty_dsn, migration_dir.path, "migrate", stdout=write_end)
    finally:
        os.close(write_end)
    assert process.returncode == 0, process.stderr
    assert process.stderr == ""
    assert [row[0] for row in history(empty_dsn)] == [1, 2]


def test_a_failure_keeps_its_exit_code_when_stderr_is_closed(
    empty_dsn: str, migration_dir: MigrationDir
) -> None:
    migration_dir.write("0001_broken.sql", "-- migrate:up\nSELECT * FROM no_such_table;\n")
    read_end, write_end = os.pipe()
    os.close(read_end)
    env = {**os.environ, "DATABASE_URL": empty_dsn, "INVENTORY_MIGRATIONS_DIR": str(migration_dir.path)}
    try:
        process = subprocess.run(
            [sys.executable, "-m", "inventory_server.migrate", "migrate"],
            env=env,
            cwd=ROOT,
            stdout=write_end,
            stderr=write_end,
            check=False,
            timeout=120,
        )
    finally:
        os.close(write_end)
    assert process.returncode == EXIT_MIGRATION_FAILED


def run_cli(
    dsn: str, directory: Path, *argv: str, stdout: int = subprocess.PIPE
) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DATABASE_URL": dsn, "INVENTORY_MIGRATIONS_DIR": str(directory)}
    return subprocess.run(
        [sys.executable, "-m", "inventory_server.migrate", *argv],
        env=env,
        cwd=ROOT,
        stdout=stdout,
        stderr=subprocess.PIPE,
        text=True,
        check=False,
        timeout=120,
    )
