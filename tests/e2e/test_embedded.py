"""`inventory-server serve` with no DATABASE_URL: the newcomer's one command."""

from __future__ import annotations

from pathlib import Path

import pytest

from inventory_client import InventoryClient
from inventory_client.v1 import product_pb2

from .conftest import start_server


def test_serve_without_database_url_uses_embedded_postgres_and_keeps_data(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data_dir = tmp_path / "data"
    env = {"INVENTORY_DATA_DIR": str(data_dir)}
    monkeypatch.delenv("DATABASE_URL", raising=False)
    first = start_server(tmp_path, env)
    try:
        with InventoryClient(first.target, timeout=10) as client:
            created = client.products.CreateProduct(
                product_pb2.CreateProductRequest(product=product_pb2.Product(sku="EMB-1", name="Embedded"))
            ).product
    finally:
        assert first.stop() == 0, first.log()
    assert str(data_dir.resolve()) in first.log()
    assert "DATABASE_URL" in first.log()

    second = start_server(tmp_path, env)
    try:
        with InventoryClient(second.target, timeout=10) as client:
            again = client.products.GetProduct(product_pb2.GetProductRequest(id=created.id)).product
        assert again.sku == "EMB-1"
    finally:
        assert second.stop() == 0, second.log()
