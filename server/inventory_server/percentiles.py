"""The one percentile definition the service reports (Stats: method and query latencies).

Nearest rank, the textbook definition: the p-th percentile of N sorted values
is the value at rank ``ceil(p * N)`` (1-based). It always answers an observed
value, never an interpolation, so "p95 = 12 ms" means some call took 12 ms.
A neutral module: the api layer (method figures) and the repositories (query
figures) both import it, and neither may import the other.

>>> percentile([float(v) for v in range(1, 101)], 0.95)
95.0
>>> percentile([3.0], 0.99), percentile([], 0.5)
(3.0, 0.0)
"""

from __future__ import annotations

import math
from collections.abc import Sequence


def percentile(ordered: Sequence[float], fraction: float) -> float:
    """Nearest-rank percentile of already sorted values (``fraction`` in (0, 1]); 0 when empty."""
    if not ordered:
        return 0.0
    rank = min(len(ordered), max(1, math.ceil(fraction * len(ordered))))
    return ordered[rank - 1]
