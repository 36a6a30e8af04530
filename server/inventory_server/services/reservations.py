"""Reservations that expire: listing open ones, and the sweeper that releases expired ones.

Every replica runs the sweeper every ``interval`` seconds. It reads the due
reservations, then releases each in its own short transaction, taking locks
in the order every consumer of a reservation takes them — the level first
(``stock_levels.lock``), then the reservation's ``open_reservations`` row
``FOR UPDATE SKIP LOCKED`` — so it never deadlocks with a shipment or a
release, and of two sweepers racing for one reservation the second finds the
row locked or gone and moves on: each expiry is released exactly once. The
release is a RELEASE ledger row written by the service (caller
"inventory-server", reason "reservation expired") in the name of the
reservation's own performer, visible in the change stream like any other.
"""

from __future__ import annotations

import asyncio
import logging

from inventory_server.db.background import BackgroundTask
from inventory_server.domain.errors import DomainError
from inventory_server.domain.paging import ListQuery, Page
from inventory_server.domain.reservations import (
    EXPIRY_REASON,
    SERVICE_CALLER,
    DueReservation,
    OpenReservation,
)
from inventory_server.domain.transaction import NewTransaction, TransactionType
from inventory_server.services.unit_of_work import Transactor, UnitOfWork

log = logging.getLogger(__name__)

SWEEP_BATCH = 200


class ReservationService:
    """ListReservations, and the expiry sweeper (``start``/``stop``)."""

    def __init__(self, runner: Transactor[UnitOfWork], *, interval: float = 2.0) -> None:
        self.runner = runner
        self.interval = interval
        self.expired = 0
        self._task = BackgroundTask("reservation-expiry")

    async def list_reservations(self, query: ListQuery) -> Page[OpenReservation]:
        return await self.runner.read(lambda uow: uow.reservations.list(query))

    async def expire_due(self) -> int:
        """Release every reservation that is due now; how many this replica released."""
        released = 0
        while True:
            due = await self.runner.read(lambda uow: uow.reservations.due(SWEEP_BATCH))
            for reservation in sorted(due):
                if await self._expire_one(reservation):
                    released += 1
            if len(due) < SWEEP_BATCH:
                break
        self.expired += released
        return released

    async def _expire_one(self, reservation: DueReservation) -> bool:
        async def work(uow: UnitOfWork) -> bool:
            return await self._expire(uow, reservation)

        return await self.runner.write(work)

    async def _expire(self, uow: UnitOfWork, reservation: DueReservation) -> bool:
        await uow.stock_levels.lock([reservation.key])
        claimed = await uow.reservations.claim_expired(reservation.id)
        if claimed is None:  # consumed meanwhile, or another replica is releasing it
            return False
        level = await uow.stock_levels.change(reservation.key, reserved=-claimed.remaining)
        if level is None:
            raise RuntimeError(f"releasing expired reservation {reservation.id} was refused")
        await uow.transactions.append(
            NewTransaction(
                type=TransactionType.RELEASE,
                product_id=reservation.key.product_id,
                quantity=claimed.remaining,
                performed_by=claimed.performed_by,
                request_id=f"expire:{reservation.id}",
                from_warehouse_id=reservation.key.warehouse_id,
                reservation_id=reservation.id,
                reason=EXPIRY_REASON,
                caller=SERVICE_CALLER,
            )
        )
        return True

    def start(self) -> None:
        self._task.start(self._loop())

    async def stop(self) -> None:
        await self._task.stop()

    async def _loop(self) -> None:
        while True:
            await asyncio.sleep(self.interval)
            try:
                count = await self.expire_due()
            except DomainError as exc:  # the database is down or busy: try again next time
                log.warning("reservation expiry skipped: %s", exc.message)
                continue
            except Exception as exc:  # e.g. an unmigrated schema: a background task must not die of it
                log.warning(
                    "reservation expiry failed (%s); trying again in %.1fs",
                    type(exc).__name__,
                    self.interval,
                    exc_info=log.isEnabledFor(logging.DEBUG),  # the traceback only when asked for
                )
                continue
            if count:
                log.info("released %d expired reservation(s)", count)
