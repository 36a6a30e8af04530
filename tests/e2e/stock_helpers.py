"""Helpers for the stock and ledger end-to-end tests.

Warehouses and users are inserted straight into the test database (their
services are built separately); products go through the API. ``raw_stock``
calls the generated stub without the client wrapper, which would fill an
empty request_id.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import grpc
import psycopg

from inventory_client import InventoryClient
from inventory_client.errors import from_rpc_error
from inventory_client.v1 import product_pb2, stock_pb2, stock_pb2_grpc


def insert_warehouse(dsn: str, *, deleted: bool = False) -> str:
    warehouse_id = uuid.uuid4()
    with psycopg.connect(dsn) as conn:
        conn.execute(
            "INSERT INTO warehouses (id, code, name, delete_time)"
            " VALUES (%s, %s, 'Depot', CASE WHEN %s THEN now() END)",
            (warehouse_id, f"WH-{warehouse_id.hex[:10]}", deleted),
        )
    return str(warehouse_id)


def insert_user(dsn: str, *, deleted: bool = False) -> str:
    """A user row; the password hash is a dummy since nobody logs in here."""
    user_id = uuid.uuid4()
    with psycopg.connect(dsn) as conn:
        conn.execute(
            "INSERT INTO users (id, email, role, password_hash, delete_time)"
            " VALUES (%s, %s, 'clerk', 'x', CASE WHEN %s THEN now() END)",
            (user_id, f"{user_id.hex[:10]}@example.com", deleted),
        )
    return str(user_id)


def create_product(client: InventoryClient, *, reorder_point: int = 0) -> str:
    product = product_pb2.Product(
        sku=f"SKU-{uuid.uuid4().hex[:10]}", name="Widget", reorder_point=reorder_point
    )
    return client.products.CreateProduct(product_pb2.CreateProductRequest(product=product)).product.id


def ledger_rows(dsn: str, where: str = "TRUE", params: tuple[Any, ...] = ()) -> int:
    """How many ledger rows match ``where`` (test-controlled SQL)."""
    with psycopg.connect(dsn) as conn:
        row = conn.execute(f"SELECT count(*) FROM stock_transactions WHERE {where}", params).fetchone()
    return int(row[0]) if row else 0


@dataclass(frozen=True)
class World:
    """A product, three warehouses and a user to move stock with."""

    client: InventoryClient
    dsn: str
    product: str
    warehouses: tuple[str, str, str]
    user: str

    @property
    def warehouse(self) -> str:
        return self.warehouses[0]

    def receive(
        self, quantity: int, warehouse: str | None = None, **fields: Any
    ) -> stock_pb2.ReceiveStockResponse:
        return self.client.stock.ReceiveStock(
            stock_pb2.ReceiveStockRequest(
                product_id=fields.pop("product_id", self.product),
                warehouse_id=warehouse or self.warehouse,
                quantity=quantity,
                performed_by=fields.pop("performed_by", self.user),
                **fields,
            )
        )

    def ship(self, quantity: int, warehouse: str | None = None, **fields: Any) -> stock_pb2.ShipStockResponse:
        return self.client.stock.ShipStock(
            stock_pb2.ShipStockRequest(
                product_id=fields.pop("product_id", self.product),
                warehouse_id=warehouse or self.warehouse,
                quantity=quantity,
                performed_by=fields.pop("performed_by", self.user),
                **fields,
            )
        )

    def reserve(
        self, quantity: int, warehouse: str | None = None, **fields: Any
    ) -> stock_pb2.ReserveStockResponse:
        return self.client.stock.ReserveStock(
            stock_pb2.ReserveStockRequest(
                product_id=fields.pop("product_id", self.product),
                warehouse_id=warehouse or self.warehouse,
                quantity=quantity,
                performed_by=fields.pop("performed_by", self.user),
                **fields,
            )
        )

    def release(
        self, reservation_id: str, quantity: int = 0, **fields: Any
    ) -> stock_pb2.ReleaseReservationResponse:
        return self.client.stock.ReleaseReservation(
            stock_pb2.ReleaseReservationRequest(
                reservation_id=reservation_id,
                quantity=quantity,
                performed_by=fields.pop("performed_by", self.user),
                **fields,
            )
        )

    def transfer(
        self, quantity: int, source: str, destination: str, **fields: Any
    ) -> stock_pb2.TransferStockResponse:
        return self.client.stock.TransferStock(
            stock_pb2.TransferStockRequest(
                product_id=fields.pop("product_id", self.product),
                from_warehouse_id=source,
                to_warehouse_id=destination,
                quantity=quantity,
                performed_by=fields.pop("performed_by", self.user),
                **fields,
            )
        )

    def adjust(self, warehouse: str | None = None, **fields: Any) -> stock_pb2.AdjustStockResponse:
        return self.client.stock.AdjustStock(
            stock_pb2.AdjustStockRequest(
                product_id=fields.pop("product_id", self.product),
                warehouse_id=warehouse or self.warehouse,
                performed_by=fields.pop("performed_by", self.user),
                reason=fields.pop("reason", "cycle count"),
                **fields,
            )
        )

    def level(self, warehouse: str | None = None, product: str | None = None) -> stock_pb2.StockLevel:
        request = stock_pb2.GetStockLevelRequest(
            product_id=product or self.product, warehouse_id=warehouse or self.warehouse
        )
        return self.client.stock.GetStockLevel(request).stock_level


def make_world(client: InventoryClient, dsn: str, *, reorder_point: int = 0) -> World:
    warehouses = (insert_warehouse(dsn), insert_warehouse(dsn), insert_warehouse(dsn))
    return World(
        client, dsn, create_product(client, reorder_point=reorder_point), warehouses, insert_user(dsn)
    )


def raw_stock(client: InventoryClient, method: str, request: Any) -> Any:
    """Call StockService.<method> through the bare generated stub; errors as the client's typed exceptions."""
    stub = stock_pb2_grpc.StockServiceStub(client.channel)
    try:
        return getattr(stub, method)(request, timeout=10)
    except grpc.RpcError as error:
        raise from_rpc_error(error) from error


