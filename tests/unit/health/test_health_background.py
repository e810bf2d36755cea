"""Background (periodic) checks: scheduling without drift, jitter, staleness, the thread."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

import pytest

from healthwatch.aio import ManualClock
from healthwatch.health.background import BackgroundChecks
from healthwatch.health.checks import CheckPolicy
from healthwatch.health.groups import LIVENESS
from healthwatch.health.registry import HealthRegistry
from healthwatch.model.health import HealthStatus


class Stamped:
    """An inline-friendly check that records the manual time of every run."""

    def __init__(self, clock: ManualClock) -> None:
        self.clock = clock
        self.runs: list[float] = []

    def __call__(self) -> bool:
        self.runs.append(self.clock.monotonic())
        return True


def _policy(interval: float, jitter: float = 0.0, **kwargs: float) -> CheckPolicy:
    return CheckPolicy(interval=interval, jitter=jitter, inline=True, **kwargs)


def test_background_check_runs_only_from_run_due_checks(
    registry: HealthRegistry, clock: ManualClock
) -> None:
    check = Stamped(clock)
    registry.register("bg", check, policy=_policy(10))
    registry.report()
    registry.status("bg")
    assert check.runs == []  # probes only read a background check's latest result
    registry.run_due_checks()
    assert check.runs == [1000.0]
    assert registry.status("bg").status is HealthStatus.HEALTHY


def test_runs_are_planned_from_the_slot_not_from_when_they_ran(
    registry: HealthRegistry, clock: ManualClock
) -> None:
    check = Stamped(clock)
    registry.register("bg", check, policy=_policy(10))
    registry.run_due_checks()  # t=1000, next slot 1010
    clock.advance(3)
    registry.run_due_checks()
    assert check.runs == [1000.0]
    assert registry.next_due_in() == 7.0
    clock.advance(9)  # t=1012: two seconds late
    registry.run_due_checks()
    assert registry.next_due_in() == 8.0  # next slot 1020, not 1022
    clock.advance(8)
    registry.run_due_checks()
    assert check.runs == [1000.0, 1012.0, 1020.0]


def test_missed_slots_are_skipped_not_run_in_a_burst(
    registry: HealthRegistry, clock: ManualClock
) -> None:
    check = Stamped(clock)
    registry.register("bg", check, policy=_policy(10))
    registry.run_due_checks()
    clock.advance(55)
    registry.run_due_checks()
    registry.run_due_checks()
    assert check.runs == [1000.0, 1055.0]
    assert registry.next_due_in() == 10.0


def test_jitter_stays_within_bounds_and_does_not_accumulate(
    registry: HealthRegistry, clock: ManualClock
) -> None:
    interval, jitter = 10.0, 0.2
    spread = interval * jitter
    check = Stamped(clock)
    registry.register("bg", check, policy=_policy(interval, jitter))
    for _ in range(300):
        due = registry.next_due_in()
        assert due is not None
        clock.advance(due)
        registry.run_due_checks()
    runs = check.runs
    assert len(runs) == 300
    assert 1000.0 <= runs[0] <= 1000.0 + spread  # the first run lands early in the interval
    offsets = [run - (runs[0] + k * interval) for k, run in enumerate(runs)]
    assert all(-spread <= offset <= spread for offset in offsets)
    assert len({round(offset, 6) for offset in offsets}) > 200  # it is actually jittered


def test_jitter_is_reproducible_with_a_seeded_rng(
    make_registry: Callable[..., HealthRegistry], clock: ManualClock
) -> None:
    def first_due(seed: int) -> float | None:
        registry = make_registry(seed=seed)
        registry.register("bg", lambda: True, policy=_policy(10, 0.5))
        return registry.next_due_in()

    assert first_due(1) == first_due(1)
    assert first_due(1) != first_due(2)


def test_background_check_goes_stale_after_three_intervals_and_timeout(
    registry: HealthRegistry, clock: ManualClock
) -> None:
    registry.register("bg", lambda: True, policy=_policy(10, timeout=1))
    registry.run_due_checks()
    clock.advance(31)  # 3 * 10 + 1: still fresh
    assert registry.status("bg").status is HealthStatus.HEALTHY
    clock.advance(0.5)
    stale = registry.status("bg")
    assert stale.status is HealthStatus.UNKNOWN
    assert "stale" in stale.message
    registry.run_due_checks()  # the thread came back
    assert registry.status("bg").status is HealthStatus.HEALTHY


def test_hung_background_check_times_out_and_is_not_restarted(
    registry: HealthRegistry, clock: ManualClock, gate: threading.Event
) -> None:
    calls: list[int] = []

    def hang() -> bool:
        calls.append(1)
        return gate.wait()

    registry.register("bg", hang, policy=CheckPolicy(interval=10, jitter=0, timeout=2))
    registry.run_due_checks()
    assert registry.status("bg").status is HealthStatus.UNKNOWN  # in flight
    clock.advance(2)
    registry.run_due_checks()  # past its deadline: timed out
    snapshot = registry.status("bg")
    assert snapshot.status is HealthStatus.UNHEALTHY
    assert snapshot.message == "timed out after 2s"
    for expected in (2, 3, 4):
        clock.advance(10)
        registry.run_due_checks()
        assert registry.status("bg").consecutive_failures == expected
    assert calls == [1]


def test_slot_taken_by_a_run_in_flight_is_skipped(
    registry: HealthRegistry, clock: ManualClock, gate: threading.Event
) -> None:
    registry.register("bg", gate.wait, policy=CheckPolicy(interval=1, jitter=0, timeout=5))
    registry.run_due_checks()
    clock.advance(1)
    registry.run_due_checks()  # due again, the first run still in flight: joined
    assert registry.next_due_in() == 1.0  # not 0, which would make the thread spin


def test_report_of_liveness_runs_no_readiness_check(registry: HealthRegistry) -> None:
    ran: list[str] = []
    policy = CheckPolicy(inline=True, success_ttl=0)

    def recorder(name: str) -> Callable[[], None]:
        return lambda: ran.append(name)

    registry.register("loop", recorder("loop"), groups=(LIVENESS,), policy=policy)
    registry.register("db", recorder("db"), policy=policy)
    report = registry.report(probes=(LIVENESS,))
    assert ran == ["loop"]
    assert report.probes[LIVENESS].passed
    registry.report(probes=("readiness",))
    assert ran == ["loop", "db"]
    registry.report(probes=("no-such-group",))
    assert ran == ["loop", "db"]


def test_next_due_in_is_none_without_background_checks(registry: HealthRegistry) -> None:
    registry.register("db", lambda: True)
    assert registry.next_due_in() is None


def test_background_thread_runs_and_stops(registry: HealthRegistry) -> None:
    ran = threading.Event()
    registry.register("bg", ran.set, policy=_policy(10))
    background = registry.start_background(tick=0.01)
    assert registry.start_background() is background  # started once
    assert ran.wait(timeout=5)
    registry.close()
    assert not background.thread.is_alive()


def test_background_loop_survives_a_failing_pass(caplog: pytest.LogCaptureFixture) -> None:
    calls: list[int] = []
    second = threading.Event()

    def run_due() -> None:
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("bad pass")
        second.set()

    checks = BackgroundChecks(run_due, lambda: 0.0, tick=0.01)
    with caplog.at_level(logging.ERROR, logger="healthwatch.health"):
        checks.start()
        assert second.wait(timeout=5)
        checks.stop()
    assert not checks.thread.is_alive()
    assert "background check pass failed" in caplog.text
