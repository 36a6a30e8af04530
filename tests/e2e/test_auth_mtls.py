"""Mutual TLS principals under a deny-by-default policy.

Every RPC x {no certificate, wrong principal, right one}.

One server for the module. Each method has its own role, bound to its own
SPIFFE ID (a client certificate's first URI SAN); a certificate with only a
common name is bound by that name. Without a client certificate the TLS
handshake itself is refused (mutual TLS), so that case is UNAVAILABLE.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

import grpc
import psycopg
import pytest
import trustme
import yaml

from inventory_client import InventoryClient
from inventory_client.v1 import stock_pb2

from .auth_helpers import (
    call,
    client_certificate,
    guarded_methods,
    one_method_policy,
    write_file,
    write_server_files,
)
from .conftest import ServerProcess, free_port, start_server

METHODS = sorted(guarded_methods())
PRINCIPAL = {method: f"spiffe://test.example/holder/{i}" for i, method in enumerate(METHODS)}
RECORDER = "spiffe://test.example/ns/shop/sa/till"


@dataclass
class Mtls:
    server: ServerProcess
    ca: trustme.CA
    dsn: str
    channels: dict[str, grpc.Channel] = field(default_factory=dict)

    def credentials(self, uri: str | None = None, common_name: str = "client") -> grpc.ChannelCredentials:
        cert, key = client_certificate(self.ca, uri=uri, common_name=common_name)
        return grpc.ssl_channel_credentials(self.ca.cert_pem.bytes(), key, cert)

    def channel(self, uri: str) -> grpc.Channel:
        if uri not in self.channels:
            self.channels[uri] = grpc.secure_channel(self.server.target, self.credentials(uri))
        return self.channels[uri]


@pytest.fixture(scope="module")
def mtls(
    tmp_path_factory: pytest.TempPathFactory, database_factory: object, migrated_template: str
) -> Iterator[Mtls]:
    folder = tmp_path_factory.mktemp("auth-mtls")
    ca = trustme.CA()
    cert_file, key_file, ca_file = write_server_files(ca, folder)
    policy = yaml.safe_load(one_method_policy(PRINCIPAL))
    policy["roles"]["everything"] = ["*"]
    policy["bindings"] += [
        {"principal": "cn-only-client", "roles": ["everything"]},
        {"principal": RECORDER, "roles": ["everything"], "act_for_users": True},
    ]
    write_file(folder / "policy.yaml", yaml.safe_dump(policy))
    dsn = database_factory(template=migrated_template)  # type: ignore[operator]
    health_port = free_port()
    server = start_server(
        folder,
        {
            "DATABASE_URL": dsn,
            "INVENTORY_TLS_CERT_FILE": str(cert_file),
            "INVENTORY_TLS_KEY_FILE": str(key_file),
            "INVENTORY_TLS_CLIENT_CA_FILE": str(ca_file),
            "INVENTORY_AUTH_POLICY_FILE": str(folder / "policy.yaml"),
            "INVENTORY_HEALTH_PORT": str(health_port),
            "INVENTORY_GRACE_PERIOD": "2",
        },
        health_target=f"127.0.0.1:{health_port}",
    )
    state = Mtls(server, ca, dsn)
    yield state
    for channel in state.channels.values():
        channel.close()
    assert server.stop() == 0, server.log()


@pytest.mark.parametrize("method", METHODS)
def test_each_method_needs_a_certificate_principal_with_its_permission(method: str, mtls: Mtls) -> None:
    other = METHODS[(METHODS.index(method) + 1) % len(METHODS)]
    assert call(mtls.channel(PRINCIPAL[other]), method) == grpc.StatusCode.PERMISSION_DENIED
    allowed = call(mtls.channel(PRINCIPAL[method]), method)
    assert allowed not in (grpc.StatusCode.UNAUTHENTICATED, grpc.StatusCode.PERMISSION_DENIED)


def test_without_a_client_certificate_the_handshake_is_refused(mtls: Mtls) -> None:
    credentials = grpc.ssl_channel_credentials(mtls.ca.cert_pem.bytes())
    with grpc.secure_channel(mtls.server.target, credentials) as channel:
        assert call(channel, METHODS[0]) == grpc.StatusCode.UNAVAILABLE


def test_a_certificate_without_uri_san_is_named_by_its_common_name(mtls: Mtls) -> None:
    with grpc.secure_channel(mtls.server.target, mtls.credentials(common_name="cn-only-client")) as channel:
        assert call(channel, "inventory.v1.ProductService/ListProducts") == grpc.StatusCode.OK
    with grpc.secure_channel(
        mtls.server.target, mtls.credentials(common_name="random-intern-laptop")
    ) as channel:
        assert call(channel, "inventory.v1.UserService/CreateUser") == grpc.StatusCode.PERMISSION_DENIED


def test_ledger_rows_record_the_spiffe_id(mtls: Mtls) -> None:
    with psycopg.connect(mtls.dsn) as conn:
        warehouse = conn.execute(
            "INSERT INTO warehouses (code, name) VALUES ('SPF', 's') RETURNING id"
        ).fetchone()
        product = conn.execute(
            "INSERT INTO products (sku, name) VALUES ('SPF-1', 'p') RETURNING id"
        ).fetchone()
        user = conn.execute(
            "INSERT INTO users (email, role, password_hash) "
            "VALUES ('s@example.com', 'clerk', '!') RETURNING id"
        ).fetchone()
    assert warehouse is not None
    assert product is not None
    assert user is not None
    cert, key = client_certificate(mtls.ca, uri=RECORDER)
    with InventoryClient(
        mtls.server.target,
        root_certificates=mtls.ca.cert_pem.bytes(),
        client_cert=cert,
        client_key=key,
        timeout=10,
    ) as client:
        receipt = client.stock.ReceiveStock(
            stock_pb2.ReceiveStockRequest(
                product_id=str(product[0]),
                warehouse_id=str(warehouse[0]),
                quantity=2,
                request_id="spiffe-1",
                performed_by=str(user[0]),
            )
        )
    assert receipt.transaction.caller == RECORDER
    assert receipt.transaction.performed_by == str(user[0])
