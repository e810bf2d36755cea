"""Backoff: doubling delays, the cap, jitter bounds, reset on success, validation."""

from __future__ import annotations

import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from healthwatch.aio import Backoff


def _rng(seed: int) -> random.Random:
    return random.Random(seed)  # noqa: S311 - reproducible jitter, not cryptography


def test_delays_double_up_to_the_cap_without_jitter() -> None:
    backoff = Backoff(initial=1, maximum=10, jitter=0, rng=_rng(0))
    assert [backoff.failure() for _ in range(7)] == [1, 2, 4, 8, 10, 10, 10]
    assert backoff.failures == 7


def test_custom_factor() -> None:
    backoff = Backoff(initial=0.5, maximum=100, factor=3, jitter=0)
    assert [backoff.failure() for _ in range(4)] == [0.5, 1.5, 4.5, 13.5]


def test_factor_one_is_constant() -> None:
    backoff = Backoff(initial=2, maximum=2, factor=1, jitter=0)
    assert {backoff.failure() for _ in range(5)} == {2}


def test_success_resets() -> None:
    backoff = Backoff(initial=1, maximum=60, jitter=0)
    for _ in range(5):
        backoff.failure()
    backoff.success()
    assert backoff.failures == 0
    assert backoff.failure() == 1


def test_seeded_jitter_is_reproducible() -> None:
    first = Backoff(initial=1, maximum=60, jitter=0.5, rng=_rng(42))
    second = Backoff(initial=1, maximum=60, jitter=0.5, rng=_rng(42))
    assert [first.failure() for _ in range(10)] == [second.failure() for _ in range(10)]


def test_jitter_takes_off_at_most_its_fraction() -> None:
    backoff = Backoff(initial=8, maximum=8, jitter=0.25, rng=_rng(7))
    delays = [backoff.failure() for _ in range(500)]
    assert all(6 <= d <= 8 for d in delays)
    assert min(delays) < 6.2
    assert max(delays) > 7.8


def test_many_failures_do_not_overflow() -> None:
    backoff = Backoff(initial=1, maximum=3600, factor=10, jitter=0)
    delays = [backoff.failure() for _ in range(1000)]
    assert delays[-1] == 3600


def test_huge_factor_does_not_overflow() -> None:
    backoff = Backoff(initial=1, maximum=3600, factor=1e6, jitter=0)
    delays = [backoff.failure() for _ in range(200)]
    assert delays[:2] == [1, 3600]
    assert set(delays[1:]) == {3600}


@pytest.mark.parametrize(
    "kwargs",
    [
        {"initial": 0},
        {"initial": -1},
        {"initial": 10, "maximum": 5},
        {"factor": 0.5},
        {"jitter": -0.1},
        {"jitter": 1.5},
    ],
)
def test_invalid_arguments_raise(kwargs: dict[str, float]) -> None:
    with pytest.raises(ValueError, match="backoff"):
        Backoff(**kwargs)  # type: ignore[arg-type]


@given(
    initial=st.floats(min_value=0.001, max_value=100),
    spread=st.floats(min_value=1, max_value=1e4),
    factor=st.floats(min_value=1, max_value=1e9),
    jitter=st.floats(min_value=0, max_value=1),
    seed=st.integers(min_value=0, max_value=2**32),
    count=st.integers(min_value=1, max_value=120),
)
def test_delays_stay_within_bounds(
    *, initial: float, spread: float, factor: float, jitter: float, seed: int, count: int
) -> None:
    maximum = initial * spread
    backoff = Backoff(
        initial=initial, maximum=maximum, factor=factor, jitter=jitter, rng=_rng(seed)
    )
    for attempt in range(count):
        delay = backoff.failure()
        nominal = min(maximum, initial * factor ** min(attempt, 64)) if factor < 1e4 else None
        assert delay <= maximum
        assert delay >= initial * (1 - jitter) - 1e-9
        if nominal is not None:
            assert nominal * (1 - jitter) - 1e-9 <= delay <= nominal + 1e-9
