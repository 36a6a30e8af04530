"""Certificate, key and client CA replaced under a live server with connected clients: no restart.

The server re-reads the files before each new TLS handshake when they changed
(tls.reloading_server_credentials): connections made before the rotation keep
working, new ones get the new certificate, clients of the new CA are admitted,
and a broken set (a key that does not match) is logged and ignored.
"""

from __future__ import annotations

from pathlib import Path

import grpc
import pytest
import trustme

from inventory_client import InventoryClient, UnavailableError
from inventory_client.v1 import product_pb2

from .auth_helpers import write_file, write_server_files
from .conftest import free_port, start_server


def _client(target: str, ca: trustme.CA) -> InventoryClient:
    cert = ca.issue_cert("rotating-client.example", common_name="rotating-client")
    return InventoryClient(
        target,
        root_certificates=ca.cert_pem.bytes(),
        client_cert=b"".join(blob.bytes() for blob in cert.cert_chain_pems),
        client_key=cert.private_key_pem.bytes(),
        timeout=5,
        max_attempts=1,
    )


def _list(client: InventoryClient) -> int:
    return len(client.products.ListProducts(product_pb2.ListProductsRequest()).products)


def test_rotation_under_a_live_server(migrated_dsn: str, tmp_path: Path) -> None:
    old_ca, new_ca = trustme.CA(), trustme.CA()
    cert_file, key_file, ca_file = write_server_files(old_ca, tmp_path)
    health_port = free_port()
    server = start_server(
        tmp_path,
        {
            "DATABASE_URL": migrated_dsn,
            "INVENTORY_TLS_CERT_FILE": str(cert_file),
            "INVENTORY_TLS_KEY_FILE": str(key_file),
            "INVENTORY_TLS_CLIENT_CA_FILE": str(ca_file),
            "INVENTORY_HEALTH_PORT": str(health_port),
            "INVENTORY_GRACE_PERIOD": "2",
        },
        health_target=f"127.0.0.1:{health_port}",
    )
    try:
        with _client(server.target, old_ca) as connected:
            assert _list(connected) == 0
            # rotate all three: a new CA signs the server certificate and the client certificates
            write_server_files(new_ca, tmp_path)
            assert _list(connected) == 0  # the established connection carries on
            with _client(server.target, new_ca) as fresh:
                assert _list(fresh) == 0  # the new certificate and the new client CA are in force
            with _client(server.target, old_ca) as stale, pytest.raises(UnavailableError):
                _list(stale)  # the old CA's server certificate is gone
            assert _list(connected) == 0

            # a broken set (key of another certificate) keeps the current one
            other = new_ca.issue_cert("127.0.0.1")
            write_file(key_file, other.private_key_pem.bytes().decode())
            with _client(server.target, new_ca) as after_broken:
                assert _list(after_broken) == 0
        log = server.log()
        assert "TLS certificate files reloaded" in log
        assert "keeping the previous ones" in log
        assert "PRIVATE KEY" not in log
    finally:
        assert server.stop() == 0, server.log()


def test_server_certificate_alone_rotates_for_tls_without_client_ca(
    migrated_dsn: str, tmp_path: Path
) -> None:
    old_ca, new_ca = trustme.CA(), trustme.CA()
    cert_file, key_file, _ = write_server_files(old_ca, tmp_path)
    health_port = free_port()
    server = start_server(
        tmp_path,
        {
            "DATABASE_URL": migrated_dsn,
            "INVENTORY_TLS_CERT_FILE": str(cert_file),
            "INVENTORY_TLS_KEY_FILE": str(key_file),
            "INVENTORY_HEALTH_PORT": str(health_port),
            "INVENTORY_GRACE_PERIOD": "2",
        },
        health_target=f"127.0.0.1:{health_port}",
    )
    try:
        credentials = grpc.ssl_channel_credentials(new_ca.cert_pem.bytes())
        with (
            grpc.secure_channel(server.target, credentials) as channel,
            pytest.raises(grpc.FutureTimeoutError),
        ):
            grpc.channel_ready_future(channel).result(timeout=2)
        write_server_files(new_ca, tmp_path)
        with InventoryClient(server.target, root_certificates=new_ca.cert_pem.bytes(), timeout=5) as client:
            assert _list(client) == 0
    finally:
        assert server.stop() == 0, server.log()
