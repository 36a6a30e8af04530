"""`inventory-server`: --version, help texts with meanings and defaults, and the probe's flag parsing."""

from __future__ import annotations

import argparse
import doctest
from dataclasses import fields

import pytest

import inventory_server.probe as probe_module
from inventory_server import __version__
from inventory_server.cli import build_parser, main
from inventory_server.config import ENVIRONMENT, Settings
from inventory_server.probe import ArgumentError, parse_args, parse_duration
from inventory_server.settings_help import MEANINGS


def test_version_flag(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as raised:
        main(["--version"])
    assert raised.value.code == 0
    assert capsys.readouterr().out.strip() == f"inventory-server {__version__}"


def test_every_setting_has_a_meaning() -> None:
    assert {f.name for f in fields(Settings)} == set(MEANINGS)


def _serve_parser() -> argparse.ArgumentParser:
    (commands,) = [a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction)]
    serve: argparse.ArgumentParser = commands.choices["serve"]
    return serve


def test_every_serve_flag_says_its_meaning_variable_and_default() -> None:
    helps = {
        a.dest: a.help or "" for a in _serve_parser()._actions if not isinstance(a, argparse._HelpAction)
    }
    for f in fields(Settings):
        text = helps[f.name]
        assert MEANINGS[f.name] in text, f.name
        assert f"env {ENVIRONMENT[f.name]}" in text, f.name
        assert "default " in text, f.name
    assert "default 50051" in helps["port"]
    assert "default unset" in helps["database_url"]
    assert "DATABASE_URL_FILE" in helps["database_url_file"]


def test_serve_help_renders_with_examples_and_exit_codes(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["serve", "--help"])
    out = capsys.readouterr().out
    assert "DATABASE_URL_FILE=/run/secrets/database-url inventory-server serve" in out
    assert "3 cannot listen on the address" in out
    assert "--pool-timeout FLOAT" in out


def test_top_level_help_lists_both_commands(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["--help"])
    out = capsys.readouterr().out
    assert "serve" in out
    assert "probe" in out
    assert "inventory-server probe -addr=127.0.0.1:50051" in out


# --- the probe's flags (live-server exit codes: tests/e2e/test_probe_and_listen.py) ---------------------


def test_probe_accepts_go_flag_spellings() -> None:
    options = parse_args(
        [
            "-addr=127.0.0.1:50051",
            "--service",
            "inventory.v1.ProductService",
            "-connect-timeout=1m30s",
            "-rpc-timeout",
            "250ms",
            "-tls=true",
            "-tls-ca-cert=/ca.pem",
            "-tls-server-name=inventory.internal",
            "-rpc-header=x-probe: 1",
            "-v=false",
        ]
    )
    assert options.addr == "127.0.0.1:50051"
    assert options.service == "inventory.v1.ProductService"
    assert options.connect_timeout == 90.0
    assert options.rpc_timeout == 0.25
    assert options.tls
    assert options.tls_server_name == "inventory.internal"
    assert options.rpc_headers == [("x-probe", "1")]
    assert not options.verbose


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        ([], "-addr not specified"),
        (["-addr=a:1", "-connect-timeout=-1s"], "-connect-timeout must be greater than zero"),
        (["-addr=a:1", "-rpc-timeout=1 s"], "invalid duration"),
        (["-addr=a:1", "-tls-server-name=x"], "specified -tls-server-name without specifying -tls"),
        (["-addr=a:1", "-tls", "-tls-client-key=k"], "specify both -tls-client-cert and -tls-client-key"),
        (["-addr=a:1", "-tls=maybe"], "invalid boolean value"),
        (["-addr"], "flag needs an argument: -addr"),
        (["-addr=a:1", "-alts"], "ALTS is not supported"),
        (["-addr=a:1", "extra"], "unexpected argument"),
    ],
)
def test_probe_refuses_what_grpc_health_probe_refuses(argv: list[str], message: str) -> None:
    with pytest.raises(ArgumentError, match=message):
        parse_args(argv)


def test_probe_exit_codes_for_bad_flags_and_help(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["probe", "-bogus"]) == 1
    assert "flag provided but not defined: -bogus" in capsys.readouterr().err
    assert main(["probe", "-help"]) == 0
    assert "-tls-client-cert" in capsys.readouterr().out


def test_go_durations() -> None:
    assert parse_duration("1h2m3.5s") == pytest.approx(3723.5)
    assert parse_duration("300us") == pytest.approx(0.0003)
    for bad in ("", "5", "1x", "s", "1s2"):
        with pytest.raises(ArgumentError):
            parse_duration(bad)


def test_docstring_examples() -> None:
    assert doctest.testmod(probe_module).failed == 0


def test_servers_never_share_a_port_unless_asked() -> None:
    from inventory_server.app import SERVER_OPTIONS
    from inventory_server.listen import server_options

    assert ("grpc.so_reuseport", 0) in SERVER_OPTIONS
    assert server_options(SERVER_OPTIONS, share_port=True)[-1] == ("grpc.so_reuseport", 1)
    assert server_options(SERVER_OPTIONS).count(("grpc.so_reuseport", 0)) == 1
