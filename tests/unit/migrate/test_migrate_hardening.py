"""Migration files and arguments that used to slip through: encodings, versions, module code in dry runs."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from inventory_server.migrate.cli import main
from inventory_server.migrate.engine import render_dry_run
from inventory_server.migrate.errors import (
    EXIT_USAGE,
    EXIT_VALIDATION_FAILED,
    MigrationFileError,
    UsageError,
)
from inventory_server.migrate.files import MAX_VERSION, discover
from inventory_server.migrate.templates import create_migration

ROOT = Path(__file__).resolve().parents[3]
UNREACHABLE = "postgresql://nobody@127.0.0.1:1/x"


def test_a_sql_file_that_is_not_utf8_is_a_validation_error_naming_the_byte(tmp_path: Path) -> None:
    (tmp_path / "0001_latin1.sql").write_bytes("-- migrate:up\nSELECT 'caf\u00e9';\n".encode("latin-1"))
    (found,) = discover(tmp_path)
    with pytest.raises(MigrationFileError) as raised:
        found.check()
    assert raised.value.exit_code == EXIT_VALIDATION_FAILED
    assert "0001_latin1.sql: not valid UTF-8 (byte 0xe9" in str(raised.value)
    assert "line 2" in str(raised.value)


def test_a_python_file_that_cannot_be_decoded_is_a_validation_error(tmp_path: Path) -> None:
    (tmp_path / "0001_data.py").write_bytes(b"'''caf\xe9'''\ndef up(conn):\n    pass\n")
    (found,) = discover(tmp_path)
    with pytest.raises(MigrationFileError, match=r"0001_data\.py: cannot be decoded"):
        found.check(run_python=False)


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("\u0661\u0662_arabic_indic.sql", "ASCII digits"),
        ("\uff11_fullwidth.sql", "ASCII digits"),
        (f"{MAX_VERSION + 1}_too_big.sql", "beyond the largest bigint"),
    ],
)
def test_versions_outside_ascii_digits_and_bigint_are_refused(
    tmp_path: Path, name: str, message: str
) -> None:
    (tmp_path / name).write_text("-- migrate:up\nSELECT 1;\n", encoding="utf-8")
    with pytest.raises(MigrationFileError) as raised:
        discover(tmp_path)
    assert raised.value.exit_code == EXIT_VALIDATION_FAILED
    assert message in str(raised.value)
    assert name in str(raised.value)


def test_the_largest_bigint_is_still_a_version(tmp_path: Path) -> None:
    (tmp_path / f"{MAX_VERSION}_last.sql").write_text("-- migrate:up\nSELECT 1;\n", encoding="utf-8")
    assert [m.version for m in discover(tmp_path)] == [MAX_VERSION]


@pytest.mark.parametrize(
    "argv",
    [
        ["migrate", "--to", "\u0661"],
        ["migrate", "--to", str(MAX_VERSION + 1)],
        ["migrate", "--to", "-3"],
        ["rollback", "--version", "\uff13"],
        ["rollback", "--steps", "0"],
        ["baseline", "--version", str(2**64)],
        ["create", "--description", "x", "--version", "\u0663"],
    ],
)
def test_version_arguments_outside_ascii_digits_and_bigint_are_usage_errors(
    argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as raised:
        main(argv, environ={"DATABASE_URL": UNREACHABLE})
    assert raised.value.code == EXIT_USAGE
    assert "Traceback" not in capsys.readouterr().err


def test_create_refuses_a_version_beyond_bigint(tmp_path: Path) -> None:
    (tmp_path / f"{MAX_VERSION}_last.sql").write_text("-- migrate:up\nSELECT 1;\n", encoding="utf-8")
    with pytest.raises(UsageError, match="bigint"):
        create_migration(tmp_path, "one more")


MODULE_WITH_SIDE_EFFECTS = '''"""Backfill the a table."""
from pathlib import Path

Path({marker!r}).write_text("module code ran")
TRANSACTIONAL = False


def up(conn):
    """Copy rows into a."""


def down(conn):
    """Empty a again."""
'''


def test_a_dry_run_plan_of_a_python_migration_runs_none_of_its_code(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    folder = tmp_path / "migrations"
    folder.mkdir()
    (folder / "0001_backfill.py").write_text(MODULE_WITH_SIDE_EFFECTS.format(marker=str(marker)))
    (migration,) = discover(folder)
    migration.check(run_python=False)
    up = render_dry_run(migration, "up")
    down = render_dry_run(migration, "down")
    assert up.splitlines() == [
        "-- up 0001_backfill.py (no transaction)",
        "-- Python migration: would call up(conn) of 0001_backfill.py (not imported now)",
        "-- Backfill the a table.",
        "-- up():",
        "--   Copy rows into a.",
    ]
    assert "would call down(conn)" in down
    assert "Empty a again." in down
    assert migration.reversible
    assert not marker.exists()
    migration.check()  # the real check imports it
    assert marker.exists()


def test_transactional_must_be_a_literal(tmp_path: Path) -> None:
    source = "import os\nTRANSACTIONAL = bool(os.environ)\ndef up(conn):\n    pass\n"
    (tmp_path / "0001_x.py").write_text(source)
    (migration,) = discover(tmp_path)
    with pytest.raises(MigrationFileError, match="TRANSACTIONAL must be the literal True or False"):
        migration.check(run_python=False)


def test_sys_exit_at_import_time_is_a_malformed_file_not_the_migrator_exit(tmp_path: Path) -> None:
    (tmp_path / "0001_exits.py").write_text("import sys\nsys.exit(0)\ndef up(conn):\n    pass\n")
    (migration,) = discover(tmp_path)
    with pytest.raises(MigrationFileError, match=r"import called sys.exit\(0\)") as raised:
        migration.check()
    assert raised.value.exit_code == EXIT_VALIDATION_FAILED


def test_help_into_a_closed_pipe_ends_quietly() -> None:
    result = run_into_closed_pipe([sys.executable, "-m", "inventory_server.migrate", "--help"])
    assert result.returncode == 0
    assert result.stderr == ""


def run_into_closed_pipe(
    argv: list[str], env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run ``argv`` with stdout a pipe whose reading end is already closed (``| head -0``)."""
    import os

    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        return subprocess.run(
            argv,
            stdout=write_end,
            stderr=subprocess.PIPE,
            text=True,
            check=False,
            timeout=60,
            cwd=ROOT,
            env=env,
        )
    finally:
        os.close(write_end)
