"""DATABASE_READ_URL splitting and INVENTORY_REPLICA_MAX_LAG parsing and validation."""

from __future__ import annotations

from pathlib import Path

import pytest

from inventory_server.config import ConfigError, MaxLag, Settings, load, parse_max_lag, read_urls


def test_several_uris_split_on_commas_but_a_multi_host_uri_stays_whole() -> None:
    s = Settings(database_read_url="postgresql://a/inv, postgresql://h1,h2:5433/inv,postgres://u:p@c/inv")
    assert read_urls(s) == ["postgresql://a/inv", "postgresql://h1,h2:5433/inv", "postgres://u:p@c/inv"]
    assert read_urls(Settings(database_read_url="host=a dbname=inv")) == ["host=a dbname=inv"]
    assert read_urls(Settings()) == []


@pytest.mark.parametrize(
    ("text", "lag"),
    [
        ("5s", MaxLag(seconds=5.0)),
        ("2.5", MaxLag(seconds=2.5)),
        ("500ms", MaxLag(seconds=0.5)),
        ("16MB", MaxLag(bytes=16 * 1024**2)),
        ("1048576B", MaxLag(bytes=1048576)),
        ("64kB", MaxLag(bytes=65536)),
    ],
)
def test_max_lag_is_a_time_or_a_size(text: str, lag: MaxLag) -> None:
    assert parse_max_lag(text) == lag


@pytest.mark.parametrize("text", ["fast", "5 minutes", "-1s", "5h"])
def test_a_max_lag_that_is_neither_is_refused_naming_the_variable(text: str) -> None:
    with pytest.raises(ValueError, match=r".+"):
        parse_max_lag(text)
    with pytest.raises(ConfigError, match="INVENTORY_REPLICA_MAX_LAG"):
        load(environ={"DATABASE_URL": "postgresql://x/y", "INVENTORY_REPLICA_MAX_LAG": text})


def test_read_url_is_a_secret_setting_read_from_a_file(tmp_path: Path) -> None:
    path = tmp_path / "read-url"
    path.write_text("postgresql://standby/inv\n")
    s = load(environ={"DATABASE_URL": "postgresql://x/y", "DATABASE_READ_URL_FILE": str(path)})
    assert read_urls(s) == ["postgresql://standby/inv"]
    assert "standby" not in repr(s)
