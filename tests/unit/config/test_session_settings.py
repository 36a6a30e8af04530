"""Service connections end a transaction left idle: idle_in_transaction_session_timeout is a setting."""

from __future__ import annotations

import pytest

from inventory_server.config import ConfigError, load


def test_service_connections_set_idle_in_transaction_session_timeout_by_default() -> None:
    options = str(load(None, {}).connection_kwargs()["options"])
    assert "-c idle_in_transaction_session_timeout=10000" in options
    assert "-c statement_timeout=30000" in options


def test_the_timeout_is_a_setting_and_zero_turns_it_off() -> None:
    options = load(None, {"INVENTORY_IDLE_IN_TRANSACTION_TIMEOUT_MS": "2500"}).connection_kwargs()["options"]
    assert "-c idle_in_transaction_session_timeout=2500" in str(options)
    off = load(None, {"INVENTORY_IDLE_IN_TRANSACTION_TIMEOUT_MS": "0"}).connection_kwargs().get("options", "")
    assert "idle_in_transaction" not in str(off)


def test_a_negative_timeout_is_a_configuration_error() -> None:
    with pytest.raises(ConfigError, match="INVENTORY_IDLE_IN_TRANSACTION_TIMEOUT_MS"):
        load(None, {"INVENTORY_IDLE_IN_TRANSACTION_TIMEOUT_MS": "-1"})
