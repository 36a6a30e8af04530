"""The change stream service over an in-memory ledger: buffer bound, cap, retention, heartbeats, shutdown."""

from __future__ import annotations

import asyncio
import doctest
from typing import TypeVar

import pytest

import inventory_server.domain.stock_changes as stock_changes_domain
import inventory_server.repositories.stock_changes as stock_changes_repository
from inventory_server.domain.errors import (
    Aborted,
    FailedPrecondition,
    InvalidArgument,
    ResourceExhausted,
    Unavailable,
)
from inventory_server.domain.stock_changes import (
    Heartbeat,
    StockChange,
    decode_resume_token,
    encode_resume_token,
)
from inventory_server.services.stock_watch import Item, StockWatchService, WatchSettings
from tests.unit.fakes import FakeDatabase, FakeStockChanges, fake_transactor

T = TypeVar("T")


class FakeWakes:
    def __init__(self) -> None:
        self.generation = 0
        self._event = asyncio.Event()

    async def wait_beyond(self, generation: int, timeout: float) -> bool:
        if generation != self.generation:
            return True
        try:
            await asyncio.wait_for(self._event.wait(), timeout)
        except TimeoutError:
            return False
        return True

    def wake(self) -> None:
        self.generation += 1
        self._event.set()
        self._event = asyncio.Event()


def service(ledger: FakeStockChanges, **settings: float) -> tuple[StockWatchService, FakeWakes]:
    wakes = FakeWakes()
    defaults: dict[str, float] = {"heartbeat_interval": 0.05, "buffer_size": 4, "slow_consumer_timeout": 0.05}
    transactor = fake_transactor(ledger.db)
    values = {**defaults, **settings}  # buffer_size/max_streams are ints, given as numbers here
    return StockWatchService(transactor, wakes, WatchSettings(**values)), wakes  # type: ignore[arg-type]


def test_docstring_examples_hold() -> None:
    for module in (stock_changes_domain, stock_changes_repository):
        assert doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE).failed == 0


def test_tokens_round_trip_and_foreign_tokens_are_invalid_argument() -> None:
    assert decode_resume_token(encode_resume_token(9_000_000_000)) == 9_000_000_000
    assert decode_resume_token("") is None
    for bad in ("abc", encode_resume_token(1)[:-1] + "!", "c2MxOi0x"):  # the last is "sc1:-1"
        with pytest.raises(InvalidArgument) as error:
            decode_resume_token(bad)
        assert error.value.violations[0].field == "resume_token"


async def test_a_consumer_that_never_reads_is_cut_off_with_the_buffer_full() -> None:
    ledger = FakeStockChanges(FakeDatabase())
    watch, _ = service(ledger)
    stream = await watch.open("", "")
    ledger.commit(100)
    written: list[Item] = []
    never = asyncio.Event()

    async def stuck_after_two(item: Item) -> None:
        if len(written) >= 2:
            await never.wait()  # a client that stopped reading: the write never completes
        written.append(item)

    async with stream:
        with pytest.raises(Aborted) as ended:
            await asyncio.wait_for(stream.pump(stuck_after_two), 5)
    assert ended.value.reason == "WATCH_CONSUMER_TOO_SLOW"
    assert stream.peak_buffered <= 4
    assert ended.value.metadata["resume_token"] == encode_resume_token(written[-1].position)
    assert watch.active == 0


async def test_streams_beyond_the_cap_are_resource_exhausted_and_slots_come_back() -> None:
    watch, _ = service(FakeStockChanges(FakeDatabase()), max_streams=2)
    first, second = await watch.open("", ""), await watch.open("", "")
    with pytest.raises(ResourceExhausted):
        await watch.open("", "")
    async with first:
        pass
    async with await watch.open("", ""), second:
        assert watch.active == 2


async def test_a_token_from_before_the_retention_names_the_oldest_position() -> None:
    ledger = FakeStockChanges(FakeDatabase())
    ledger.commit(10)
    ledger.db.purged_through = 6
    ledger.db.stock_changes = ledger.db.stock_changes[6:]
    watch, _ = service(ledger)
    with pytest.raises(FailedPrecondition) as expired:
        await watch.open("", encode_resume_token(3))
    assert expired.value.metadata["oldest_resume_token"] == encode_resume_token(6)
    with pytest.raises(InvalidArgument):
        await watch.open("", encode_resume_token(11))
    assert watch.active == 0


async def test_a_purge_while_streaming_ends_the_stream_rather_than_skipping() -> None:
    ledger = FakeStockChanges(FakeDatabase())
    watch, _ = service(ledger)
    stream = await watch.open("", "")
    ledger.commit(5)
    ledger.db.purged_through = 3  # rows 1..3 vanished before the stream read them
    ledger.db.stock_changes = ledger.db.stock_changes[3:]
    async with stream:
        with pytest.raises(FailedPrecondition):
            await asyncio.wait_for(stream.pump(_ignore), 5)


async def test_idle_streams_send_heartbeats_and_wake_ups_deliver_at_once() -> None:
    ledger = FakeStockChanges(FakeDatabase())
    watch, wakes = service(ledger, heartbeat_interval=0.02)
    got: list[Item] = []
    stream = await watch.open("", "")

    async def write(item: Item) -> None:
        got.append(item)
        if sum(isinstance(i, Heartbeat) for i in got) == 3:
            ledger.commit(1)
            wakes.wake()
        if any(isinstance(i, StockChange) for i in got):
            watch.close()

    async with stream:
        with pytest.raises(Unavailable) as closed:
            await asyncio.wait_for(stream.pump(write), 5)
    assert closed.value.reason == "SERVER_SHUTTING_DOWN"
    assert [type(i) for i in got[:3]] == [Heartbeat, Heartbeat, Heartbeat]
    assert isinstance(got[3], StockChange)
    assert got[-1].position == 1  # the last token sent is the last position read


async def test_shutdown_sends_what_is_queued_then_a_final_heartbeat() -> None:
    ledger = FakeStockChanges(FakeDatabase())
    ledger.commit(2)
    watch, _ = service(ledger, heartbeat_interval=10)
    stream = await watch.open("", encode_resume_token(0))
    got: list[Item] = []

    async def write(item: Item) -> None:
        got.append(item)
        if len(got) == 1:
            await asyncio.sleep(0.05)  # the producer queues both changes meanwhile
            watch.close()

    async with stream:
        with pytest.raises(Unavailable) as closed:
            await asyncio.wait_for(stream.pump(write), 5)
    assert [i.position for i in got] == [0, 1, 2]
    assert closed.value.metadata["resume_token"] == encode_resume_token(2)
    with pytest.raises(Unavailable):
        await watch.open("", "")


async def _ignore(item: Item) -> None:
    return None
