"""Request limits are settings and reach the grpc server's options."""

from __future__ import annotations

import pytest

from inventory_server.app import server_options
from inventory_server.config import ConfigError, load


def test_defaults_are_4_mib_messages_and_100_streams_per_connection() -> None:
    options = dict(server_options(load(None, {})))
    assert options["grpc.max_receive_message_length"] == 4 * 1024 * 1024
    assert options["grpc.max_concurrent_streams"] == 100
    assert options["grpc.so_reuseport"] == 0


def test_the_settings_reach_the_server_options() -> None:
    settings = load(
        None, {"INVENTORY_MAX_RECEIVE_MESSAGE_BYTES": "65536", "INVENTORY_MAX_CONCURRENT_STREAMS": "8"}
    )
    options = dict(server_options(settings))
    assert (options["grpc.max_receive_message_length"], options["grpc.max_concurrent_streams"]) == (65536, 8)


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("INVENTORY_MAX_RECEIVE_MESSAGE_BYTES", "0"),
        ("INVENTORY_MAX_RECEIVE_MESSAGE_BYTES", str(2**31)),
        ("INVENTORY_MAX_CONCURRENT_STREAMS", "0"),
    ],
)
def test_unusable_limits_are_configuration_errors(variable: str, value: str) -> None:
    with pytest.raises(ConfigError, match=variable):
        load(None, {variable: value})
