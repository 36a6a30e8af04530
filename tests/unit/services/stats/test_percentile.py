"""One percentile definition (nearest rank) for every latency figure in a GetStats reply."""

from __future__ import annotations

import math

from hypothesis import given
from hypothesis import strategies as st

from inventory_server.api.metrics import MethodStats
from inventory_server.percentiles import percentile
from inventory_server.repositories.instrumentation import QueryStats

ONE_TO_HUNDRED = [float(v) for v in range(1, 101)]


def test_p95_of_one_to_hundred_is_95() -> None:
    assert percentile(ONE_TO_HUNDRED, 0.95) == 95.0
    assert percentile(ONE_TO_HUNDRED, 0.50) == 50.0
    assert percentile(ONE_TO_HUNDRED, 0.99) == 99.0
    assert percentile(ONE_TO_HUNDRED, 1.0) == 100.0


def test_small_and_empty_samples() -> None:
    assert percentile([], 0.95) == 0.0
    assert percentile([7.0], 0.5) == 7.0
    assert percentile([1.0, 2.0], 0.5) == 1.0
    assert percentile([1.0, 2.0], 0.51) == 2.0


def test_method_and_query_figures_agree_on_the_same_latencies() -> None:
    methods, queries = MethodStats(), QueryStats()
    for ms in reversed(ONE_TO_HUNDRED):
        methods.record("/inventory.v1.ProductService/GetProduct", "OK", ms)
        queries.record("products.get", ms / 1000, queries=1)
    [method] = methods.snapshot()
    query = queries.snapshot()["products.get"]
    assert method.p95_ms == 95.0
    assert math.isclose(query.p95_ms, 95.0)
    assert method.p50_ms == 50.0
    assert math.isclose(query.p50_ms, 50.0)


@given(st.lists(st.floats(-1e6, 1e6), min_size=1, max_size=200), st.floats(0.001, 1.0))
def test_nearest_rank_is_the_smallest_value_with_at_least_that_share_at_or_below_it(
    values: list[float], fraction: float
) -> None:
    ordered = sorted(values)
    p = percentile(ordered, fraction)
    at_or_below = sum(1 for v in ordered if v <= p)
    assert p in ordered
    assert at_or_below >= fraction * len(ordered) - 1e-9
    below = sum(1 for v in ordered if v < p)
    assert below < fraction * len(ordered) + 1e-9
