"""Fixtures for the migration engine tests: scratch migration folders and the in-process CLI."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from inventory_server.migrate.cli import main

from .migrate_helpers import CliResult, MigrationDir


@pytest.fixture
def migration_dir(tmp_path: Path) -> MigrationDir:
    directory = tmp_path / "migrations"
    directory.mkdir()
    return MigrationDir(directory)


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str]) -> Callable[..., CliResult]:
    """Run ``inventory-migrate`` in-process: cli(dsn, directory, "migrate", "--dry-run")."""

    def run(dsn: str, directory: Path, *argv: str, env: dict[str, str] | None = None) -> CliResult:
        capsys.readouterr()
        environ = {"DATABASE_URL": dsn, "INVENTORY_MIGRATIONS_DIR": str(directory), **(env or {})}
        code = main(list(argv), environ=environ)
        captured = capsys.readouterr()
        return CliResult(code, captured.out, captured.err)

    return run
