"""What a stock movement returns, and how it is remembered for request_id replays.

The whole result is stored in ``idempotency_keys.response``: a retry gets the
ledger row and the level(s) exactly as they were right after the original
movement, without reading anything that may have changed since.

>>> from uuid import UUID
>>> level = StockLevel(UUID(int=1), UUID(int=2), on_hand=5)
>>> MovementResult.from_json(MovementResult(None, (level,)).to_json()) == MovementResult(None, (level,))
True
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from inventory_server.domain.stock import StockLevel
from inventory_server.domain.transaction import StockTransaction, TransactionType


@dataclass(frozen=True, slots=True)
class MovementResult:
    """The ledger row written (None for an adjustment that changed nothing) and the resulting level(s).

    A transfer has two levels, (source, destination); every other movement one.
    """

    transaction: StockTransaction | None
    levels: tuple[StockLevel, ...]

    @property
    def level(self) -> StockLevel:
        return self.levels[0]

    def to_json(self) -> dict[str, Any]:
        return {
            "transaction": None if self.transaction is None else _transaction_json(self.transaction),
            "levels": [_level_json(level) for level in self.levels],
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> MovementResult:
        stored = data.get("transaction")
        return cls(
            None if stored is None else _transaction_from_json(stored),
            tuple(_level_from_json(level) for level in data["levels"]),
        )


def _time(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def _parse_time(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value)


def _uuid(value: str | None) -> UUID | None:
    return None if value is None else UUID(value)


def _level_json(level: StockLevel) -> dict[str, Any]:
    return {
        "product_id": str(level.product_id),
        "warehouse_id": str(level.warehouse_id),
        "on_hand": level.on_hand,
        "reserved": level.reserved,
        "update_time": _time(level.update_time),
    }


def _level_from_json(data: dict[str, Any]) -> StockLevel:
    return StockLevel(
        product_id=UUID(data["product_id"]),
        warehouse_id=UUID(data["warehouse_id"]),
        on_hand=int(data["on_hand"]),
        reserved=int(data["reserved"]),
        update_time=_parse_time(data["update_time"]),
    )


def _transaction_json(row: StockTransaction) -> dict[str, Any]:
    return {
        "id": str(row.id),
        "type": row.type.value,
        "product_id": str(row.product_id),
        "from_warehouse_id": None if row.from_warehouse_id is None else str(row.from_warehouse_id),
        "to_warehouse_id": None if row.to_warehouse_id is None else str(row.to_warehouse_id),
        "quantity": row.quantity,
        "reservation_id": None if row.reservation_id is None else str(row.reservation_id),
        "reference": row.reference,
        "reason": row.reason,
        "performed_by": str(row.performed_by),
        "caller": row.caller,
        "request_id": row.request_id,
        "create_time": _time(row.create_time),
        "expire_time": _time(row.expire_time),
        "document_id": None if row.document_id is None else str(row.document_id),
    }


def _transaction_from_json(data: dict[str, Any]) -> StockTransaction:
    create_time = _parse_time(data["create_time"])
    if create_time is None:
        raise ValueError("a stored ledger row lacks its create_time")
    return StockTransaction(
        id=UUID(data["id"]),
        type=TransactionType(data["type"]),
        product_id=UUID(data["product_id"]),
        from_warehouse_id=_uuid(data["from_warehouse_id"]),
        to_warehouse_id=_uuid(data["to_warehouse_id"]),
        quantity=int(data["quantity"]),
        reservation_id=_uuid(data["reservation_id"]),
        reference=data["reference"],
        reason=data["reason"],
        performed_by=UUID(data["performed_by"]),
        caller=data["caller"],
        request_id=data["request_id"],
        create_time=create_time,
        expire_time=_parse_time(data.get("expire_time")),
        document_id=_uuid(data.get("document_id")),
    )
