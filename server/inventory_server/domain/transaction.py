"""Ledger rows: the append-only record of every stock movement.

A row is never changed or deleted; a correction is a new row. Its quantity is
always positive and the warehouse columns give the direction:

==============  ======================  ==========================================
type            warehouse columns       effect
==============  ======================  ==========================================
receipt         to                      on_hand += quantity at to
shipment        from                    on_hand -= quantity at from (and reserved
                                        -= quantity when it has a reservation_id)
transfer        from and to             on_hand -= quantity at from, += at to
adjustment      to (up) or from (down)  on_hand += / -= quantity
reservation     from                    reserved += quantity at from
release         from                    reserved -= quantity at from
==============  ======================  ==========================================

>>> from uuid import UUID
>>> w = UUID(int=1)
>>> row = NewTransaction(type=TransactionType.TRANSFER, product_id=UUID(int=9), quantity=4,
...                      performed_by=UUID(int=7), request_id="r-1",
...                      from_warehouse_id=w, to_warehouse_id=UUID(int=2))
>>> row.on_hand_change(w), row.on_hand_change(UUID(int=2)), row.reserved_change(w)
(-4, 4, 0)
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from uuid import UUID

TYPE_NAME_PREFIX = "TRANSACTION_TYPE_"


class TransactionType(StrEnum):
    """The kinds of ledger rows; the values are the codes in ``transaction_types``."""

    RECEIPT = "receipt"
    SHIPMENT = "shipment"
    TRANSFER = "transfer"
    ADJUSTMENT = "adjustment"
    RESERVATION = "reservation"
    RELEASE = "release"

    @property
    def api_name(self) -> str:
        """The proto enum name, e.g. ``TRANSACTION_TYPE_SHIPMENT``."""
        return TYPE_NAME_PREFIX + self.name

    @classmethod
    def from_name(cls, text: str) -> TransactionType | None:
        """The type named ``text`` ("TRANSACTION_TYPE_SHIPMENT", "SHIPMENT", "shipment"), or None.

        >>> TransactionType.from_name("transaction_type_release"), TransactionType.from_name("x")
        (<TransactionType.RELEASE: 'release'>, None)
        """
        upper = text.strip().upper()
        name = upper.removeprefix(TYPE_NAME_PREFIX)
        return cls.__members__.get(name)


_ADDS_ON_HAND = frozenset({TransactionType.RECEIPT, TransactionType.TRANSFER, TransactionType.ADJUSTMENT})
_REMOVES_ON_HAND = frozenset({TransactionType.SHIPMENT, TransactionType.TRANSFER, TransactionType.ADJUSTMENT})


@dataclass(frozen=True, slots=True, kw_only=True)
class _Movement:
    """What a ledger row says, with or without the columns the database fills in."""

    type: TransactionType
    product_id: UUID
    quantity: int
    performed_by: UUID
    request_id: str
    from_warehouse_id: UUID | None = None
    to_warehouse_id: UUID | None = None
    reservation_id: UUID | None = None
    reference: str = ""
    reason: str = ""
    caller: str = ""
    expire_time: datetime | None = None  # RESERVATION rows: when the service releases what is left
    document_id: UUID | None = (
        None  # the ApplyStockMovements document the row belongs to (set by the database)
    )

    def on_hand_change(self, warehouse_id: UUID) -> int:
        """How this row changes on_hand of its product in ``warehouse_id``."""
        change = 0
        if self.type in _ADDS_ON_HAND and self.to_warehouse_id == warehouse_id:
            change += self.quantity
        if self.type in _REMOVES_ON_HAND and self.from_warehouse_id == warehouse_id:
            change -= self.quantity
        return change

    def reserved_change(self, warehouse_id: UUID) -> int:
        """How this row changes reserved of its product in ``warehouse_id``."""
        if self.from_warehouse_id != warehouse_id:
            return 0
        if self.type is TransactionType.RESERVATION:
            return self.quantity
        if self.type is TransactionType.RELEASE:
            return -self.quantity
        if self.type is TransactionType.SHIPMENT and self.reservation_id is not None:
            return -self.quantity
        return 0


@dataclass(frozen=True, slots=True, kw_only=True)
class NewTransaction(_Movement):
    """A ledger row about to be written."""


@dataclass(frozen=True, slots=True, kw_only=True)
class StockTransaction(_Movement):
    """A ledger row as stored: with its id and the time it was written."""

    id: UUID
    create_time: datetime
