"""Secure by default: where the server listens, and what needs the explicit opt-in."""

from __future__ import annotations

import pytest

from inventory_server.config import ConfigError, Settings, is_loopback, load


def _load(**env: str) -> Settings:
    return load(None, environ=env)


def test_without_tls_and_policy_the_server_listens_on_loopback_only() -> None:
    assert _load().listen_host() == "127.0.0.1"
    assert _load(INVENTORY_TLS_CERT_FILE="c", INVENTORY_TLS_KEY_FILE="k").listen_host() == "127.0.0.1"
    assert _load(INVENTORY_AUTH_POLICY_FILE="p").listen_host() == "127.0.0.1"


def test_with_tls_and_a_policy_every_interface() -> None:
    s = _load(INVENTORY_TLS_CERT_FILE="c", INVENTORY_TLS_KEY_FILE="k", INVENTORY_AUTH_POLICY_FILE="p")
    assert s.listen_host() == "[::]"


@pytest.mark.parametrize("host", ["[::]", "0.0.0.0", "10.0.0.5", "inventory.example"])
def test_listening_beyond_loopback_unsecured_needs_the_opt_in(host: str) -> None:
    with pytest.raises(ConfigError, match="INVENTORY_ALLOW_INSECURE_LISTEN"):
        _load(INVENTORY_HOST=host)
    with pytest.raises(ConfigError, match="a policy"):
        _load(INVENTORY_HOST=host, INVENTORY_TLS_CERT_FILE="c", INVENTORY_TLS_KEY_FILE="k")
    assert _load(INVENTORY_HOST=host, INVENTORY_ALLOW_INSECURE_LISTEN="true").listen_host() == host


@pytest.mark.parametrize("host", ["127.0.0.1", "127.1.2.3", "::1", "[::1]", "localhost", "LOCALHOST"])
def test_loopback_addresses(host: str) -> None:
    assert is_loopback(host)
    assert _load(INVENTORY_HOST=host).listen_host() == host


def test_jwt_settings_go_together() -> None:
    with pytest.raises(ConfigError, match="must be set together"):
        _load(INVENTORY_JWT_JWKS_FILE="jwks.json")
    s = _load(INVENTORY_JWT_JWKS_FILE="j", INVENTORY_JWT_ISSUER="i", INVENTORY_JWT_AUDIENCE="a")
    assert s.jwt_issuer == "i"
