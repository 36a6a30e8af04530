"""Open reservations as ListReservations shows them, and how the service marks the expiries it releases."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from inventory_server.domain.stock import LevelKey

# The RELEASE row of an expired reservation: written by the service itself (its caller), in the
# name of whoever made the reservation (performed_by must name a user).
EXPIRY_REASON = "reservation expired"
SERVICE_CALLER = "inventory-server"


@dataclass(frozen=True, slots=True)
class OpenReservation:
    """A reservation with units still set aside."""

    id: UUID
    product_id: UUID
    warehouse_id: UUID
    quantity: int
    remaining: int
    reference: str
    expire_time: datetime | None
    create_time: datetime

    @property
    def key(self) -> LevelKey:
        return LevelKey(self.warehouse_id, self.product_id)


@dataclass(frozen=True, slots=True)
class ClaimedReservation:
    """What the sweeper releases: the units left and who made the reservation."""

    remaining: int
    performed_by: UUID


@dataclass(frozen=True, slots=True, order=True)
class DueReservation:
    """A reservation past its expire_time that still holds units (ordered by its level: the lock order)."""

    key: LevelKey
    id: UUID
