"""Figures read from the pool, the cache and pg_stat_database, and the ratios derived from them."""

from __future__ import annotations

from inventory_server.cache.product_cache import CacheFigures, ProductCache
from inventory_server.migrate.history import DEFAULT_TABLE
from inventory_server.repositories.database_stats import HISTORY_TABLE, DatabaseFigures
from inventory_server.services.stats.figures import PoolFigures


def test_pool_figures_map_every_get_stats_key() -> None:
    stats = {
        "pool_min": 2,
        "pool_max": 10,
        "pool_size": 6,
        "pool_available": 2,
        "requests_waiting": 3,
        "requests_num": 120,
        "requests_queued": 14,
        "requests_wait_ms": 950,
        "requests_errors": 4,
        "usage_ms": 7000,
        "connections_num": 9,
        "connections_lost": 1,
        "returns_bad": 2,
        "acquisition_timeouts": 5,
        "acquiring": 1,
    }
    pool = PoolFigures.from_pool_stats(stats)
    assert pool == PoolFigures(
        size=6,
        idle=2,
        waiting=1,
        min_size=2,
        max_size=10,
        connections_made=9,
        connections_lost=3,
        acquisition_timeouts=5,
        wait_time_ms=950.0,
        requests=120,
        requests_waited=14,
        usage_ms=7000.0,
    )
    assert pool.in_use == 4


def test_pool_counters_that_never_moved_read_as_zero() -> None:
    pool = PoolFigures.from_pool_stats({"pool_min": 1, "pool_max": 3, "pool_size": 1, "pool_available": 1})
    assert (pool.requests, pool.requests_waited, pool.connections_lost, pool.acquisition_timeouts) == (
        0,
        0,
        0,
        0,
    )
    assert pool.wait_time_ms == 0.0
    assert pool.in_use == 0


def test_acquisition_timeouts_fall_back_to_the_pools_request_errors() -> None:
    assert PoolFigures.from_pool_stats({"requests_errors": 7}).acquisition_timeouts == 7


def test_waiting_falls_back_to_the_pools_queue_length() -> None:
    assert PoolFigures.from_pool_stats({"requests_waiting": 4}).waiting == 4
    assert PoolFigures.from_pool_stats({"requests_waiting": 4, "acquiring": 0}).waiting == 0


def test_in_use_is_never_negative() -> None:
    assert PoolFigures(size=1, idle=3).in_use == 0


def test_cache_hit_ratio_is_hits_over_reads_and_zero_without_reads() -> None:
    assert CacheFigures(enabled=True, hits=9, misses=1).hit_ratio == 0.9
    assert CacheFigures(enabled=True).hit_ratio == 0.0


def test_database_cache_hit_ratio_counts_blocks_hit_over_all_blocks() -> None:
    figures = DatabaseFigures(
        size_bytes=1, connections=1, commits=1, rollbacks=0, deadlocks=0, blocks_hit=3, blocks_read=1
    )
    assert figures.cache_hit_ratio == 0.75
    empty = DatabaseFigures(
        size_bytes=1, connections=1, commits=1, rollbacks=0, deadlocks=0, blocks_hit=0, blocks_read=0
    )
    assert empty.cache_hit_ratio == 0.0


def test_a_disabled_product_cache_reports_disabled_with_zeros() -> None:
    assert ProductCache(100, 60.0, enabled=False).figures() == CacheFigures(enabled=False, max_size=100)


def test_the_schema_version_is_read_from_the_migration_engines_history_table() -> None:
    assert HISTORY_TABLE == DEFAULT_TABLE
