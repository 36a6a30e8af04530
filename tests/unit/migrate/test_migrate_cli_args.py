"""Command-line handling that needs no database: usage errors and secret masking."""

from __future__ import annotations

from pathlib import Path

import pytest

from inventory_server.migrate.cli import main
from inventory_server.migrate.connection import mask_dsn
from inventory_server.migrate.errors import EXIT_USAGE


def test_password_is_masked_in_urls_and_keyword_dsns() -> None:
    url = mask_dsn("postgresql://app:s3cret@db.example:5432/inventory")
    keywords = mask_dsn("host=db user=app password=s3cret dbname=inventory")
    for masked in (url, keywords):
        assert "s3cret" not in masked
        assert "password=***" in masked
        assert "host=db" in masked


def test_missing_database_url_is_a_usage_error(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert main(["status", "--dir", str(tmp_path)], environ={}) == EXIT_USAGE
    assert "DATABASE_URL" in capsys.readouterr().err


@pytest.mark.parametrize(
    "argv",
    [
        ["migrate", "--lock-timeout", "ten seconds"],
        ["migrate", "--statement-timeout", "5 parsecs"],
        ["migrate", "--lock-wait", "-1"],
    ],
)
def test_bad_option_values_are_usage_errors(argv: list[str]) -> None:
    assert main(argv, environ={"DATABASE_URL": "postgresql://nobody@127.0.0.1:1/x"}) == EXIT_USAGE


def test_bad_environment_values_are_usage_errors() -> None:
    env = {"DATABASE_URL": "postgresql://nobody@127.0.0.1:1/x", "INVENTORY_MIGRATE_LOCK_WAIT": "soon"}
    assert main(["migrate"], environ=env) == EXIT_USAGE


def test_argparse_errors_exit_with_the_usage_code() -> None:
    with pytest.raises(SystemExit) as raised:
        main(["rollback", "--steps", "1", "--version", "2"], environ={})
    assert raised.value.code == EXIT_USAGE


def test_create_needs_no_database(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert (
        main(["create", "--description", "first one"], environ={"INVENTORY_MIGRATIONS_DIR": str(tmp_path)})
        == 0
    )
    assert (tmp_path / "0001_first_one.sql").is_file()
    assert "0001_first_one.sql" in capsys.readouterr().out
