"""Command-line handling that needs no database: usage errors and secret masking."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from inventory_server.dsn import mask_dsn
from inventory_server.migrate.cli import build_parser, main
from inventory_server.migrate.errors import EXIT_DATABASE_UNREACHABLE, EXIT_USAGE


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


# --- secrets: DATABASE_URL_FILE, the command-line warning ------------------------------------------

SECRET = "pa55-w0rd"
UNREACHABLE = f"postgresql://nobody:{SECRET}@127.0.0.1:1/x?connect_timeout=2"


def test_database_url_file_is_read_and_its_password_never_printed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    secret = tmp_path / "database-url"
    secret.write_text(UNREACHABLE + "\n")  # a trailing newline, as `echo` and editors write it
    code = main(["status", "--dir", str(tmp_path)], environ={"DATABASE_URL_FILE": str(secret)})
    err = capsys.readouterr().err
    assert code == EXIT_DATABASE_UNREACHABLE  # it used the file's DSN: port 1
    assert "port=1" in err
    assert SECRET not in err
    assert "password=***" in err


def test_database_url_file_flag_beats_the_environment(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    secret = tmp_path / "database-url"
    secret.write_text(UNREACHABLE)
    env = {"DATABASE_URL": "postgresql://other@127.0.0.1:2/y"}
    code = main(["status", "--dir", str(tmp_path), "--database-url-file", str(secret)], environ=env)
    assert code == EXIT_DATABASE_UNREACHABLE
    assert "port=1" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("argv", "environ", "message"),
    [
        (
            [],
            {"DATABASE_URL": UNREACHABLE, "DATABASE_URL_FILE": "/x"},
            "both DATABASE_URL and DATABASE_URL_FILE",
        ),
        (["--database-url", UNREACHABLE, "--database-url-file", "/x"], {}, "both --database-url and"),
        ([], {"DATABASE_URL_FILE": "/nonexistent/secret"}, "cannot read /nonexistent/secret"),
    ],
)
def test_unusable_database_url_secrets_are_usage_errors(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    argv: list[str],
    environ: dict[str, str],
    message: str,
) -> None:
    assert main(["status", "--dir", str(tmp_path), *argv], environ=environ) == EXIT_USAGE
    err = capsys.readouterr().err
    assert message in err
    assert SECRET not in err


def test_an_empty_secret_file_is_a_usage_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    empty = tmp_path / "empty"
    empty.write_text("\n")
    assert main(["status"], environ={"DATABASE_URL_FILE": str(empty)}) == EXIT_USAGE
    assert f"DATABASE_URL_FILE: {empty} is empty" in capsys.readouterr().err


def test_a_password_on_the_command_line_is_warned_about_without_echoing_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    main(["status", "--dir", str(tmp_path), "--database-url", UNREACHABLE], environ={})
    err = capsys.readouterr().err
    assert "warning: --database-url carries a password (password)" in err
    assert "DATABASE_URL_FILE" in err
    assert SECRET not in err


def test_no_warning_without_a_password_or_from_the_environment(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    no_password = "postgresql://nobody@127.0.0.1:1/x"
    main(["status", "--dir", str(tmp_path), "--database-url", no_password], environ={})
    main(["status", "--dir", str(tmp_path)], environ={"DATABASE_URL": UNREACHABLE})
    assert "warning" not in capsys.readouterr().err


# --- --version and help ------------------------------------------------------------------------------


def test_version_flag_prints_the_package_version(capsys: pytest.CaptureFixture[str]) -> None:
    from inventory_server import __version__

    with pytest.raises(SystemExit) as raised:
        main(["--version"], environ={})
    assert raised.value.code == 0
    assert capsys.readouterr().out.strip() == f"inventory-migrate {__version__}"


def test_subcommand_version_options_still_take_a_number(tmp_path: Path) -> None:
    env = {"INVENTORY_MIGRATIONS_DIR": str(tmp_path)}
    assert main(["create", "--description", "pinned", "--version", "7"], environ=env) == 0
    assert (tmp_path / "0007_pinned.sql").is_file()


def _actions(parser: argparse.ArgumentParser) -> list[argparse.Action]:
    return [a for a in parser._actions if not isinstance(a, argparse._HelpAction | argparse._VersionAction)]


def test_every_command_has_a_description_and_an_example() -> None:
    parser = build_parser()
    (commands,) = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    assert set(commands.choices) == {
        *("status", "migrate", "create", "rollback", "validate", "baseline", "repair"),
    }
    for name, sub in commands.choices.items():
        assert len(sub.description or "") > 40, name
        assert f"inventory-migrate {name}" in (sub.epilog or ""), name


def test_every_option_says_what_it_means_and_its_default() -> None:
    parser = build_parser()
    (commands,) = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    for sub in [parser, *commands.choices.values()]:
        for action in _actions(sub):
            if isinstance(action, argparse._SubParsersAction):
                continue
            text = action.help or ""
            assert len(text) > 15, action.option_strings
            is_flag = isinstance(action, argparse._StoreTrueAction)
            assert is_flag or action.required or "default" in text or "env" in text, action.option_strings


def test_help_shows_examples_and_exit_codes(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["migrate", "--help"], environ={})
    out = capsys.readouterr().out
    assert "inventory-migrate migrate --to 12 --dry-run" in out
    assert "3 validation failed" in out
    assert "default 10s" in out
