"""ComponentState directly: thresholds, counters, staleness; with property tests."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from healthwatch.health.state import ComponentState, Thresholds
from healthwatch.model.health import HealthStatus

H, D, U, K = (
    HealthStatus.HEALTHY,
    HealthStatus.DEGRADED,
    HealthStatus.UNHEALTHY,
    HealthStatus.UNKNOWN,
)
OBSERVED = st.sampled_from([H, D, U])


def _state(
    failures: int = 1, successes: int = 1, stale_after: float | None = None
) -> ComponentState:
    return ComponentState(
        name="c",
        thresholds=Thresholds(failures=failures, successes=successes),
        stale_after=stale_after,
    )


def _feed(state: ComponentState, raws: list[HealthStatus]) -> list[HealthStatus]:
    shown = []
    for index, raw in enumerate(raws):
        state.observe(raw, f"obs {index}", None, wall=float(index), mono=float(index))
        shown.append(state.status)
    return shown


def test_observe_returns_previous_status_only_on_change() -> None:
    state = _state()
    assert state.observe(H, "", None, wall=1, mono=1) is K
    assert state.observe(H, "", None, wall=2, mono=2) is None
    assert state.observe(D, "", None, wall=3, mono=3) is H
    assert state.changed_at == 3


def test_counters_and_timestamps() -> None:
    state = _state()
    _feed(state, [H, U, U])
    assert state.consecutive_failures == 2
    assert state.consecutive_successes == 0
    assert state.last_success_at == 0
    assert state.last_failure_at == 2
    state.observe(D, "", None, wall=9, mono=9)
    assert state.consecutive_failures == 0
    assert state.consecutive_successes == 1
    assert state.last_success_at == 9


def test_pushed_unknown_resets_nothing_and_is_shown() -> None:
    state = _state(failures=3)
    _feed(state, [H, U])
    state.observe(K, "lost", None, wall=5, mono=5)
    assert state.status is K
    assert state.consecutive_failures == 1


def test_expire_turns_unknown_once() -> None:
    state = _state(stale_after=10)
    state.observe(H, "", None, wall=0, mono=0)
    assert state.expire(wall=10, mono=10) is None
    assert state.expire(wall=11, mono=11) is H
    assert state.status is K
    assert state.message == "stale: no report for 11.0s (limit 10s)"
    assert state.expire(wall=50, mono=50) is None
    state.observe(U, "", None, wall=60, mono=60)
    assert state.status is U
    assert not state.stale


def test_expire_never_without_stale_after_or_observation() -> None:
    assert _state().expire(wall=1e9, mono=1e9) is None
    assert _state(stale_after=1).expire(wall=1e9, mono=1e9) is None


def test_snapshot_is_a_copy() -> None:
    state = _state()
    state.observe(H, "ok", {"k": "v"}, wall=1, mono=1, duration=0.5)
    snapshot = state.snapshot()
    state.observe(U, "down", None, wall=2, mono=2)
    assert snapshot.status is H
    assert snapshot.message == "ok"
    assert snapshot.duration == 0.5
    assert dict(snapshot.metadata) == {"k": "v"}


@given(
    failures=st.integers(min_value=1, max_value=6),
    raws=st.lists(OBSERVED, min_size=1, max_size=60),
)
def test_status_never_turns_unhealthy_before_n_consecutive_failures(
    failures: int, raws: list[HealthStatus]
) -> None:
    state = _state(failures=failures)
    run = 0
    previous = K
    for index, raw in enumerate(raws):
        run = run + 1 if raw is U else 0
        state.observe(raw, "", None, wall=float(index), mono=float(index))
        if previous.is_up and state.status is U:
            assert run >= failures
        if previous.is_up and raw is U and run >= failures:
            assert state.status is U
        previous = state.status


@given(
    successes=st.integers(min_value=1, max_value=6),
    raws=st.lists(OBSERVED, min_size=1, max_size=60),
)
def test_status_never_recovers_before_n_consecutive_successes(
    successes: int, raws: list[HealthStatus]
) -> None:
    state = _state(successes=successes)
    run = 0
    previous = K
    for index, raw in enumerate(raws):
        run = run + 1 if raw.is_up else 0
        state.observe(raw, "", None, wall=float(index), mono=float(index))
        if previous is U and state.status.is_up:
            assert run >= successes
            assert state.status is raw
        previous = state.status


@given(raws=st.lists(OBSERVED, min_size=1, max_size=40))
def test_thresholds_of_one_show_every_observation(raws: list[HealthStatus]) -> None:
    assert _feed(_state(), raws) == raws


@given(
    failures=st.integers(min_value=1, max_value=5),
    successes=st.integers(min_value=1, max_value=5),
    raws=st.lists(OBSERVED, min_size=1, max_size=60),
)
def test_consecutive_failures_counts_the_trailing_run(
    failures: int, successes: int, raws: list[HealthStatus]
) -> None:
    state = _state(failures=failures, successes=successes)
    _feed(state, raws)
    trailing = 0
    for raw in reversed(raws):
        if raw is not U:
            break
        trailing += 1
    assert state.consecutive_failures == trailing
    assert state.snapshot().consecutive_failures == trailing
