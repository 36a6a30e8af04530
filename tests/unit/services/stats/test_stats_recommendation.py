"""The pool-size recommendation: raise under pressure, lower with slack, keep otherwise."""

from __future__ import annotations

from inventory_server.services.stats.figures import PoolFigures
from inventory_server.services.stats.recommendation import CEILING, MIN_REQUESTS, recommend

MINUTE = 60.0


def test_too_little_traffic_keeps_the_current_size_and_says_why() -> None:
    pool = PoolFigures(max_size=10, requests=MIN_REQUESTS - 1, requests_waited=MIN_REQUESTS - 1)
    advice = recommend(pool, uptime_seconds=MINUTE, serving=True)
    assert advice.max_size == 10
    assert "needed to judge" in advice.reason


def test_a_database_that_is_down_gets_no_advice() -> None:
    pool = PoolFigures(max_size=10, requests=1000, requests_waited=900, wait_time_ms=90_000.0)
    advice = recommend(pool, uptime_seconds=MINUTE, serving=False)
    assert advice.max_size == 10
    assert "not answering" in advice.reason


def test_frequent_long_waits_raise_max_size_by_half() -> None:
    pool = PoolFigures(min_size=2, max_size=10, requests=1000, requests_waited=200, wait_time_ms=4000.0)
    advice = recommend(pool, uptime_seconds=MINUTE, serving=True)
    assert advice.max_size == 15
    assert "20.0% of 1000 requests waited" in advice.reason
    assert "raise max_size to 15" in advice.reason


def test_a_small_pool_under_pressure_grows_by_at_least_two() -> None:
    pool = PoolFigures(max_size=2, requests=500, requests_waited=250, wait_time_ms=5000.0)
    assert recommend(pool, uptime_seconds=MINUTE, serving=True).max_size == 4


def test_acquisition_timeouts_alone_count_as_pressure() -> None:
    pool = PoolFigures(
        max_size=10, requests=1000, requests_waited=20, wait_time_ms=100.0, acquisition_timeouts=10
    )
    assert recommend(pool, uptime_seconds=MINUTE, serving=True).max_size == 15


def test_short_waits_are_not_pressure() -> None:
    pool = PoolFigures(
        max_size=10, requests=1000, requests_waited=500, wait_time_ms=500.0, usage_ms=MINUTE * 1000 * 8
    )
    advice = recommend(pool, uptime_seconds=MINUTE, serving=True)
    assert advice.max_size == 10
    assert "fits" in advice.reason


def test_pressure_never_recommends_more_than_the_ceiling() -> None:
    pool = PoolFigures(max_size=CEILING - 1, requests=1000, requests_waited=500, wait_time_ms=50_000.0)
    assert recommend(pool, uptime_seconds=MINUTE, serving=True).max_size == CEILING
    at_ceiling = PoolFigures(max_size=CEILING, requests=1000, requests_waited=500, wait_time_ms=50_000.0)
    advice = recommend(at_ceiling, uptime_seconds=MINUTE, serving=True)
    assert advice.max_size == CEILING
    assert "ceiling" in advice.reason


def test_idle_connections_lower_max_size_to_four_times_the_average_busy() -> None:
    # 1.5 connections busy on average over a minute, nobody waited: 6 is plenty.
    pool = PoolFigures(min_size=2, max_size=20, requests=5000, usage_ms=1.5 * MINUTE * 1000)
    advice = recommend(pool, uptime_seconds=MINUTE, serving=True)
    assert advice.max_size == 6
    assert "is enough" in advice.reason


def test_lowering_stops_at_min_size() -> None:
    pool = PoolFigures(min_size=8, max_size=20, requests=5000, usage_ms=0.0)
    assert recommend(pool, uptime_seconds=MINUTE, serving=True).max_size == 8


def test_a_busy_pool_without_waits_keeps_its_size() -> None:
    pool = PoolFigures(
        min_size=2, max_size=10, requests=5000, requests_waited=5, usage_ms=4.0 * MINUTE * 1000
    )
    assert recommend(pool, uptime_seconds=MINUTE, serving=True).max_size == 10
