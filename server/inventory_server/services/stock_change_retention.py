"""Background upkeep: forgetting change-stream positions past the watch retention.

The ledger keeps every row for ever; ``stock_changes`` (each row's commit
position, migration 0011) only needs to reach back as far as a consumer may
resume. Every replica runs the purge in small batches (racing replicas only
delete fewer rows); the highest purged position is recorded with the delete,
so a resume from before it is refused instead of missing rows.
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


class StockChangePurger:
    """Every ``interval`` seconds, forgets stream positions committed more than ``retention`` ago."""

    def __init__(self, runner: Transactor[UnitOfWork], *, retention: timedelta, interval: float) -> None:
        self.runner = runner
        self.retention = retention
        self.interval = interval
        self.purged = 0
        self._task = BackgroundTask("stock-change-purger")

    async def run_once(self) -> int:
        """Purge everything past retention, batch by batch; the number of positions forgotten."""
        total = 0
        while True:
            count = await self.runner.write(
                lambda uow: uow.stock_changes.purge_older_than(self.retention, limit=PURGE_BATCH)
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
                log.warning("change stream position purge skipped: %s", exc.message)
                continue
            if count:
                log.info("purged %d change stream position(s) older than %s", count, self.retention)
