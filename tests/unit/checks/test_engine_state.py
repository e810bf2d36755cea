"""Threshold state: firing once, no re-firing while alerting, resolving, surviving a restart."""

from __future__ import annotations

import json

import pytest

from healthwatch.checks.engine import CheckState, Transition
from healthwatch.model.checks import CheckResult


def _result(ok: bool, at: float) -> CheckResult:
    return CheckResult(check_id="default/web", run_id=f"r{at}", ok=ok, started_at=at, duration=0.1)


def _feed(state: CheckState, outcomes: str, *, start: float = 0.0) -> list[Transition | None]:
    return [
        state.observe(_result(c == "+", start + i), failure_threshold=3, success_threshold=2)
        for i, c in enumerate(outcomes)
    ]


def test_fires_once_at_the_threshold_and_not_again_while_alerting() -> None:
    state = CheckState()
    assert _feed(state, "--+---") == [None, None, None, None, None, "firing"]
    assert state.alerting and state.consecutive_failures == 3
    assert _feed(state, "----", start=6) == [None] * 4
    assert state.consecutive_failures == 7 and state.last_success == 2.0


def test_resolves_after_enough_successes_in_a_row() -> None:
    state = CheckState()
    _feed(state, "---")
    assert _feed(state, "+-++", start=3) == [None, None, None, "resolved"]
    assert not state.alerting and state.consecutive_successes == 2
    assert state.last_ok is True and state.last_run == 6.0 and state.last_success == 6.0
    assert _feed(state, "---", start=7) == [None, None, "firing"]


def test_thresholds_of_one_fire_and_resolve_immediately() -> None:
    state = CheckState()
    assert state.observe(_result(True, 0), failure_threshold=1, success_threshold=1) is None
    assert state.observe(_result(False, 1), failure_threshold=1, success_threshold=1) == "firing"
    assert state.observe(_result(True, 2), failure_threshold=1, success_threshold=1) == "resolved"


def test_a_restart_mid_streak_resumes_without_re_alerting() -> None:
    state = CheckState()
    _feed(state, "----")
    saved = json.loads(json.dumps(state.to_dict()))
    restored = CheckState.from_dict(saved)

    assert restored == state
    assert _feed(restored, "-", start=4) == [None]
    assert _feed(restored, "++", start=5) == [None, "resolved"]


def test_a_restart_before_the_threshold_keeps_counting() -> None:
    state = CheckState()
    _feed(state, "--")
    restored = CheckState.from_dict(state.to_dict())
    assert _feed(restored, "-", start=2) == ["firing"]


def test_an_empty_dict_is_a_fresh_state() -> None:
    assert CheckState.from_dict({}) == CheckState()


@pytest.mark.parametrize(
    "data",
    [
        {"consecutive_failures": -1},
        {"consecutive_failures": True},
        {"consecutive_successes": "2"},
        {"alerting": None},
        {"last_ok": 1},
        {"last_run": "yesterday"},
    ],
)
def test_malformed_saved_state_is_a_value_error(data: dict[str, object]) -> None:
    with pytest.raises(ValueError, match=next(iter(data))):
        CheckState.from_dict(data)
