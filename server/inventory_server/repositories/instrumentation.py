"""Per-operation query counts and latencies for the Stats RPC, recorded cheaply.

Everything runs on the event loop thread, so the counters need no lock: a
record is a few integer additions and one append to a bounded deque.

>>> stats = QueryStats(reservoir_size=4)
>>> for ms in (1, 2, 3, 40):
...     stats.record("products.get", ms / 1000, queries=1)
>>> snap = stats.snapshot()["products.get"]
>>> snap.calls, snap.queries, snap.p95_ms
(4, 4, 40.0)
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

from inventory_server.percentiles import percentile

DEFAULT_RESERVOIR = 512


@dataclass(slots=True)
class _Counters:
    calls: int = 0
    errors: int = 0
    queries: int = 0
    total_seconds: float = 0.0
    max_seconds: float = 0.0
    recent: deque[float] = field(default_factory=deque)


@dataclass(frozen=True, slots=True)
class OperationStats:
    """A snapshot of one operation ("products.list"); Stats reports it as a ``QueryStats`` message."""

    calls: int
    errors: int
    queries: int
    mean_ms: float
    p50_ms: float
    p95_ms: float
    max_ms: float


class QueryStats:
    """Counters per operation plus a window of the most recent latencies.

    ``replays`` counts request_id replays: writes answered from the stored
    result of an earlier call (``IdempotencyRepository.claim``).
    """

    def __init__(self, *, reservoir_size: int = DEFAULT_RESERVOIR) -> None:
        self._reservoir_size = reservoir_size
        self._operations: dict[str, _Counters] = {}
        self.replays = 0

    def record(self, operation: str, seconds: float, *, queries: int, error: bool = False) -> None:
        counters = self._operations.get(operation)
        if counters is None:
            counters = _Counters(recent=deque(maxlen=self._reservoir_size))
            self._operations[operation] = counters
        counters.calls += 1
        counters.errors += error
        counters.queries += queries
        counters.total_seconds += seconds
        counters.max_seconds = max(counters.max_seconds, seconds)
        counters.recent.append(seconds)

    def snapshot(self) -> dict[str, OperationStats]:
        """A copy of every operation's numbers; percentiles over the recent window."""
        return {name: _summarise(c) for name, c in sorted(self._operations.items())}

    def reset(self) -> None:
        self._operations.clear()
        self.replays = 0


def _summarise(counters: _Counters) -> OperationStats:
    recent = sorted(counters.recent)
    mean = counters.total_seconds / counters.calls if counters.calls else 0.0
    return OperationStats(
        calls=counters.calls,
        errors=counters.errors,
        queries=counters.queries,
        mean_ms=mean * 1000,
        p50_ms=percentile(recent, 0.50) * 1000,
        p95_ms=percentile(recent, 0.95) * 1000,
        max_ms=counters.max_seconds * 1000,
    )


_registry: QueryStats | None = None


def query_stats() -> QueryStats:
    """The process-wide recorder, created on first use (never at import time)."""
    global _registry
    if _registry is None:
        _registry = QueryStats()
    return _registry
