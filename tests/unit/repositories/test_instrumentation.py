"""QueryStats: cheap per-operation counters and recent-latency percentiles."""

from __future__ import annotations

import doctest
from typing import Any

import pytest

from inventory_server.repositories import instrumentation
from inventory_server.repositories.executor import Operation, StatementExecutor
from inventory_server.repositories.instrumentation import QueryStats, query_stats


def test_docstring_example_holds() -> None:
    assert doctest.testmod(instrumentation).failed == 0


def test_counts_calls_errors_and_queries_per_operation() -> None:
    stats = QueryStats()
    stats.record("products.get", 0.002, queries=1)
    stats.record("products.get", 0.004, queries=2, error=True)
    stats.record("products.list", 0.010, queries=1)
    snapshot = stats.snapshot()
    assert list(snapshot) == ["products.get", "products.list"]
    get = snapshot["products.get"]
    assert (get.calls, get.errors, get.queries) == (2, 1, 3)
    assert get.mean_ms == pytest.approx(3.0)
    assert get.max_ms == pytest.approx(4.0)


def test_percentiles_cover_only_the_recent_window() -> None:
    stats = QueryStats(reservoir_size=10)
    for _ in range(10):
        stats.record("op", 1.0, queries=1)
    for millis in range(1, 11):
        stats.record("op", millis / 1000, queries=1)
    snapshot = stats.snapshot()["op"]
    assert snapshot.p50_ms == pytest.approx(5.0)
    assert snapshot.p95_ms == pytest.approx(10.0)
    assert snapshot.max_ms == pytest.approx(1000.0)
    assert snapshot.calls == 20


def test_a_snapshot_does_not_change_afterwards() -> None:
    stats = QueryStats()
    stats.record("op", 0.001, queries=1)
    before = stats.snapshot()
    stats.record("op", 0.001, queries=1)
    assert before["op"].calls == 1
    stats.reset()
    assert stats.snapshot() == {}


def test_the_shared_registry_is_created_once_on_first_use() -> None:
    assert query_stats() is query_stats()


class _FakeConnection:
    """Never used: operations only touch the executor's counters."""


def test_an_operation_records_latency_and_queries_even_when_it_fails() -> None:
    stats = QueryStats()
    executor = StatementExecutor(_FakeConnection(), stats=stats)  # type: ignore[arg-type]

    def failing() -> Any:
        with Operation(executor, "things.get"):
            executor.queries += 2
            raise KeyError("boom")

    with pytest.raises(KeyError):
        failing()
    with executor.operation("ok"):
        executor.queries += 1
    snapshot = stats.snapshot()
    assert (snapshot["things.get"].errors, snapshot["things.get"].queries) == (1, 2)
    assert (snapshot["repository.ok"].errors, snapshot["repository.ok"].queries) == (0, 1)
