"""One background task owned by a long-lived component: started once, cancelled and awaited on stop.

The health monitor, the product cache listener, the idempotency purger, the
change-stream wake-up listener, the replica prober, the reservation expiry
sweeper and the change-position purger each run one loop from ``start`` to
``stop``. Stopping cancels the loop and waits until it has really ended, so
nothing it owns (a connection, a cache state) is touched after ``stop`` returns.
A neutral helper: it knows no entity and no transport, so every layer may use it.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Coroutine
from typing import Any


class BackgroundTask:
    """Holds at most one running task named ``name``."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._task: asyncio.Task[None] | None = None

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    def start(self, loop: Coroutine[Any, Any, None]) -> None:
        """Run ``loop`` in the background; a second start while it runs is a bug."""
        if self.running:
            loop.close()
            raise RuntimeError(f"{self.name} is already running")
        self._task = asyncio.create_task(loop, name=self.name)

    async def stop(self) -> None:
        """Cancel the task and wait for it to end; nothing happens when it was never started."""
        task, self._task = self._task, None
        if task is None:
            return
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
