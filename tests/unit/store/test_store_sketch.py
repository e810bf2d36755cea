"""The latency sketch against a naive sort: estimates stay within the documented bound."""

from __future__ import annotations

import math

from hypothesis import given
from hypothesis import strategies as st

from healthwatch.store import LatencySketch
from healthwatch.store.rollups import GROWTH, MIN_LATENCY, bucket_start

latencies = st.lists(
    st.floats(min_value=0.0, max_value=3600.0, allow_nan=False, allow_infinity=False),
    min_size=1,
    max_size=300,
)
QUANTILES = (0.5, 0.95, 0.99, 1.0)


def nearest_rank(values: list[float], q: float) -> float:
    """The ``ceil(q * n)``-th smallest value."""
    ordered = sorted(values)
    return ordered[max(1, math.ceil(q * len(ordered))) - 1]


def within_bound(estimate: float, true: float) -> bool:
    """The bound the rollups module documents (plus float slack)."""
    if true < MIN_LATENCY:
        return abs(estimate - true) <= MIN_LATENCY / 2 + 1e-12
    return abs(estimate - true) <= (math.sqrt(GROWTH) - 1) * true * (1 + 1e-9)


@given(latencies)
def test_quantiles_are_within_the_documented_bound(values: list[float]) -> None:
    sketch = LatencySketch.of(values)
    assert sketch.count == len(values)
    assert sketch.maximum == max(values)
    for q in QUANTILES:
        estimate, true = sketch.quantile(q), nearest_rank(values, q)
        assert within_bound(estimate, true), (q, estimate, true)


@given(latencies, latencies)
def test_merging_equals_sketching_everything(left: list[float], right: list[float]) -> None:
    merged = LatencySketch.of(left)
    merged.merge(LatencySketch.of(right))
    assert merged.dumps() == LatencySketch.of(left + right).dumps()


@given(latencies)
def test_json_round_trip(values: list[float]) -> None:
    sketch = LatencySketch.of(values)
    again = LatencySketch.loads(sketch.dumps())
    assert again.dumps() == sketch.dumps()
    assert [again.quantile(q) for q in QUANTILES] == [sketch.quantile(q) for q in QUANTILES]


def test_empty_sketch_and_huge_values() -> None:
    assert LatencySketch().quantile(0.5) == 0.0
    huge = LatencySketch.of([1e9, 2e9])
    assert huge.quantile(0.5) == 2e9  # beyond the last bucket: the maximum stands in


def test_buckets_align_on_utc_hours_and_days() -> None:
    assert bucket_start(1_700_000_123.5, "hour") == 1_699_999_200
    assert bucket_start(1_700_000_123.5, "day") == 1_699_920_000
