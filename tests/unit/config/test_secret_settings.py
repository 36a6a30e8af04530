"""Secret settings from files (DATABASE_URL_FILE and every other *_FILE), their precedence and errors,
and the warning when a password arrives on the command line."""

from __future__ import annotations

import argparse
import doctest
from pathlib import Path

import pytest

import inventory_server.secret_files as secret_files_module
from inventory_server.cli import build_parser, main
from inventory_server.config import ENVIRONMENT, SECRET_SETTINGS, ConfigError, load

SECRET = "pa55-w0rd"
DSN = f"postgresql://app:{SECRET}@db.internal:5432/inventory"


def serve_args(*argv: str) -> argparse.Namespace:
    return build_parser().parse_args(["serve", *argv])


@pytest.fixture
def secret_file(tmp_path: Path) -> Path:
    path = tmp_path / "database-url"
    path.write_text(DSN + "\n")  # the trailing newline most tools write
    return path


def test_every_secret_setting_reads_its_file_variable(tmp_path: Path) -> None:
    for name in SECRET_SETTINGS:
        path = tmp_path / name
        path.write_text(f"  {DSN}\n")
        settings = load(None, {f"{ENVIRONMENT[name]}_FILE": str(path)})
        assert getattr(settings, name) == DSN


def test_the_file_flag_reads_the_value(secret_file: Path) -> None:
    settings = load(serve_args("--database-url-file", str(secret_file)), {})
    assert settings.database_url == DSN


def test_a_flag_beats_the_environment_files_included(secret_file: Path, tmp_path: Path) -> None:
    other = tmp_path / "other"
    other.write_text("postgresql://other@elsewhere/x")
    settings = load(serve_args("--database-url-file", str(secret_file)), {"DATABASE_URL_FILE": str(other)})
    assert settings.database_url == DSN
    settings = load(serve_args("--database-url", "postgresql://flag@h/x"), {"DATABASE_URL_FILE": str(other)})
    assert settings.database_url == "postgresql://flag@h/x"


@pytest.mark.parametrize("name", SECRET_SETTINGS)
def test_a_value_and_its_file_together_are_an_error(name: str, secret_file: Path) -> None:
    variable = ENVIRONMENT[name]
    with pytest.raises(ConfigError, match=f"both {variable} and {variable}_FILE are set"):
        load(None, {variable: DSN, f"{variable}_FILE": str(secret_file)})
    flag = "--" + name.replace("_", "-")
    with pytest.raises(ConfigError, match=f"both {flag} and {flag}-file are set"):
        load(serve_args(flag, DSN, f"{flag}-file", str(secret_file)), {})


def test_unreadable_empty_or_binary_files_are_errors_that_never_show_content(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.write_text("\n\n")
    binary = tmp_path / "binary"
    binary.write_bytes(b"\xff\xfe" + SECRET.encode())
    cases = {
        str(tmp_path / "missing"): "cannot read",
        str(empty): "is empty",
        str(binary): "is not UTF-8 text",
        str(tmp_path): "cannot read",  # a folder
    }
    for path, message in cases.items():
        with pytest.raises(ConfigError) as raised:
            load(None, {"DATABASE_URL_FILE": path})
        assert message in str(raised.value)
        assert f"DATABASE_URL_FILE: {path}" in str(raised.value) or path in str(raised.value)
        assert SECRET not in str(raised.value)


def test_the_server_exits_2_on_a_bad_secret_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    missing = tmp_path / "missing"
    assert main(["serve", "--database-url-file", str(missing)]) == 2
    assert f"--database-url-file: cannot read {missing}" in capsys.readouterr().err


def test_a_password_on_the_command_line_is_warned_about_without_echoing_it(
    capsys: pytest.CaptureFixture[str],
) -> None:
    # --port 0 makes it stop at the configuration check, after the warning
    assert main(["serve", "--database-url", DSN, "--cache-listen-url", DSN, "--port", "0"]) == 2
    err = capsys.readouterr().err
    assert "warning: --database-url carries a password (password)" in err
    assert "warning: --cache-listen-url carries a password (password)" in err
    assert "--database-url-file" in err
    assert SECRET not in err


def test_no_warning_for_a_dsn_without_password_or_a_file(
    secret_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    main(["serve", "--database-url", "postgresql://app@db/x", "--port", "0"])
    main(["serve", "--database-url-file", str(secret_file), "--port", "0"])
    assert "warning" not in capsys.readouterr().err


def test_docstring_examples() -> None:
    assert doctest.testmod(secret_files_module).failed == 0
