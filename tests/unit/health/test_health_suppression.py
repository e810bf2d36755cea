"""Suppression windows: extend-only, overlapping, visible, auto-expiring, cleared, validated."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from healthwatch.aio import ManualClock
from healthwatch.health.groups import LIVENESS, READINESS
from healthwatch.health.registry import HealthRegistry
from healthwatch.health.suppression import Suppressions


@pytest.fixture
def failing(registry: HealthRegistry) -> HealthRegistry:
    """A started registry whose readiness fails because db is unhealthy."""
    registry.register("db")
    registry.mark_started()
    registry.update("db", "unhealthy")
    assert not registry.report().probes[READINESS].passed
    return registry


def test_window_passes_a_failing_probe_and_shows_why(
    failing: HealthRegistry, clock: ManualClock
) -> None:
    window = failing.suppress(READINESS, 60, "db failover")
    assert window.probe == READINESS
    assert window.until == clock.time() + 60
    assert window.reason == "db failover"
    verdict = failing.report().probes[READINESS]
    assert verdict.passed
    assert verdict.suppressed == (window,)
    assert verdict.reason == "suppressed (db failover): db unhealthy"
    assert verdict.failing == ("db",)


def test_window_on_a_passing_probe_is_still_visible(failing: HealthRegistry) -> None:
    failing.update("db", "healthy")
    failing.suppress(READINESS, 60, "planned")
    verdict = failing.report().probes[READINESS]
    assert verdict.passed
    assert verdict.reason == "ok"
    assert [w.reason for w in verdict.suppressed] == ["planned"]


def test_window_only_covers_its_probe(failing: HealthRegistry) -> None:
    failing.register("loop", groups=(LIVENESS,))
    failing.update("loop", "unhealthy")
    failing.suppress(READINESS, 60, "maintenance")
    report = failing.report()
    assert report.probes[READINESS].passed
    assert not report.probes[LIVENESS].passed
    assert report.probes[LIVENESS].suppressed == ()


def test_window_expires_on_the_monotonic_clock(failing: HealthRegistry, clock: ManualClock) -> None:
    failing.suppress(READINESS, 30, "restart")
    clock.set_wall(clock.time() + 10_000)  # a wall-clock step changes nothing
    assert failing.report().probes[READINESS].passed
    clock.advance(29.9)
    assert failing.report().probes[READINESS].passed
    clock.advance(0.1)
    verdict = failing.report().probes[READINESS]
    assert not verdict.passed
    assert verdict.suppressed == ()


def test_shorter_window_does_not_shorten_a_longer_one(
    failing: HealthRegistry, clock: ManualClock
) -> None:
    failing.suppress(READINESS, 100, "long")
    failing.suppress(READINESS, 10, "short")
    verdict = failing.report().probes[READINESS]
    assert [w.reason for w in verdict.suppressed] == ["long", "short"]  # latest end first
    assert verdict.reason.startswith("suppressed (long)")
    clock.advance(50)
    verdict = failing.report().probes[READINESS]
    assert verdict.passed
    assert [w.reason for w in verdict.suppressed] == ["long"]


def test_overlapping_windows_effective_end_is_the_latest(
    failing: HealthRegistry, clock: ManualClock
) -> None:
    failing.suppress(READINESS, 20, "first")
    clock.advance(10)
    later = failing.suppress(READINESS, 20, "second")  # extends to t+30
    clock.advance(15)  # t+25: first is over, second still on
    verdict = failing.report().probes[READINESS]
    assert verdict.passed
    assert verdict.suppressed == (later,)
    clock.advance(5)
    assert not failing.report().probes[READINESS].passed


def test_replace_drops_the_other_windows(failing: HealthRegistry, clock: ManualClock) -> None:
    failing.suppress(READINESS, 100, "long")
    short = failing.suppress(READINESS, 10, "shortened on purpose", replace=True)
    assert failing.report().probes[READINESS].suppressed == (short,)
    clock.advance(10)
    assert not failing.report().probes[READINESS].passed


def test_clear_one_probe(failing: HealthRegistry) -> None:
    failing.suppress(READINESS, 60, "a")
    failing.suppress(READINESS, 60, "b")
    failing.suppress(LIVENESS, 60, "c")
    assert failing.clear_suppression(READINESS) == 2
    report = failing.report()
    assert not report.probes[READINESS].passed
    assert report.probes[LIVENESS].suppressed != ()
    assert failing.clear_suppression(READINESS) == 0


def test_clear_all(failing: HealthRegistry) -> None:
    failing.suppress(READINESS, 60, "a")
    failing.suppress(LIVENESS, 60, "b")
    assert failing.clear_suppression() == 2
    report = failing.report()
    assert all(v.suppressed == () for v in report.probes.values())


def test_clear_counts_only_windows_still_open(failing: HealthRegistry, clock: ManualClock) -> None:
    failing.suppress(READINESS, 10, "short")
    failing.suppress(READINESS, 60, "long")
    clock.advance(30)
    assert failing.clear_suppression(READINESS) == 1
    failing.suppress(LIVENESS, 10, "gone")
    clock.advance(30)
    assert failing.clear_suppression() == 0


def test_draining_wins_over_suppression(failing: HealthRegistry) -> None:
    failing.suppress(READINESS, 60, "maintenance")
    failing.drain()
    verdict = failing.report().probes[READINESS]
    assert not verdict.passed
    assert verdict.reason == "draining"


def test_stopped_wins_over_suppression(failing: HealthRegistry) -> None:
    failing.suppress(LIVENESS, 60, "maintenance")
    failing.stop()
    assert not failing.report().probes[LIVENESS].passed


@pytest.mark.parametrize(("seconds", "reason"), [(0, "r"), (-5, "r"), (10, ""), (10, "   ")])
def test_invalid_windows_raise(failing: HealthRegistry, seconds: float, reason: str) -> None:
    with pytest.raises(ValueError, match="suppression window"):
        failing.suppress(READINESS, seconds, reason)
    assert failing.report().probes[READINESS].suppressed == ()


@given(durations=st.lists(st.floats(min_value=0.001, max_value=1e6), min_size=1, max_size=8))
def test_effective_end_is_the_latest_window(durations: list[float]) -> None:
    windows = Suppressions()
    for index, seconds in enumerate(durations):
        windows.add("readiness", seconds=seconds, reason=f"w{index}", wall=0.0, mono=0.0)
    active = windows.active("readiness", mono=0.0)
    assert len(active) == len(durations)
    assert active[0].until == max(durations)
    assert windows.active("readiness", mono=max(durations)) == ()


def test_suppressing_a_group_that_does_not_exist_is_an_error(failing: HealthRegistry) -> None:
    with pytest.raises(ValueError, match="no probe group 'readyness'"):
        failing.suppress("readyness", 60, "typo")
    assert "readyness" not in failing.groups
