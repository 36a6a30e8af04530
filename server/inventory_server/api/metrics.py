"""Per-method call figures for the Stats RPC.

Recording runs on the event loop thread only, so it needs no lock: a counter
bump and an append to a bounded deque per call. Percentiles are computed when
someone reads them, over the most recent ``window`` calls.
"""

from __future__ import annotations

from collections import Counter, deque
from dataclasses import dataclass, field


def percentile(sorted_values: list[float], fraction: float) -> float:
    """Nearest-rank percentile of already sorted values; 0 for none."""
    if not sorted_values:
        return 0.0
    rank = max(0, min(len(sorted_values) - 1, round(fraction * len(sorted_values) + 0.5) - 1))
    return sorted_values[rank]


@dataclass
class MethodFigures:
    calls: int = 0
    errors_by_code: Counter[str] = field(default_factory=Counter)
    latencies_ms: deque[float] = field(default_factory=lambda: deque(maxlen=2048))


class MethodStats:
    """Counts calls, error codes and latencies per full method name."""

    def __init__(self) -> None:
        self.methods: dict[str, MethodFigures] = {}

    def record(self, method: str, code_name: str, latency_ms: float) -> None:
        figures = self.methods.get(method)
        if figures is None:
            figures = self.methods[method] = MethodFigures()
        figures.calls += 1
        if code_name != "OK":
            figures.errors_by_code[code_name] += 1
        figures.latencies_ms.append(latency_ms)

    def snapshot(self) -> list[tuple[str, int, dict[str, int], float, float, float]]:
        """(method, calls, errors by code, p50, p95, p99) for every method seen, sorted by name."""
        rows = []
        for name in sorted(self.methods):
            f = self.methods[name]
            values = sorted(f.latencies_ms)
            rows.append(
                (
                    name,
                    f.calls,
                    dict(f.errors_by_code),
                    percentile(values, 0.50),
                    percentile(values, 0.95),
                    percentile(values, 0.99),
                )
            )
        return rows
