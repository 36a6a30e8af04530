"""What the stock use cases need from repositories (PostgreSQL here, in-memory fakes in tests).

Like ``repositories.interfaces``: a repository is handed a connection by the
unit of work, never opens or commits one, and reports domain errors.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol
from uuid import UUID

from inventory_server.db.query import Condition
from inventory_server.domain.movement_summary import Grouping, MovementSummary
from inventory_server.domain.paging import ListQuery, Page
from inventory_server.domain.reservations import ClaimedReservation, DueReservation, OpenReservation
from inventory_server.domain.stock import LevelKey, Reservation, StockLevel
from inventory_server.domain.stock_changes import ChangeBatch, StreamBounds
from inventory_server.domain.transaction import NewTransaction, StockTransaction
from inventory_server.repositories.interfaces import Claim

__all__ = [
    "Claim",
    "LevelLookup",
    "LevelMove",
    "LevelMoveOutcome",
    "Reference",
    "ReservationRepository",
    "StockChangeRepository",
    "StockLevelRepository",
    "StockMoveRepository",
    "TransactionRepository",
]


@dataclass(frozen=True, slots=True)
class LevelLookup:
    """GetStockLevel's answer: whether the ids name known rows, and the level if the pair was stocked."""

    product_found: bool
    warehouse_found: bool
    level: StockLevel | None


@dataclass(frozen=True, slots=True)
class Reference:
    """A row a movement refers to, which must exist and not be soft-deleted."""

    resource: str  # "product", "warehouse" or "user"
    field: str  # the request field that named it
    id: UUID


@dataclass(frozen=True, slots=True)
class LevelMove:
    """A movement of one level, done at once: claim, check, change the level, append the ledger row.

    ``upsert``: add ``on_hand`` (> 0) creating the level if needed (a receipt);
    else the guarded change of ``on_hand`` and ``reserved`` (``StockLevelRepository.change``).
    """

    claim: Claim | None
    references: Sequence[Reference]
    key: LevelKey
    on_hand: int
    reserved: int
    upsert: bool
    row: NewTransaction


@dataclass(frozen=True, slots=True)
class LevelMoveOutcome:
    """What ``StockMoveRepository.apply`` did: everything (``transaction`` set) or nothing but the claim.

    ``claimed`` False: an earlier request holds the request_id; ``missing``: the
    first reference that is not live; neither: the guarded change refused.
    """

    claimed: bool
    missing: Reference | None = None
    level: StockLevel | None = None
    transaction: StockTransaction | None = None


class StockLevelRepository(Protocol):
    async def read(
        self, product_id: UUID, warehouse_id: UUID, *, read_time: datetime | None = None
    ) -> LevelLookup:
        """The level of a pair and whether its product and warehouse exist (deleted or not)."""
        ...

    async def list(
        self,
        query: ListQuery,
        *,
        product_id: UUID | None = None,
        warehouse_id: UUID | None = None,
        below_reorder_point: bool = False,
        read_time: datetime | None = None,
    ) -> Page[StockLevel]:
        """A keyset page; bad filter / order_by / page_token -> InvalidArgument."""
        ...

    async def add(self, key: LevelKey, quantity: int) -> StockLevel:
        """on_hand += quantity (> 0), creating the level if the pair was never stocked."""
        ...

    async def change(self, key: LevelKey, *, on_hand: int = 0, reserved: int = 0) -> StockLevel | None:
        """Add to on_hand and reserved if 0 <= reserved <= on_hand holds after; else (or no row) None."""
        ...

    async def ensure(self, key: LevelKey) -> None:
        """Create a zero level for the pair unless it exists."""
        ...

    async def lock(self, keys: Sequence[LevelKey]) -> dict[LevelKey, StockLevel]:
        """Lock the existing levels among ``keys`` in primary-key order until the transaction ends."""
        ...


class StockMoveRepository(Protocol):
    async def apply(self, move: LevelMove) -> LevelMoveOutcome:
        """Claim, check the references (locked FOR KEY SHARE), change the level and append the row.

        All of it, or nothing but the claim (the outcome says why): the caller
        then takes the step-by-step path in the same transaction.
        """
        ...


class TransactionRepository(Protocol):
    async def append(self, new: NewTransaction) -> StockTransaction:
        """Write a ledger row."""
        ...

    async def get(self, id: UUID, *, for_update: bool = False) -> StockTransaction:
        """The ledger row; NotFound when there is none (``for_update`` is never needed: rows never change)."""
        ...

    async def list(self, query: ListQuery) -> Page[StockTransaction]:
        """A keyset page ordered by (create_time, id); bad input -> InvalidArgument."""
        ...

    async def summarize(
        self, grouping: Grouping, start: datetime, end: datetime, query: ListQuery
    ) -> Page[MovementSummary]:
        """A keyset page of the movement totals of ``[start, end)`` per group.

        A bad filter or page token -> InvalidArgument.
        """
        ...

    async def get_reservation(self, id: UUID) -> Reservation:
        """A RESERVATION row with what has been consumed of it so far; NotFound for any other id."""
        ...

    async def ensure_live(self, references: Sequence[Reference]) -> None:
        """NotFound naming the first reference that does not exist or is soft-deleted."""
        ...

    async def tag_document(self, document_id: UUID) -> None:
        """Every row this transaction appends from now on belongs to the movement document ``document_id``."""
        ...


class StockChangeRepository(Protocol):
    """The change stream's positions (``stock_changes``): read by watchers, purged past retention."""

    async def bounds(self) -> StreamBounds:
        """The oldest position still resumable from and the latest committed one."""
        ...

    async def read_after(self, after: int, condition: Condition | None, limit: int) -> ChangeBatch:
        """Up to ``limit`` committed changes after position ``after`` that match ``condition``."""
        ...

    async def purge_older_than(self, retention: timedelta, *, limit: int) -> int:
        """Forget up to ``limit`` positions committed more than ``retention`` ago; how many."""
        ...


class ReservationRepository(Protocol):
    """Open reservations: listed, and handed to the expiry sweeper when due."""

    async def list(self, query: ListQuery) -> Page[OpenReservation]:
        """One page of open reservations."""
        ...

    async def due(self, limit: int) -> Sequence[DueReservation]:
        """Up to ``limit`` reservations past their expire_time, oldest first."""
        ...

    async def claim_expired(self, id: UUID) -> ClaimedReservation | None:
        """What remains of reservation ``id`` if it is expired and no one else holds it; else None."""
        ...
