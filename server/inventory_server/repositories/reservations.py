"""Open reservations over PostgreSQL (``open_reservations``, kept by a ledger trigger, migration 0012)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any
from uuid import UUID

from inventory_server.db.listing import FieldSpec, ResourceFields, plan_list
from inventory_server.db.query import col, func, select
from inventory_server.domain.paging import ListQuery, Page
from inventory_server.domain.reservations import ClaimedReservation, DueReservation, OpenReservation
from inventory_server.domain.stock import LevelKey
from inventory_server.repositories.executor import StatementExecutor

TABLE = "open_reservations"
COLUMNS = (
    "reservation_id",
    "product_id",
    "warehouse_id",
    "quantity",
    "remaining",
    "reference",
    "expire_time",
    "create_time",
)

RESERVATION_LIST_FIELDS = ResourceFields(
    "open_reservations",
    (
        FieldSpec("product_id", "product_id", "uuid"),
        FieldSpec("warehouse_id", "warehouse_id", "uuid"),
        FieldSpec("reference", "reference", "text"),
        FieldSpec("expire_time", "expire_time", "timestamp", sortable=True),
        FieldSpec("create_time", "create_time", "timestamp", sortable=True),
    ),
    key=(FieldSpec("id", "reservation_id", "uuid", filterable=False, sortable=False),),
    default_order="create_time",
    soft_delete_column=None,
)


def _reservation(row: Mapping[str, Any]) -> OpenReservation:
    return OpenReservation(
        id=row["reservation_id"],
        product_id=row["product_id"],
        warehouse_id=row["warehouse_id"],
        quantity=row["quantity"],
        remaining=row["remaining"],
        reference=row["reference"],
        expire_time=row["expire_time"],
        create_time=row["create_time"],
    )


class ReservationRepository(StatementExecutor):
    """Lists open reservations and hands due ones to the expiry sweeper."""

    stats_prefix = "reservations"

    async def list(self, query: ListQuery) -> Page[OpenReservation]:
        with self.operation("list"):
            plan = plan_list(RESERVATION_LIST_FIELDS, query)
            rows = await self.fetch_all(plan.apply(select(*COLUMNS).from_(TABLE)))
            page_rows, next_token = plan.split(rows)
            return Page([_reservation(row) for row in page_rows], next_token)

    async def due(self, limit: int) -> Sequence[DueReservation]:
        """Up to ``limit`` reservations past their expire_time (by the database's clock), oldest first."""
        with self.operation("due"):
            rows = await self.fetch_all(
                select("reservation_id", "product_id", "warehouse_id")
                .from_(TABLE)
                .where(col("expire_time").le(func("now")))
                .order_by("expire_time")
                .limit(limit)
            )
            return [
                DueReservation(LevelKey(row["warehouse_id"], row["product_id"]), row["reservation_id"])
                for row in rows
            ]

    async def claim_expired(self, id: UUID) -> ClaimedReservation | None:
        """What remains of reservation ``id`` if it is expired and no one else holds it; else None.

        Call it with the reservation's level locked: that is the lock every
        consumer of the reservation takes first, so the order is always level
        then reservation, and ``SKIP LOCKED`` lets a second sweeper move on.
        """
        with self.operation("claim_expired"):
            row = await self.fetch_one(
                select("remaining", "performed_by")
                .from_(TABLE)
                .where(col("reservation_id").eq(id), col("expire_time").le(func("now")))
                .for_update(skip_locked=True)
            )
            return None if row is None else ClaimedReservation(int(row["remaining"]), row["performed_by"])
