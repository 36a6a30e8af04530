"""Stock levels, the movement commands that change them, and the rules they obey.

Invariants, for every (product, warehouse): ``on_hand >= 0``,
``0 <= reserved <= on_hand``, and ``on_hand`` equals the sum of that pair's
ledger movements. ``available = on_hand - reserved`` is what can be shipped,
transferred or reserved.

>>> from uuid import UUID
>>> level = StockLevel(UUID(int=1), UUID(int=2), on_hand=10, reserved=4)
>>> level.available, level.allows(on_hand=-6), level.allows(on_hand=-7), level.allows(reserved=-5)
(6, True, False, False)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from uuid import UUID

from inventory_server.domain.errors import (
    FailedPrecondition,
    FieldViolation,
    InvalidArgument,
    PreconditionViolation,
)
from inventory_server.domain.requests import MAX_REQUEST_ID_LENGTH

MAX_REFERENCE_LENGTH = 200
MAX_REASON_LENGTH = 1000
# Far above any real stock, and low enough that sums of quantities stay inside bigint.
MAX_QUANTITY = 10**12
# How long a reservation holds when the request names no ttl, and the longest it may.
DEFAULT_RESERVATION_TTL = timedelta(hours=1)
MAX_RESERVATION_TTL = timedelta(days=30)


@dataclass(frozen=True, slots=True, order=True)
class LevelKey:
    """Which level: ordered like the primary key, (warehouse_id, product_id) — the lock order."""

    warehouse_id: UUID
    product_id: UUID

    @property
    def subject(self) -> str:
        """How errors name the level: ``products/<id>/warehouses/<id>``."""
        return f"products/{self.product_id}/warehouses/{self.warehouse_id}"


@dataclass(frozen=True, slots=True)
class StockLevel:
    """The stock of one product in one warehouse; ``update_time`` is None for a pair never stocked."""

    product_id: UUID
    warehouse_id: UUID
    on_hand: int = 0
    reserved: int = 0
    update_time: datetime | None = None

    @property
    def available(self) -> int:
        return self.on_hand - self.reserved

    @property
    def key(self) -> LevelKey:
        return LevelKey(self.warehouse_id, self.product_id)

    def allows(self, *, on_hand: int = 0, reserved: int = 0) -> bool:
        """Whether changing on_hand and reserved by these amounts keeps ``0 <= reserved <= on_hand``."""
        new_reserved = self.reserved + reserved
        return 0 <= new_reserved <= self.on_hand + on_hand


# errors -----------------------------------------------------------------------
def insufficient_stock(key: LevelKey, level: StockLevel | None, requested: int) -> FailedPrecondition:
    """FAILED_PRECONDITION for taking ``requested`` units when fewer are available."""
    available = level.available if level is not None else 0
    reserved = level.reserved if level is not None else 0
    description = f"{requested} requested but only {available} available ({reserved} reserved)"
    return FailedPrecondition(
        f"insufficient stock at {key.subject}: {description}",
        reason="INSUFFICIENT_STOCK",
        metadata={"available": str(available), "requested": str(requested)},
        violations=[PreconditionViolation("STOCK", key.subject, description)],
    )


def insufficient_reservation(reservation_id: UUID, remaining: int, requested: int) -> FailedPrecondition:
    """FAILED_PRECONDITION for consuming more of a reservation than is left of it."""
    subject = f"reservations/{reservation_id}"
    if requested == 0:
        description = "nothing is left of this reservation"
        reason = "RESERVATION_CONSUMED"
    else:
        description = f"{requested} requested but only {remaining} remain reserved"
        reason = "INSUFFICIENT_RESERVATION"
    return FailedPrecondition(
        f"reservation {reservation_id}: {description}",
        reason=reason,
        metadata={"remaining": str(remaining), "requested": str(requested)},
        violations=[PreconditionViolation("RESERVATION", subject, description)],
    )


def reservation_expired(reservation_id: UUID, expire_time: datetime | None) -> FailedPrecondition:
    """FAILED_PRECONDITION for shipping against or releasing a reservation past its expire_time."""
    when = expire_time.isoformat() if expire_time is not None else "its expire_time"
    description = f"the reservation expired at {when}; its units are (being) released by the service"
    return FailedPrecondition(
        f"reservation {reservation_id}: {description}",
        reason="RESERVATION_EXPIRED",
        metadata={"expire_time": when},
        violations=[PreconditionViolation("RESERVATION", f"reservations/{reservation_id}", description)],
    )


# commands ---------------------------------------------------------------------
@dataclass(frozen=True, slots=True, kw_only=True)
class _Command:
    """What every movement carries: the idempotency key and who did it."""

    request_id: str
    performed_by: UUID

    def violations(self) -> list[FieldViolation]:
        """Every bad field of the command (empty when it is valid)."""
        found: list[FieldViolation] = []
        if not self.request_id:
            found.append(FieldViolation("request_id", "is required"))
        elif len(self.request_id) > MAX_REQUEST_ID_LENGTH:
            found.append(FieldViolation("request_id", f"must be at most {MAX_REQUEST_ID_LENGTH} characters"))
        return found

    def check(self) -> None:
        """Raise InvalidArgument naming every bad field."""
        found = self.violations()
        if found:
            names = ", ".join(v.field for v in found)
            raise InvalidArgument(f"invalid request: {names}", violations=found)


def _positive(name: str, value: int, found: list[FieldViolation]) -> None:
    if value <= 0:
        found.append(FieldViolation(name, "must be a positive number of units"))
    elif value > MAX_QUANTITY:
        found.append(FieldViolation(name, f"must be at most {MAX_QUANTITY} units"))


def _reference(value: str, found: list[FieldViolation]) -> None:
    if len(value) > MAX_REFERENCE_LENGTH:
        found.append(FieldViolation("reference", f"must be at most {MAX_REFERENCE_LENGTH} characters"))


@dataclass(frozen=True, slots=True, kw_only=True)
class PairMovement(_Command):
    """A movement of ``quantity`` units of one product in one warehouse (receive, ship, reserve)."""

    product_id: UUID
    warehouse_id: UUID
    quantity: int
    reference: str = ""

    def violations(self) -> list[FieldViolation]:
        found = _Command.violations(self)
        _positive("quantity", self.quantity, found)
        _reference(self.reference, found)
        return found

    @property
    def key(self) -> LevelKey:
        """The stock level this movement changes."""
        return LevelKey(self.warehouse_id, self.product_id)


@dataclass(frozen=True, slots=True, kw_only=True)
class ReceiveStock(PairMovement):
    """Book ``quantity`` units into a warehouse."""


@dataclass(frozen=True, slots=True, kw_only=True)
class ShipStock(PairMovement):
    """Book ``quantity`` units out of a warehouse, from available stock or from a reservation."""

    reservation_id: UUID | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class TransferStock(_Command):
    """Move ``quantity`` units between two different warehouses."""

    product_id: UUID
    from_warehouse_id: UUID
    to_warehouse_id: UUID
    quantity: int
    reference: str = ""

    def violations(self) -> list[FieldViolation]:
        found = _Command.violations(self)
        _positive("quantity", self.quantity, found)
        _reference(self.reference, found)
        if self.from_warehouse_id == self.to_warehouse_id:
            found.append(FieldViolation("to_warehouse_id", "must differ from from_warehouse_id"))
        return found

    @property
    def keys(self) -> tuple[LevelKey, LevelKey]:
        """(source, destination)."""
        return (
            LevelKey(self.from_warehouse_id, self.product_id),
            LevelKey(self.to_warehouse_id, self.product_id),
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class AdjustStock(_Command):
    """Correct on_hand to a counted quantity, or by a signed non-zero delta; ``reason`` is required.

    Exactly one of ``counted_quantity`` and ``delta`` is set.
    """

    product_id: UUID
    warehouse_id: UUID
    reason: str
    counted_quantity: int | None = None
    delta: int | None = None

    def violations(self) -> list[FieldViolation]:
        found = _Command.violations(self)
        if (self.counted_quantity is None) == (self.delta is None):
            found.append(FieldViolation("adjustment", "set exactly one of counted_quantity and delta"))
        elif self.counted_quantity is not None and not 0 <= self.counted_quantity <= MAX_QUANTITY:
            found.append(FieldViolation("counted_quantity", f"must be between 0 and {MAX_QUANTITY}"))
        elif self.delta is not None and not 0 < abs(self.delta) <= MAX_QUANTITY:
            found.append(FieldViolation("delta", f"must not be zero, and at most {MAX_QUANTITY} either way"))
        if not self.reason.strip():
            found.append(FieldViolation("reason", "is required"))
        elif len(self.reason) > MAX_REASON_LENGTH:
            found.append(FieldViolation("reason", f"must be at most {MAX_REASON_LENGTH} characters"))
        return found

    def change_from(self, on_hand: int) -> int:
        """The signed change to on_hand this adjustment makes to a level holding ``on_hand`` units."""
        if self.counted_quantity is not None:
            return self.counted_quantity - on_hand
        return self.delta or 0


@dataclass(frozen=True, slots=True, kw_only=True)
class ReserveStock(PairMovement):
    """Set ``quantity`` available units aside for ``ttl`` (None: the default, one hour)."""

    ttl: timedelta | None = None

    def violations(self) -> list[FieldViolation]:
        found = PairMovement.violations(self)
        if self.ttl is not None and not timedelta(0) < self.ttl <= MAX_RESERVATION_TTL:
            found.append(
                FieldViolation("ttl", f"must be positive and at most {MAX_RESERVATION_TTL.days} days")
            )
        return found

    @property
    def lifetime(self) -> timedelta:
        return self.ttl if self.ttl is not None else DEFAULT_RESERVATION_TTL


@dataclass(frozen=True, slots=True, kw_only=True)
class ReleaseReservation(_Command):
    """Give ``quantity`` units of a reservation back to available; 0 gives back all that remains."""

    reservation_id: UUID
    quantity: int = 0

    def violations(self) -> list[FieldViolation]:
        found = _Command.violations(self)
        if not 0 <= self.quantity <= MAX_QUANTITY:
            found.append(FieldViolation("quantity", f"must be 0 (everything left) to {MAX_QUANTITY}"))
        return found

    def units_from(self, remaining: int) -> int:
        """How many units to release when ``remaining`` are left; FailedPrecondition if too many."""
        units = self.quantity or remaining
        if units == 0 or units > remaining:
            raise insufficient_reservation(self.reservation_id, remaining, self.quantity)
        return units


@dataclass(frozen=True, slots=True)
class Reservation:
    """What is left of a reservation: its RESERVATION row's quantity minus what shipped or was released."""

    id: UUID
    product_id: UUID
    warehouse_id: UUID
    quantity: int
    consumed: int = field(default=0)
    expire_time: datetime | None = None
    expired: bool = False  # by the database's clock when it was read

    @property
    def remaining(self) -> int:
        return self.quantity - self.consumed

    @property
    def key(self) -> LevelKey:
        return LevelKey(self.warehouse_id, self.product_id)
