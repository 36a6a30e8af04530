"""INVENTORY_PAGE_TOKEN_KEYS: validated at start-up (exit 2), never echoed; the app seals with it."""

from __future__ import annotations

import logging

import pytest

from inventory_server.api.page_tokens import DEVELOPMENT_KEY, PageTokens
from inventory_server.app import page_tokens
from inventory_server.config import ConfigError, load

KEY = "k" * 40


def test_short_keys_are_a_configuration_error_that_does_not_echo_them() -> None:
    with pytest.raises(ConfigError, match="INVENTORY_PAGE_TOKEN_KEYS needs keys of at least 32") as caught:
        load(None, {"INVENTORY_PAGE_TOKEN_KEYS": f"{KEY},tooshort-secret"})
    assert "tooshort-secret" not in str(caught.value)


def test_the_configured_keys_seal_the_tokens() -> None:
    settings = load(None, {"INVENTORY_PAGE_TOKEN_KEYS": f"{KEY}, {'o' * 32}"})
    token = page_tokens(settings).seal("abc")
    assert PageTokens([KEY]).open(token) == "abc"
    assert "k" * 40 not in repr(settings)


def test_without_keys_the_development_key_is_used_with_a_warning(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING):
        token = page_tokens(load(None, {})).seal("abc")
    assert PageTokens([DEVELOPMENT_KEY]).open(token) == "abc"
    assert "INVENTORY_PAGE_TOKEN_KEYS is not set" in caplog.text
