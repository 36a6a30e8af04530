"""WatchStockChanges: every matching ledger row, in commit order, resumable, with bounded memory.

How a stream works (docs/stock.md, "The change stream"):

* It starts at a position: after its resume token, or at the latest committed
  position ("from now"). Positions are stamped at commit under a lock
  (migration 0011), so reading "position > p" in batches never skips a row
  that commits late.
* A *producer* task reads batches from its position into a bounded queue and,
  once caught up, waits for a wake-up from the replica's one shared LISTEN
  connection (``db.notifications.WakeUpListener``) or for the heartbeat
  interval, whichever comes first; then it reads again. Notifications are
  hints only: a lost one delays delivery by at most one heartbeat interval.
* The *consumer* (the gRPC handler) writes the queue to the wire. A client that
  does not read makes those writes wait (HTTP/2 flow control); the producer
  then finds the queue full, waits ``slow_consumer_timeout`` for room and
  otherwise ends the stream with ABORTED ``WATCH_CONSUMER_TOO_SLOW``: server
  memory per stream stays at ``buffer_size`` changes.
* When nothing was sent for ``heartbeat_interval`` seconds, a heartbeat (a
  resume token only) goes out; the first message of every stream is one.
* SIGTERM (``close``): producers stop reading, consumers send what is queued
  and a final heartbeat, then the stream ends UNAVAILABLE: the client resumes
  elsewhere from the token it already has.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from types import TracebackType
from typing import Protocol

from inventory_server.db.query import Condition
from inventory_server.domain.errors import DomainError, Unavailable
from inventory_server.domain.stock_changes import (
    ChangeBatch,
    Heartbeat,
    StockChange,
    consumer_too_slow,
    decode_resume_token,
    encode_resume_token,
    position_expired,
    shutting_down,
    too_many_watchers,
    unknown_position,
)
from inventory_server.repositories.stock_changes import parse_watch_filter
from inventory_server.services.unit_of_work import Transactor, UnitOfWork

log = logging.getLogger(__name__)

Item = StockChange | Heartbeat


class WakeSource(Protocol):
    """What the producers wait on (``db.notifications.WakeUpListener``)."""

    generation: int

    async def wait_beyond(self, generation: int, timeout: float) -> bool: ...

    def wake(self) -> None: ...


@dataclass(frozen=True, kw_only=True)
class WatchSettings:
    heartbeat_interval: float = 10.0
    max_streams: int = 100
    buffer_size: int = 256
    slow_consumer_timeout: float = 5.0
    batch_size: int = 500


def token_of(item: Item) -> str:
    return encode_resume_token(item.position)


class StockWatchService:
    """Opens change streams and keeps their count under ``max_streams``; ``close`` ends them all."""

    def __init__(self, runner: Transactor[UnitOfWork], wakes: WakeSource, settings: WatchSettings) -> None:
        self.runner = runner
        self.wakes = wakes
        self.settings = settings
        self.active = 0
        self.opened = 0
        self.ended_too_slow = 0
        self.closing = False

    async def open(self, filter_text: str, resume_token: str) -> WatchStream:
        """A stream after ``resume_token`` (empty: from now) of the rows ``filter_text`` matches.

        InvalidArgument for a bad filter or token, FailedPrecondition for a
        token older than the retention, ResourceExhausted beyond ``max_streams``.
        """
        condition = parse_watch_filter(filter_text)
        start = decode_resume_token(resume_token)
        if self.closing:
            raise Unavailable(
                "the server is shutting down; watch on another replica", reason="SERVER_SHUTTING_DOWN"
            )
        if self.active >= self.settings.max_streams:
            raise too_many_watchers(self.settings.max_streams)
        self.active += 1  # before any await: the cap holds under concurrent opens
        try:
            bounds = await self.runner.read(lambda uow: uow.stock_changes.bounds())
            if start is None:
                start = bounds.latest
            elif start < bounds.purged_through:
                raise position_expired(start, bounds.purged_through)
            elif start > bounds.latest:
                raise unknown_position()
        except BaseException:
            self.active -= 1
            raise
        self.opened += 1
        return WatchStream(self, condition, start)

    def close(self) -> None:
        """End every stream cleanly (SIGTERM); new ones are refused with UNAVAILABLE."""
        self.closing = True
        self.wakes.wake()

    def _released(self) -> None:
        self.active -= 1


class _Failure:
    """Why the producer stopped, and whether the consumer must stop at once (overflow) or first drain."""

    def __init__(self, error: BaseException, *, urgent: bool, final_heartbeat: bool) -> None:
        self.error = error
        self.urgent = urgent
        self.final_heartbeat = final_heartbeat


class WatchStream:
    """One open stream: ``async with`` it, then ``pump`` its items into a writer."""

    def __init__(self, service: StockWatchService, condition: Condition | None, start: int) -> None:
        self.service = service
        self.settings = service.settings
        self.condition = condition
        self.start = start
        self.scanned = start  # every matching row up to here is queued or sent
        self.delivered = start  # the position of the last item written
        self.queue: asyncio.Queue[Item] = asyncio.Queue(maxsize=self.settings.buffer_size)
        self.peak_buffered = 0
        self.failure: _Failure | None = None
        self._failed = asyncio.Event()
        self._urgent = asyncio.Event()
        self._producer: asyncio.Task[None] | None = None

    async def __aenter__(self) -> WatchStream:
        self._producer = asyncio.create_task(self._produce(), name="watch-producer")
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._producer is not None:
            self._producer.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._producer
        self.service._released()

    # consumer side ---------------------------------------------------------------------------
    async def pump(self, write: Callable[[Item], Awaitable[object]]) -> None:
        """Write items until the stream fails; then raise why (a DomainError for the caller)."""
        while True:
            item = await self._next()
            if item is None:
                break
            await self._write(write, item)
        failure = self.failure
        if failure is None:  # pragma: no cover - _next returns None only after a failure
            return
        if failure.final_heartbeat and self.scanned > self.delivered:
            await self._write(write, Heartbeat(self.scanned))
        raise failure.error

    async def _next(self) -> Item | None:
        """The next queued item; None once the producer failed and (unless urgent) the queue is empty."""
        while True:
            if self._urgent.is_set():
                return None
            if not self.queue.empty():
                return self.queue.get_nowait()
            if self._failed.is_set():
                return None
            getter = asyncio.ensure_future(self.queue.get())
            failed = asyncio.ensure_future(self._failed.wait())
            try:
                await asyncio.wait({getter, failed}, return_when=asyncio.FIRST_COMPLETED)
            finally:
                failed.cancel()
                if not getter.done():
                    getter.cancel()
            if getter.done() and not getter.cancelled():
                return getter.result()

    async def _write(self, write: Callable[[Item], Awaitable[object]], item: Item) -> None:
        """``write(item)``, abandoned when the producer gives the consumer up as too slow."""
        writing = asyncio.ensure_future(write(item))
        urgent = asyncio.ensure_future(self._urgent.wait())
        try:
            await asyncio.wait({writing, urgent}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            urgent.cancel()
            if not writing.done():
                writing.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await writing
        if writing.cancelled() or not writing.done():
            failure = self.failure
            raise failure.error if failure is not None else asyncio.CancelledError()
        writing.result()
        self.delivered = item.position

    # producer side ---------------------------------------------------------------------------
    async def _produce(self) -> None:
        try:
            await self._read_forever()
        except asyncio.CancelledError:
            raise
        except _TooSlow:
            self.service.ended_too_slow += 1
            log.info("ended a change stream whose consumer fell %d changes behind", self.queue.qsize())
            self._fail(
                consumer_too_slow(self.queue.qsize(), encode_resume_token(self.delivered)),
                urgent=True,
                final_heartbeat=False,
            )
        except _Expired as expired:
            self._fail(expired.error, urgent=False, final_heartbeat=False)
        except DomainError as error:
            self._fail(error, urgent=False, final_heartbeat=True)
        except Exception as error:
            log.exception("change stream producer failed")
            self._fail(error, urgent=False, final_heartbeat=True)

    def _fail(self, error: BaseException, *, urgent: bool, final_heartbeat: bool) -> None:
        self.failure = _Failure(error, urgent=urgent, final_heartbeat=final_heartbeat)
        self._failed.set()
        if urgent:
            self._urgent.set()

    async def _read_forever(self) -> None:
        settings, wakes = self.settings, self.service.wakes
        condition = self.condition
        self._offer_heartbeat()  # the stream's first token, before anything else
        last_put = time.monotonic()
        while True:
            if self.service.closing:
                raise shutting_down(encode_resume_token(self.scanned))
            generation = wakes.generation  # before reading: a wake-up during the read is not lost
            after = self.scanned

            async def read(uow: UnitOfWork, after: int = after) -> ChangeBatch:
                return await uow.stock_changes.read_after(after, condition, settings.batch_size)

            batch = await self.service.runner.read(read)
            if batch.scanned_through is not None and batch.purged_through > after:
                raise _Expired(position_expired(after, batch.purged_through))
            for change in batch.changes:
                await self._put(change)
                last_put = time.monotonic()
            if batch.scanned_through is not None:
                self.scanned = batch.scanned_through
            if batch.full:
                continue
            idle = time.monotonic() - last_put
            if idle >= settings.heartbeat_interval:
                self._offer_heartbeat()
                last_put, idle = time.monotonic(), 0.0
            await wakes.wait_beyond(generation, settings.heartbeat_interval - idle)

    def _offer_heartbeat(self) -> None:
        """A heartbeat unless the queue is full (then the consumer has changes to read anyway)."""
        with contextlib.suppress(asyncio.QueueFull):
            self.queue.put_nowait(Heartbeat(self.scanned))
            self.peak_buffered = max(self.peak_buffered, self.queue.qsize())

    async def _put(self, change: StockChange) -> None:
        try:
            async with asyncio.timeout(self.settings.slow_consumer_timeout):
                await self.queue.put(change)
        except TimeoutError:
            raise _TooSlow() from None
        self.peak_buffered = max(self.peak_buffered, self.queue.qsize())


class _TooSlow(Exception):
    """Internal: the queue stayed full for ``slow_consumer_timeout``."""


class _Expired(Exception):
    """Internal: rows after the stream's position were purged (no final heartbeat may follow)."""

    def __init__(self, error: DomainError) -> None:
        super().__init__(error.message)
        self.error = error
