"""The health monitor's threshold and reports, over a scripted connection (no database)."""

from __future__ import annotations

import asyncio
from typing import Any, cast

import psycopg
import pytest

from inventory_server.db.health import HealthMonitor


class ScriptedConnection:
    """Answers ``execute`` with the next scripted outcome: True succeeds, False fails."""

    def __init__(self, outcomes: list[bool]) -> None:
        self.outcomes = outcomes
        self.closed = False

    async def execute(self, query: str) -> None:
        if not self.outcomes.pop(0):
            raise psycopg.OperationalError("server closed the connection unexpectedly")

    async def close(self) -> None:
        self.closed = True


class ScriptedMonitor(HealthMonitor):
    def __init__(self, outcomes: list[bool], **kwargs: Any) -> None:
        self.reports: list[bool] = []

        async def report(serving: bool) -> None:
            self.reports.append(serving)

        super().__init__("postgresql://unused", report, **kwargs)
        self.outcomes = outcomes

    async def _connection(self) -> psycopg.AsyncConnection[Any]:
        return cast(psycopg.AsyncConnection[Any], ScriptedConnection(self.outcomes))


async def test_the_database_is_down_after_exactly_threshold_failures_in_a_row() -> None:
    monitor = ScriptedMonitor([True, False, False, False], failure_threshold=3)
    assert await monitor.check_once()
    assert monitor.figures.serving
    for failures in (1, 2):
        assert not await monitor.check_once()
        assert monitor.figures.consecutive_failures == failures
        assert monitor.figures.serving, f"down after {failures} of 3 failures"
    assert not await monitor.check_once()
    assert monitor.figures.consecutive_failures == 3
    assert not monitor.figures.serving


async def test_a_threshold_of_one_reports_down_at_the_first_failure() -> None:
    monitor = ScriptedMonitor([True, False], failure_threshold=1)
    await monitor.check_once()
    await monitor.check_once()
    assert not monitor.figures.serving


async def test_a_success_resets_the_count() -> None:
    monitor = ScriptedMonitor([True, False, False, True, False, False], failure_threshold=3)
    for _ in range(6):
        await monitor.check_once()
    assert monitor.figures.serving
    assert monitor.figures.consecutive_failures == 2


async def test_a_first_check_that_fails_reports_down_at_once() -> None:
    monitor = ScriptedMonitor([False], failure_threshold=3)
    await monitor.start()
    await monitor.stop()
    assert monitor.reports == [False]


async def test_the_loop_reports_each_transition_once_and_recovers_the_pool_first() -> None:
    events: list[str] = []
    outcomes = [True, False, False, False, True, True] + [True] * 1000
    monitor = ScriptedMonitor(outcomes, failure_threshold=2, interval=0.001)

    async def recover() -> None:
        events.append("recover")

    monitor.on_recover = recover
    original = monitor.on_change

    back_up = asyncio.Event()

    async def observe(serving: bool) -> None:
        events.append("up" if serving else "down")
        await original(serving)
        if events.count("up") == 2:
            back_up.set()

    monitor.on_change = observe
    await monitor.start()
    try:
        async with asyncio.timeout(5):
            await back_up.wait()
    finally:
        await monitor.stop()
    assert events[:4] == ["up", "down", "recover", "up"]


@pytest.mark.parametrize("threshold", [2, 5])
async def test_figures_count_every_check(threshold: int) -> None:
    monitor = ScriptedMonitor([True] + [False] * threshold, failure_threshold=threshold)
    for _ in range(threshold + 1):
        await monitor.check_once()
    assert monitor.figures.checks == threshold + 1
    assert not monitor.figures.serving
