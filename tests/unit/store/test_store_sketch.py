"""The latency sketch against a naive sort, and its binary form against damage."""

from __future__ import annotations

import contextlib
import math
import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from healthwatch.store import LatencySketch, SketchError
from healthwatch.store.rollups import GROWTH, MIN_LATENCY, bucket_start
from healthwatch.store.sketch import MAX_INDEX

latencies = st.lists(
    st.floats(min_value=0.0, max_value=3600.0, allow_nan=False, allow_infinity=False),
    min_size=1,
    max_size=300,
)
QUANTILES = (0.5, 0.9, 0.95, 0.99, 1.0)
MICROSECOND = 1e-6


def nearest_rank(values: list[float], q: float) -> float:
    """The ``ceil(q * n)``-th smallest value."""
    ordered = sorted(values)
    return ordered[max(1, math.ceil(q * len(ordered))) - 1]


def within_bound(estimate: float, true: float) -> bool:
    """The bound the sketch module documents (plus float and microsecond slack)."""
    if true < MIN_LATENCY:
        return abs(estimate - true) <= MIN_LATENCY / 2 + 1e-12
    return abs(estimate - true) <= (math.sqrt(GROWTH) - 1) * true * (1 + 1e-9)


def stored(sketch: LatencySketch) -> LatencySketch:
    """``sketch`` as the store reads it back."""
    return LatencySketch.from_bytes(sketch.to_bytes())


@given(latencies)
def test_quantiles_are_within_the_documented_bound(values: list[float]) -> None:
    sketch = LatencySketch.of(values)
    assert sketch.count == len(values)
    assert sketch.maximum == max(values)
    for q in QUANTILES:
        estimate, true = sketch.quantile(q), nearest_rank(values, q)
        assert within_bound(estimate, true), (q, estimate, true)
    again = stored(sketch)
    assert again.count == len(values)
    assert abs(again.maximum - max(values)) <= MICROSECOND / 2
    for q in QUANTILES:
        estimate, true = again.quantile(q), nearest_rank(values, q)
        assert within_bound(estimate, true), (q, estimate, true)


@given(latencies, latencies)
def test_merging_equals_sketching_everything(left: list[float], right: list[float]) -> None:
    merged = LatencySketch.of(left)
    merged.merge(LatencySketch.of(right))
    whole = LatencySketch.of(left + right)
    assert merged.to_bytes() == whole.to_bytes()
    assert merged.dumps() == whole.dumps()
    stored_merge = stored(LatencySketch.of(left))
    stored_merge.merge(stored(LatencySketch.of(right)))
    assert stored_merge.to_bytes() == whole.to_bytes()


@given(latencies)
def test_binary_round_trip(values: list[float]) -> None:
    sketch = LatencySketch.of(values)
    data = sketch.to_bytes()
    again = LatencySketch.from_bytes(data)
    assert again.to_bytes() == data
    for q in QUANTILES:  # the same, but for the maximum kept to the microsecond
        assert abs(again.quantile(q) - sketch.quantile(q)) <= MICROSECOND / 2


@given(latencies)
def test_json_form_converts_to_the_same_binary(values: list[float]) -> None:
    sketch = LatencySketch.of(values)
    assert LatencySketch.loads(sketch.dumps()).to_bytes() == sketch.to_bytes()


@given(st.binary(max_size=600))
def test_random_bytes_never_crash_the_decoder(data: bytes) -> None:
    try:
        sketch = LatencySketch.from_bytes(data)
    except SketchError:
        return
    assert sketch.count >= 0
    assert sketch.quantile(0.5) >= 0
    assert LatencySketch.from_bytes(sketch.to_bytes()).to_bytes() == sketch.to_bytes()


