"""The reservation expiry sweeper survives any failure of a sweep (an unmigrated database, a bug).

Found while testing health on an unmigrated database (issue 9, finding 7): the
sweep's UndefinedTable ended the background task, and ``stop()`` re-raised it,
so the server exited 1 on SIGTERM.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from inventory_server.services.reservations import ReservationService


class FailingRunner:
    """Every read fails with a non-domain error, as psycopg's UndefinedTable does."""

    def __init__(self) -> None:
        self.reads = 0

    async def read(self, action: Callable[[Any], Awaitable[Any]]) -> Any:
        self.reads += 1
        raise RuntimeError('relation "open_reservations" does not exist')

    async def write(self, action: Callable[[Any], Awaitable[Any]]) -> Any:
        raise AssertionError("nothing to write")


async def test_a_failing_sweep_is_logged_and_the_next_one_runs_and_stop_is_clean() -> None:
    runner = FailingRunner()
    service = ReservationService(runner, interval=0.01)
    service.start()
    for _ in range(200):
        if runner.reads >= 3:
            break
        await asyncio.sleep(0.01)
    assert runner.reads >= 3  # still sweeping after failures
    await service.stop()  # does not raise
