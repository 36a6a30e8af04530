"""Both clients against the real server over mutual TLS (client_cert/client_key) with a token."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
import pytest
import trustme

from inventory_client import AsyncInventoryClient, InventoryClient, UnavailableError
from inventory_client.v1 import product_pb2, stock_pb2

from .conftest import ServerProcess, free_port, start_server


@dataclass(frozen=True)
class MutualTls:
    server: ServerProcess
    ca_pem: bytes
    client_cert: bytes
    client_key: bytes
    warehouse: str
    user: str


@pytest.fixture
def mtls(migrated_dsn: str, tmp_path: Path) -> Iterator[MutualTls]:
    ca = trustme.CA()
    server_cert = ca.issue_cert("inventory.test")
    client_cert = ca.issue_cert("billing-service", common_name="billing-service")
    for blob in server_cert.cert_chain_pems:
        blob.write_to_path(str(tmp_path / "server.pem"), append=True)
    server_cert.private_key_pem.write_to_path(str(tmp_path / "server.key"))
    ca.cert_pem.write_to_path(str(tmp_path / "ca.pem"))
    with psycopg.connect(migrated_dsn) as conn:
        warehouse = conn.execute(
            "INSERT INTO warehouses (code, name) VALUES ('TLS', 't') RETURNING id"
        ).fetchone()
        user = conn.execute(
            "INSERT INTO users (email, role, password_hash)"
            " VALUES ('t@example.com', 'clerk', '!') RETURNING id"
        ).fetchone()
    assert warehouse is not None
    assert user is not None
    health_port = free_port()
    env = {
        "DATABASE_URL": migrated_dsn,
        "INVENTORY_TLS_CERT_FILE": str(tmp_path / "server.pem"),
        "INVENTORY_TLS_KEY_FILE": str(tmp_path / "server.key"),
        "INVENTORY_TLS_CLIENT_CA_FILE": str(tmp_path / "ca.pem"),
        "INVENTORY_HEALTH_PORT": str(health_port),
    }
    server = start_server(tmp_path, env, health_target=f"127.0.0.1:{health_port}")
    try:
        yield MutualTls(
            server,
            ca.cert_pem.bytes(),
            b"".join(blob.bytes() for blob in client_cert.cert_chain_pems),
            client_cert.private_key_pem.bytes(),
            str(warehouse[0]),
            str(user[0]),
        )
    finally:
        assert server.stop() == 0, server.log()


def _settings(mtls: MutualTls) -> dict[str, Any]:
    return {
        "root_certificates": mtls.ca_pem,
        "client_cert": mtls.client_cert,
        "client_key": mtls.client_key,
        "tls_server_name": "inventory.test",  # the server's certificate names inventory.test, not 127.0.0.1
        "token": "a-token-the-server-may-check",
        "timeout": 10,
    }


def test_sync_client_over_mutual_tls_is_recorded_as_the_certificates_service(mtls: MutualTls) -> None:
    with InventoryClient(mtls.server.target, **_settings(mtls)) as client:
        product = client.products.CreateProduct(
            product_pb2.CreateProductRequest(product=product_pb2.Product(sku="TLS-C1", name="t"))
        ).product
        receipt = client.stock.ReceiveStock(
            stock_pb2.ReceiveStockRequest(
                product_id=product.id, warehouse_id=mtls.warehouse, quantity=4, performed_by=mtls.user
            )
        )
        assert receipt.transaction.caller == "billing-service"
        assert [row.caller for row in client.iter_transactions()] == ["billing-service"]
    without_certificate = {**_settings(mtls), "client_cert": None, "client_key": None, "max_attempts": 1}
    with (
        InventoryClient(mtls.server.target, **without_certificate) as anonymous,
        pytest.raises(UnavailableError),
    ):
        anonymous.products.ListProducts(product_pb2.ListProductsRequest())


async def test_async_client_over_mutual_tls(mtls: MutualTls) -> None:
    async with AsyncInventoryClient(mtls.server.target, **_settings(mtls)) as client:
        await client.products.CreateProduct(
            product_pb2.CreateProductRequest(product=product_pb2.Product(sku="TLS-A1", name="t"))
        )
        assert [p.sku async for p in client.iter_products()] == ["TLS-A1"]
