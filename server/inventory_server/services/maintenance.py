"""Background upkeep: forgetting idempotency keys past their retention.

A request_id protects retries for ``retention``; after that the key is
purged so ``idempotency_keys`` does not grow without bound. Every replica
runs the purge; deleting in small batches keeps each transaction short, and
replicas racing each other only delete fewer rows.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

from inventory_server.db.background import BackgroundTask
from inventory_server.domain.errors import DomainError
from inventory_server.services.unit_of_work import Transactor, UnitOfWork

log = logging.getLogger(__name__)

PURGE_BATCH = 5_000


class IdempotencyPurger:
    """Every ``interval`` seconds, deletes idempotency keys older than ``retention``."""

    def __init__(self, transactor: Transactor[UnitOfWork], *, retention: timedelta, interval: float) -> None:
        self.transactor = transactor
        self.retention = retention
        self.interval = interval
        self.purged = 0
        self._task = BackgroundTask("idempotency-purger")

    async def run_once(self) -> int:
        """Purge everything past retention, batch by batch; the number of keys forgotten."""
        total = 0
        while True:
            count = await self.transactor.write(
                lambda uow: uow.idempotency.purge_older_than(self.retention, limit=PURGE_BATCH)
            )
            total += count
            if count < PURGE_BATCH:
                break
        self.purged += total
        return total

    def start(self) -> None:
        self._task.start(self._loop())

    async def stop(self) -> None:
        await self._task.stop()

    async def _loop(self) -> None:
        while True:
            await asyncio.sleep(self.interval)
            try:
                count = await self.run_once()
            except DomainError as exc:  # the database is down or busy: try again next time
                log.warning("idempotency key purge skipped: %s", exc.message)
                continue
            if count:
                log.info("purged %d idempotency key(s) older than %s", count, self.retention)
