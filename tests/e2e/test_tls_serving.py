"""The real server with INVENTORY_TLS_* set: TLS for the API, a plaintext health-only port."""

from __future__ import annotations

from pathlib import Path

import grpc
import psycopg
import pytest
import trustme
from grpc_health.v1 import health_pb2, health_pb2_grpc

from inventory_client import InventoryClient, UnavailableError
from inventory_client.v1 import product_pb2, stock_pb2

from .conftest import free_port, start_server


def test_server_serves_tls_and_a_plaintext_health_port(migrated_dsn: str, tmp_path: Path) -> None:
    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1", "localhost")
    cert_file, key_file = tmp_path / "server.pem", tmp_path / "server.key"
    cert.cert_chain_pems[0].write_to_path(str(cert_file))
    for extra in cert.cert_chain_pems[1:]:
        extra.write_to_path(str(cert_file), append=True)
    cert.private_key_pem.write_to_path(str(key_file))
    health_port = free_port()
    env = {
        "DATABASE_URL": migrated_dsn,
        "INVENTORY_TLS_CERT_FILE": str(cert_file),
        "INVENTORY_TLS_KEY_FILE": str(key_file),
        "INVENTORY_HEALTH_PORT": str(health_port),
    }
    # start_server waits for SERVING on the API port in plaintext, which TLS refuses: use the health port.
    server = start_server(tmp_path, env, health_target=f"127.0.0.1:{health_port}")
    try:
        with InventoryClient(server.target, root_certificates=ca.cert_pem.bytes(), timeout=5) as client:
            created = client.products.CreateProduct(
                product_pb2.CreateProductRequest(product=product_pb2.Product(sku="TLS-1", name="secure"))
            ).product
            assert created.sku == "TLS-1"
        with (
            InventoryClient(server.target, timeout=2, max_attempts=1) as plaintext,
            pytest.raises(UnavailableError),
        ):
            plaintext.products.ListProducts(product_pb2.ListProductsRequest())
        with grpc.insecure_channel(f"127.0.0.1:{health_port}") as channel:
            reply = health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(), timeout=5)
            assert reply.status == health_pb2.HealthCheckResponse.SERVING
    finally:
        assert server.stop() == 0, server.log()


def test_mutual_tls_records_the_calling_service_on_ledger_rows(migrated_dsn: str, tmp_path: Path) -> None:
    ca = trustme.CA()
    server_cert = ca.issue_cert("127.0.0.1", "localhost")
    client_cert = ca.issue_cert("orders.example", common_name="orders-service")
    paths = {name: tmp_path / name for name in ("server.pem", "server.key", "ca.pem")}
    for blob in server_cert.cert_chain_pems:
        blob.write_to_path(str(paths["server.pem"]), append=True)
    server_cert.private_key_pem.write_to_path(str(paths["server.key"]))
    ca.cert_pem.write_to_path(str(paths["ca.pem"]))
    with psycopg.connect(migrated_dsn) as conn:
        warehouse = conn.execute(
            "INSERT INTO warehouses (code, name) VALUES ('MTLS', 'm') RETURNING id"
        ).fetchone()
        user = conn.execute(
            "INSERT INTO users (email, role, password_hash) VALUES ('m@example.com', 'clerk', '!') "
            "RETURNING id"
        ).fetchone()
    assert warehouse is not None
    assert user is not None
    health_port = free_port()
    env = {
        "DATABASE_URL": migrated_dsn,
        "INVENTORY_TLS_CERT_FILE": str(paths["server.pem"]),
        "INVENTORY_TLS_KEY_FILE": str(paths["server.key"]),
        "INVENTORY_TLS_CLIENT_CA_FILE": str(paths["ca.pem"]),
        "INVENTORY_HEALTH_PORT": str(health_port),
    }
    server = start_server(tmp_path, env, health_target=f"127.0.0.1:{health_port}")
    try:
        credentials = grpc.ssl_channel_credentials(
            root_certificates=ca.cert_pem.bytes(),
            private_key=client_cert.private_key_pem.bytes(),
            certificate_chain=b"".join(blob.bytes() for blob in client_cert.cert_chain_pems),
        )
        with InventoryClient(server.target, credentials=credentials, timeout=10) as client:
            product = client.products.CreateProduct(
                product_pb2.CreateProductRequest(product=product_pb2.Product(sku="MTLS-1", name="m"))
            ).product
            receipt = client.stock.ReceiveStock(
                stock_pb2.ReceiveStockRequest(
                    product_id=product.id,
                    warehouse_id=str(warehouse[0]),
                    quantity=3,
                    performed_by=str(user[0]),
                )
            )
        assert receipt.transaction.caller == "orders-service"
        assert receipt.transaction.performed_by == str(user[0])
    finally:
        assert server.stop() == 0, server.log()
