"""Per-method call figures for the Stats RPC.

Recording runs on the event loop thread only, so it needs no lock: a counter
bump and an append to a bounded deque per call. Percentiles are computed when
someone reads them, over the most recent ``window`` calls.
"""

from __future__ import annotations

from collections import Counter, deque
from dataclasses import dataclass, field

from inventory_server.percentiles import percentile
from inventory_server.services.stats.figures import MethodFigure


@dataclass
class _MethodCounters:
    """Running figures of one method (mutable; read through ``MethodStats.snapshot``)."""

    calls: int = 0
    errors_by_code: Counter[str] = field(default_factory=Counter)
    latencies_ms: deque[float] = field(default_factory=lambda: deque(maxlen=2048))


class MethodStats:
    """Counts calls, error codes and latencies per full method name."""

    def __init__(self) -> None:
        self.methods: dict[str, _MethodCounters] = {}

    def record(self, method: str, code_name: str, latency_ms: float) -> None:
        figures = self.methods.get(method)
        if figures is None:
            figures = self.methods[method] = _MethodCounters()
        figures.calls += 1
        if code_name != "OK":
            figures.errors_by_code[code_name] += 1
        figures.latencies_ms.append(latency_ms)

    def snapshot(self) -> list[MethodFigure]:
        """The figures of every method seen, sorted by name."""
        rows = []
        for name in sorted(self.methods):
            f = self.methods[name]
            values = sorted(f.latencies_ms)
            rows.append(
                MethodFigure(
                    method=name,
                    calls=f.calls,
                    errors_by_code=dict(f.errors_by_code),
                    p50_ms=percentile(values, 0.50),
                    p95_ms=percentile(values, 0.95),
                    p99_ms=percentile(values, 0.99),
                )
            )
        return rows
