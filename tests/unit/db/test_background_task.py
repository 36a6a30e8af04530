"""BackgroundTask: one loop from start to stop, really ended when stop returns."""

from __future__ import annotations

import asyncio

import pytest

from inventory_server.db.background import BackgroundTask


async def test_stop_cancels_the_loop_and_waits_for_its_cleanup() -> None:
    cleaned = asyncio.Event()
    started = asyncio.Event()

    async def loop() -> None:
        started.set()
        try:
            await asyncio.sleep(3600)
        finally:
            cleaned.set()

    task = BackgroundTask("test-loop")
    task.start(loop())
    await started.wait()
    assert task.running
    await task.stop()
    assert cleaned.is_set()
    assert not task.running


async def test_stop_without_start_does_nothing() -> None:
    await BackgroundTask("never-started").stop()


async def test_a_second_start_while_running_is_refused_and_can_start_again_after_stop() -> None:
    task = BackgroundTask("test-loop")
    task.start(asyncio.sleep(3600))
    second = asyncio.sleep(3600)
    with pytest.raises(RuntimeError, match="already running"):
        task.start(second)
    await task.stop()
    task.start(asyncio.sleep(3600))
    assert task.running
    await task.stop()


async def test_the_task_carries_its_name() -> None:
    names: list[str] = []

    async def loop() -> None:
        current = asyncio.current_task()
        names.append(current.get_name() if current else "")

    task = BackgroundTask("database-health-monitor")
    task.start(loop())
    await asyncio.sleep(0)
    await asyncio.sleep(0)
    await task.stop()
    assert names == ["database-health-monitor"]