@given(latencies, st.integers(min_value=0), st.integers(min_value=0, max_value=255))
def test_damaged_sketches_decode_or_fail_cleanly(
    values: list[float], where: int, byte: int
) -> None:
    data = bytearray(LatencySketch.of(values).to_bytes())
    for damaged in (
        bytes(data[: where % len(data)]),  # truncated
        bytes(data[: where % len(data)] + bytes([byte]) + data[where % len(data) + 1 :]),
        bytes(data) + bytes([byte]),  # trailing garbage
    ):
        with contextlib.suppress(SketchError):  # refused, or read as some valid sketch
            again = LatencySketch.from_bytes(damaged)
            assert LatencySketch.from_bytes(again.to_bytes()).to_bytes() == again.to_bytes()


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        (b"", "truncated"),
        (b"\x07\x00\x00", "unknown sketch format"),
        (b"\x01", "truncated"),
        (b"\x01" + b"\xff" * 11, "overlong varint"),
        (b"\x01\x00\x02\x00\x00", "truncated"),  # two buckets announced, one given
        (b"\x01\x00\x01\x00\x00\x00", "trailing bytes"),
        (b"\x01\x00\x01\x81\x02\x00", "beyond"),  # index 257
        (b"\x01\x00\x82\x02", "at most"),  # 258 buckets
        (b"\x02\x00\x00\x00\x04", "outside"),  # empty span
        (b"\x02\x00\x80\x02\x02\x04\x00", "outside"),  # span past the last bucket
        (b"\x02\x00\x00\x01\x09\x00", "width"),
        (b"\x02\x00\x00\x02\x04", "truncated"),  # counts missing
        (b"\x02\x00\x00\x01\x01\x01", "truncated"),  # escaped count missing
        (b"\x01\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01\x00", "out of range"),
        ("not bytes", "not str"),
        (None, "not NoneType"),
    ],
)
def test_malformed_sketches_are_refused(data: object, problem: str) -> None:
    with pytest.raises(SketchError, match=problem):
        LatencySketch.from_bytes(data)


@pytest.mark.parametrize(
    "text",
    ["", "[]", '{"m": 1}', '{"m": "x", "b": {}}', '{"m": 1, "b": {"999": 1}}', '{"m": 1, "b": 3}'],
)
def test_malformed_json_sketches_are_refused(text: str) -> None:
    with pytest.raises(SketchError):
        LatencySketch.loads(text)


def test_an_hour_of_runs_takes_a_few_dozen_bytes() -> None:
    rng = random.Random(1)  # noqa: S311 - reproducible data, not cryptography
    hour = LatencySketch.of(rng.lognormvariate(-3, 0.5) for _ in range(60))
    day = LatencySketch.of(rng.lognormvariate(-3, 0.5) for _ in range(1440))
    assert len(hour.to_bytes()) <= 24
    assert len(day.to_bytes()) <= 48
    assert len(hour.to_bytes()) < len(hour.dumps()) / 5
    assert len(LatencySketch().to_bytes()) == 3


def test_empty_sketch_and_extreme_values() -> None:
    assert LatencySketch().quantile(0.5) == 0.0
    assert stored(LatencySketch()).quantile(0.5) == 0.0
    huge = LatencySketch.of([1e9, 2e9])
    assert huge.quantile(0.5) == 2e9  # beyond the last bucket: the maximum stands in
    assert stored(huge).quantile(0.5) == 2e9
    odd = LatencySketch.of([math.inf, math.nan, -1.0, 0.0])
    assert odd.count == 4
    again = stored(odd)
    assert again.count == 4
    assert again.maximum > 1e12  # infinity is kept as the largest storable maximum
    assert LatencySketch.of([1e-7]).to_bytes() == LatencySketch.of([2e-7]).to_bytes()


def test_every_bucket_survives_both_layouts() -> None:
    scattered = LatencySketch()
    for index in (0, 1, 100, MAX_INDEX):
        scattered.add(MIN_LATENCY * GROWTH ** (index - 1) * 1.01 if index else 0.0)
    assert scattered.to_bytes()[0] == 0x01  # sparse
    dense = LatencySketch.of([MIN_LATENCY * GROWTH**k for k in range(MAX_INDEX) for _ in range(3)])
    assert dense.to_bytes()[0] == 0x02  # packed
    for sketch in (scattered, dense):
        again = stored(sketch)
        assert again.count == sketch.count
        assert again.to_bytes() == sketch.to_bytes()


def test_buckets_align_on_utc_hours_and_days() -> None:
    assert bucket_start(1_700_000_123.5, "hour") == 1_699_999_200
    assert bucket_start(1_700_000_123.5, "day") == 1_699_920_000
