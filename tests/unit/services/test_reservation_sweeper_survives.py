"""The reservation expiry sweeper survives any failure of a sweep (an unmigrated database, a bug).

Found while testing health on an unmigrated database (issue 9, finding 7): the
sweep's UndefinedTable ended the background task, and ``stop()`` re-raised it,
so the server exited 1 on SIGTERM.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import timedelta
from uuid import uuid4

from inventory_server.domain.reservations import EXPIRY_REASON, DueReservation, OpenReservation
from inventory_server.domain.stock import LevelKey, StockLevel
from inventory_server.domain.transaction import TransactionType
from inventory_server.services.reservations import ReservationService
from tests.unit.fakes import FakeDatabase, FakeReservations, FakeTransactor, FakeUnitOfWork, fake_transactor


class UnmigratedReservations(FakeReservations):
    """Every sweep read fails with a non-domain error, as psycopg's UndefinedTable does."""

    async def due(self, limit: int) -> Sequence[DueReservation]:
        raise RuntimeError('relation "open_reservations" does not exist')


def unmigrated(db: FakeDatabase) -> FakeUnitOfWork:
    uow = FakeUnitOfWork(db)
    uow.reservations = UnmigratedReservations(db)
    return uow


async def test_a_failing_sweep_is_logged_and_the_next_one_runs_and_stop_is_clean() -> None:
    transactor = FakeTransactor(FakeDatabase(), unmigrated)
    service = ReservationService(transactor, interval=0.01)
    service.start()
    for _ in range(200):
        if transactor.units.count("read") >= 3:
            break
        await asyncio.sleep(0.01)
    assert transactor.units.count("read") >= 3  # still sweeping after failures
    assert "commit" not in transactor.units  # nothing released
    await service.stop()  # does not raise


async def test_a_due_reservation_is_released_in_one_write_and_a_later_one_is_kept() -> None:
    transactor = fake_transactor()
    db = transactor.db
    product, warehouse, user = db.add("product"), db.add("warehouse"), db.add("user")
    key = LevelKey(warehouse, product)
    db.levels[key] = StockLevel(product, warehouse, on_hand=10, reserved=7)
    due, later = uuid4(), uuid4()
    now = db.now()
    for id, quantity, expire in ((due, 4, now), (later, 3, now + timedelta(days=1))):
        held = OpenReservation(id, product, warehouse, quantity, quantity, "", expire, now)
        db.reservations[id] = (held, user)
    service = ReservationService(transactor)

    assert await service.expire_due() == 1
    assert await service.expire_due() == 0  # already released
    assert db.levels[key].reserved == 3
    assert set(db.reservations) == {later}
    (release,) = db.ledger
    assert (release.type, release.quantity, release.reservation_id) == (TransactionType.RELEASE, 4, due)
    assert (release.performed_by, release.reason) == (user, EXPIRY_REASON)
    assert transactor.units.count("commit") == 1
