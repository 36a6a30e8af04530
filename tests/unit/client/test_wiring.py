"""Both clients are wired from one list of stubs, one service config and one set of credentials."""

from __future__ import annotations

import importlib
import json
import tomllib
from pathlib import Path
from typing import Any

import grpc
import pytest

import inventory_client
from inventory_client import AsyncInventoryClient, InventoryClient, service_config
from inventory_client._channel import SERVICES, channel_credentials, channel_options
from inventory_client.client import STUBS

ROOT = Path(__file__).resolve().parents[3]


@pytest.mark.parametrize("client_class", [InventoryClient, AsyncInventoryClient])
def test_each_client_declares_a_type_for_every_stub_it_is_given(client_class: type[Any]) -> None:
    declared = {name for name in client_class.__annotations__ if not name.startswith("_")}
    assert declared == {name for name, _ in STUBS}


def test_the_service_config_names_every_service_a_stub_calls() -> None:
    stub_services = {stub.__qualname__.removesuffix("Stub") for _, stub in STUBS}
    assert {name.rsplit(".", 1)[1] for name in SERVICES} == stub_services
    names = {n["service"] for n in json.loads(service_config())["methodConfig"][0]["name"]}
    assert names == set(SERVICES)


def test_options_put_the_callers_last_so_they_win() -> None:
    options = channel_options(4, "inventory.internal", [("grpc.enable_retries", 0)])
    assert options[-1] == ("grpc.enable_retries", 0)
    assert ("grpc.ssl_target_name_override", "inventory.internal") in options


def test_plaintext_without_any_tls_setting_and_tls_with_one() -> None:
    none: dict[str, Any] = {"root_certificates": None, "client_cert": None, "client_key": None}
    assert channel_credentials(tls=False, credentials=None, **none) is None
    assert isinstance(channel_credentials(tls=True, credentials=None, **none), grpc.ChannelCredentials)
    given = grpc.ssl_channel_credentials()
    assert channel_credentials(tls=True, credentials=given, **none) is given


def test_a_client_certificate_needs_its_key_and_credentials_exclude_the_pieces() -> None:
    with pytest.raises(ValueError, match="go together"):
        channel_credentials(
            tls=True, root_certificates=None, client_cert=b"c", client_key=None, credentials=None
        )
    with pytest.raises(ValueError, match="replaces"):
        channel_credentials(
            tls=False,
            root_certificates=b"ca",
            client_cert=None,
            client_key=None,
            credentials=grpc.ssl_channel_credentials(),
        )


def test_version_is_the_distributions() -> None:
    project = tomllib.loads((ROOT / "client" / "pyproject.toml").read_text())["project"]
    assert inventory_client.__version__ == project["version"]
    changelog = (ROOT / "client" / "CHANGELOG.md").read_text()
    assert f"## {project['version']}" in changelog


def test_every_generated_service_has_a_stub_on_the_clients() -> None:
    """A new service in protos/ fails here until it is added to STUBS and the service config."""
    generated = set()
    for module_file in sorted((ROOT / "client" / "inventory_client" / "v1").glob("*_pb2.py")):
        module = importlib.import_module(f"inventory_client.v1.{module_file.stem}")
        generated |= {service.full_name for service in module.DESCRIPTOR.services_by_name.values()}
    assert generated == set(SERVICES)