# Every level equals the sum of its ledger rows (on hand and reserved), per (product, warehouse).
LEDGER_CHECKS = """
WITH movements AS (
    SELECT product_id, to_warehouse_id AS warehouse_id, quantity AS on_hand, 0 AS reserved
      FROM stock_transactions
     WHERE type IN ('receipt', 'transfer', 'adjustment') AND to_warehouse_id IS NOT NULL
    UNION ALL
    SELECT product_id, from_warehouse_id, -quantity, 0
      FROM stock_transactions
     WHERE type IN ('shipment', 'transfer', 'adjustment') AND from_warehouse_id IS NOT NULL
    UNION ALL
    SELECT product_id, from_warehouse_id, 0,
           CASE type WHEN 'reservation' THEN quantity ELSE -quantity END
      FROM stock_transactions
     WHERE type IN ('reservation', 'release') OR (type = 'shipment' AND reservation_id IS NOT NULL)
), sums AS (
    SELECT product_id, warehouse_id, sum(on_hand) AS on_hand, sum(reserved) AS reserved
      FROM movements GROUP BY product_id, warehouse_id
)
SELECT l.product_id, l.warehouse_id, l.on_hand, l.reserved, s.on_hand AS ledger_on_hand,
       s.reserved AS ledger_reserved
  FROM stock_levels l FULL JOIN sums s USING (product_id, warehouse_id)
 WHERE l.on_hand IS DISTINCT FROM s.on_hand OR l.reserved IS DISTINCT FROM s.reserved
"""

# Total on hand, what receipts, shipments and adjustments booked (transfers move, they do not
# add), and the number of ledger rows.
TOTALS = """
SELECT (SELECT coalesce(sum(on_hand), 0) FROM stock_levels),
       (SELECT coalesce(sum(CASE
                   WHEN type = 'receipt' THEN quantity
                   WHEN type = 'shipment' THEN -quantity
                   WHEN type = 'adjustment' AND to_warehouse_id IS NOT NULL THEN quantity
                   WHEN type = 'adjustment' THEN -quantity
                   ELSE 0 END), 0)
          FROM stock_transactions),
       (SELECT count(*) FROM stock_transactions)
"""


def check_invariants(dsn: str) -> dict[str, int]:
    """Assert every invariant from the database alone; return the totals."""
    with psycopg.connect(dsn) as conn:
        broken = conn.execute(
            "SELECT count(*) FROM stock_levels WHERE on_hand < 0 OR reserved < 0 OR reserved > on_hand"
        ).fetchone()
        assert broken == (0,)
        mismatches = conn.execute(LEDGER_CHECKS).fetchall()
        # A level never stocked by a row has no sums: only zero levels may lack ledger rows.
        real = [m for m in mismatches if not (m[2] == 0 and m[3] == 0 and m[4] is None)]
        assert real == [], f"levels disagree with the ledger: {real[:5]}"
        overdrawn = conn.execute(
            "SELECT r.id FROM stock_transactions r JOIN stock_transactions c ON c.reservation_id = r.id"
            " WHERE r.type = 'reservation' GROUP BY r.id, r.quantity HAVING sum(c.quantity) > r.quantity"
        ).fetchall()
        assert overdrawn == []
        totals = conn.execute(TOTALS).fetchone()
        assert totals is not None
        on_hand, booked, rows = (int(v) for v in totals)
        assert on_hand == booked
        return {"on_hand": on_hand, "rows": rows}
