"""A pool-size recommendation from the pool's own counters (docs/operations.md explains the rule).

Inputs are counters since the server started: how many requests the pool
served, how many had to wait and for how long, how many gave up, and how long
connections were lent out (``usage_ms``: divided by the uptime it is the
average number of connections in use).

- Too little traffic (fewer than ``MIN_REQUESTS`` requests) or the database
  down: keep the current size; the numbers would say nothing.
- Pressure: at least ``PRESSURE_WAIT_RATIO`` of requests waited with a mean
  wait of ``PRESSURE_MEAN_WAIT_MS`` or more, or ``TIMEOUT_RATIO`` of requests
  timed out: raise ``max_size`` by half (at least +2), never above ``CEILING``.
- Slack: under ``SLACK_WAIT_RATIO`` of requests waited and ``HEADROOM`` times the
  average busy connections is below ``max_size``: lower it to that (never below
  ``min_size`` or 2).
- Otherwise keep it.

>>> from inventory_server.services.stats.figures import PoolFigures
>>> busy = PoolFigures(max_size=10, requests=1000, requests_waited=400, wait_time_ms=8000.0)
>>> recommend(busy, uptime_seconds=60.0, serving=True).max_size
15
>>> idle = PoolFigures(min_size=2, max_size=20, requests=1000, usage_ms=30_000.0)
>>> recommend(idle, uptime_seconds=60.0, serving=True).max_size
2
"""

from __future__ import annotations

import math

from inventory_server.services.stats.figures import PoolFigures, Recommendation

MIN_REQUESTS = 100
PRESSURE_WAIT_RATIO = 0.10
PRESSURE_MEAN_WAIT_MS = 5.0
TIMEOUT_RATIO = 0.01
SLACK_WAIT_RATIO = 0.01
HEADROOM = 4.0
CEILING = 50
FLOOR = 2


def recommend(
    pool: PoolFigures, *, uptime_seconds: float, serving: bool, ceiling: int = CEILING
) -> Recommendation:
    """The suggested ``max_size`` for ``pool`` and the reason, in one sentence an operator can act on."""
    current = pool.max_size
    if not serving:
        return Recommendation(current, "the database is not answering: no advice until it is back")
    if pool.requests < MIN_REQUESTS:
        return Recommendation(
            current,
            f"only {pool.requests} pool requests so far; {MIN_REQUESTS} are needed to judge the size",
        )
    waited_ratio = pool.requests_waited / pool.requests
    mean_wait_ms = pool.wait_time_ms / pool.requests_waited if pool.requests_waited else 0.0
    timeout_ratio = pool.acquisition_timeouts / pool.requests
    busy = pool.usage_ms / (uptime_seconds * 1000) if uptime_seconds > 0 else 0.0
    observed = (
        f"{waited_ratio:.1%} of {pool.requests} requests waited for a connection "
        f"(mean {mean_wait_ms:.1f} ms), {pool.acquisition_timeouts} timed out, "
        f"{busy:.1f} of {current} connections busy on average"
    )
    pressure = (
        waited_ratio >= PRESSURE_WAIT_RATIO and mean_wait_ms >= PRESSURE_MEAN_WAIT_MS
    ) or timeout_ratio >= TIMEOUT_RATIO
    if pressure:
        target = min(max(ceiling, current), max(current + 2, math.ceil(current * 1.5)))
        if target <= current:
            return Recommendation(
                current,
                f"{observed}; already at the ceiling of {max(ceiling, current)}: "
                "shorten slow queries or transactions, or add replicas behind PgBouncer",
            )
        return Recommendation(target, f"{observed}; raise max_size to {target}")
    lowered = max(pool.min_size, FLOOR, math.ceil(busy * HEADROOM))
    if waited_ratio < SLACK_WAIT_RATIO and lowered < current:
        return Recommendation(
            lowered,
            f"{observed}; {lowered} ({HEADROOM:g}x the average busy, at least min_size) is enough",
        )
    return Recommendation(current, f"{observed}; the current size fits")
