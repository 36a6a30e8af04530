"""One DSN masker for the server and the migrator; every secret-bearing libpq parameter is masked."""

from __future__ import annotations

import doctest

import pytest

import inventory_server.dsn as dsn_module
from inventory_server import config
from inventory_server.config import Settings, describe
from inventory_server.dsn import mask_dsn, secrets_in
from inventory_server.migrate import connection

SECRET = "s3cr3t-value"


@pytest.mark.parametrize(
    "dsn",
    [
        f"postgresql://app:{SECRET}@db.example:5432/inventory",
        f"host=db user=app password={SECRET} dbname=inventory",
        f"postgresql://app@db/inventory?sslpassword={SECRET}&sslmode=require",
        f"host=db sslpassword='{SECRET}' sslkey=/secrets/client.key",
        f"postgresql://app:{SECRET}@db/inventory?sslpassword={SECRET}",
    ],
)
def test_every_secret_parameter_is_masked(dsn: str) -> None:
    masked = mask_dsn(dsn)
    assert SECRET not in masked
    assert "***" in masked
    assert "db" in masked  # the rest stays readable


def test_paths_and_plain_parameters_stay_readable() -> None:
    masked = mask_dsn("host=db user=app sslkey=/secrets/client.key sslmode=verify-full")
    expected = ["host=db", "sslkey=/secrets/client.key", "sslmode=verify-full", "user=app"]
    assert sorted(masked.split()) == expected


def test_an_unparsable_dsn_is_never_echoed() -> None:
    assert mask_dsn(f"postgresql://app:{SECRET}@db/x?nonsense=1") == "<unparsable DSN>"
    assert mask_dsn(f"password='{SECRET}") == "<unparsable DSN>"


def test_the_server_log_line_and_the_migrator_use_the_same_masker() -> None:
    line = describe(Settings(database_url=f"host=db password={SECRET} sslpassword={SECRET}"))
    assert SECRET not in line
    assert "sslpassword=***" in line
    assert not hasattr(config, "redact_dsn")  # the server's former second masker is gone
    assert "mask_dsn" not in vars(connection) or vars(connection)["mask_dsn"] is mask_dsn


def test_secrets_in_names_the_secret_keywords_only() -> None:
    assert secrets_in(f"postgresql://app:{SECRET}@db/x?sslpassword=k") == ["password", "sslpassword"]
    assert secrets_in("postgresql://app@db/x") == []
    assert secrets_in("not a dsn ' at all") == []


def test_docstring_examples() -> None:
    assert doctest.testmod(dsn_module).failed == 0
