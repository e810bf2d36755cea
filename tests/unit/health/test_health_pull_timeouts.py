"""Pulled checks that are slow or hang: timeouts, single flight, probe deadlines, late results."""

from __future__ import annotations

import concurrent.futures
import logging
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

import pytest

from healthwatch.aio import ManualClock
from healthwatch.health.checks import CheckPolicy, CheckRun
from healthwatch.health.registry import HealthRegistry
from healthwatch.health.state import Thresholds
from healthwatch.model.health import HealthStatus


class Gated:
    """A sync check that hangs on ``gate`` once ``hang`` is set; counts its starts."""

    def __init__(self, gate: threading.Event, *, hang: bool = True) -> None:
        self.gate = gate
        self.hang = hang
        self.calls = 0
        self.started = threading.Event()
        self.threads: list[threading.Thread] = []

    def __call__(self) -> bool:
        self.calls += 1
        self.threads.append(threading.current_thread())
        self.started.set()
        if self.hang:
            self.gate.wait()
        return True


def test_a_check_past_its_timeout_is_unhealthy(
    registry: HealthRegistry, gate: threading.Event
) -> None:
    registry.register("db", Gated(gate), policy=CheckPolicy(timeout=0.02))
    snapshot = registry.status("db")
    assert snapshot.status is HealthStatus.UNHEALTHY
    assert snapshot.message == "timed out after 0.02s"
    assert snapshot.consecutive_failures == 1


def test_hung_check_is_never_started_twice_and_failures_keep_counting(
    registry: HealthRegistry, clock: ManualClock, gate: threading.Event
) -> None:
    check = Gated(gate)
    registry.register("db", check, policy=CheckPolicy(timeout=0.02, failure_ttl=5))
    registry.mark_started()
    for _ in range(10):  # within the failure TTL: the cached failure answers
        assert not registry.report().probes["readiness"].passed
    assert registry.status("db").consecutive_failures == 1
    for expected in range(2, 12):  # every expired TTL counts one more failure
        clock.advance(5)
        snapshot = registry.status("db")
        assert snapshot.status is HealthStatus.UNHEALTHY
        assert snapshot.consecutive_failures == expected
        assert "not started again" in snapshot.message
    assert check.calls == 1


def test_hung_check_trips_failure_threshold_without_a_second_start(
    registry: HealthRegistry, clock: ManualClock, gate: threading.Event
) -> None:
    check = Gated(gate, hang=False)
    registry.register(
        "db",
        check,
        policy=CheckPolicy(timeout=0.02, success_ttl=1, failure_ttl=1),
        thresholds=Thresholds(failures=3),
    )
    assert registry.status("db").status is HealthStatus.HEALTHY
    check.hang = True
    clock.advance(1)
    first = registry.status("db")  # times out: failure 1/3 tolerated
    assert first.status is HealthStatus.HEALTHY
    assert "failure 1/3 tolerated" in first.message
    clock.advance(1)
    assert registry.status("db").status is HealthStatus.HEALTHY  # 2/3
    clock.advance(1)
    tripped = registry.status("db")  # 3/3, the run still hanging
    assert tripped.status is HealthStatus.UNHEALTHY
    assert check.calls == 2


def test_concurrent_probes_join_one_run(registry: HealthRegistry, gate: threading.Event) -> None:
    check = Gated(gate)
    registry.register("db", check, policy=CheckPolicy(timeout=0.5, failure_ttl=0))
    results: list[HealthStatus] = []

    def probe() -> None:
        results.append(registry.status("db").status)

    threads = [threading.Thread(target=probe) for _ in range(8)]
    for thread in threads:
        thread.start()
    assert check.started.wait(timeout=5)
    gate.set()
    for thread in threads:
        thread.join(timeout=5)
    assert results == [HealthStatus.HEALTHY] * 8
    assert check.calls == 1


def test_probe_answers_within_its_deadline_while_a_check_hangs(
    make_registry: Callable[..., HealthRegistry], clock: ManualClock, gate: threading.Event
) -> None:
    registry = make_registry(probe_timeout=0.02)
    check = Gated(gate)
    registry.register("db", check, policy=CheckPolicy(timeout=30))
    registry.mark_started()
    for _ in range(5):
        begun = time.monotonic()
        verdict = registry.report().probes["readiness"]
        assert time.monotonic() - begun < 1.0
        assert not verdict.passed  # no result yet: UNKNOWN fails readiness
        assert registry.status("db").status is HealthStatus.UNKNOWN
    clock.advance(31)  # now past the check's own deadline
    snapshot = registry.status("db")
    assert snapshot.status is HealthStatus.UNHEALTHY
    assert snapshot.message == "timed out after 30s"
    assert check.calls == 1


def test_late_result_after_a_timeout_is_dropped(
    registry: HealthRegistry,
    clock: ManualClock,
    gate: threading.Event,
    caplog: pytest.LogCaptureFixture,
) -> None:
    check = Gated(gate)
    registry.register("db", check, policy=CheckPolicy(timeout=0.02, failure_ttl=10))
    assert registry.status("db").status is HealthStatus.UNHEALTHY
    (thread,) = check.threads
    assert thread.name == "healthwatch-check-db"
    with caplog.at_level(logging.INFO, logger="healthwatch.health"):
        gate.set()
        thread.join(timeout=5)
    assert not thread.is_alive()
    assert "finished after its timeout; result dropped" in caplog.text
    assert registry.status("db").status is HealthStatus.UNHEALTHY  # the late True is not used
    # The flight has ended, so once the failure TTL expires the check starts again.
    clock.advance(10)
    assert registry.status("db").status is HealthStatus.HEALTHY
    assert check.calls == 2


def test_timed_out_check_tells_observers_once(
    registry: HealthRegistry,
    transitions: list[tuple[str, HealthStatus, HealthStatus]],
    gate: threading.Event,
) -> None:
    registry.register("db", Gated(gate), policy=CheckPolicy(timeout=0.02, failure_ttl=0))
    registry.status("db")
    registry.status("db")
    assert transitions == [("db", HealthStatus.UNKNOWN, HealthStatus.UNHEALTHY)]


def test_result_is_recorded_even_if_the_thread_callback_is_late(
    registry: HealthRegistry, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A probe must not answer from before a result that arrived within its wait.

    ``concurrent.futures`` wakes waiters before it runs done-callbacks, so the
    callback of the check's thread may lag behind the probe.
    """
    go, release = threading.Event(), threading.Event()
    original_on_done = registry._runner._on_done
    real_wait = concurrent.futures.wait

    def late_on_done(name: str, run: CheckRun, future: object) -> None:
        release.wait(timeout=5)
        original_on_done(name, run, future)

    def wait_and_let_the_check_finish(
        fs: Iterable[concurrent.futures.Future[Any]], timeout: float | None = None
    ) -> Any:
        go.set()  # the check finishes only once the probe waits (its callback is attached)
        return real_wait(fs, timeout=timeout)

    threads: list[threading.Thread] = []

    def check() -> bool:
        threads.append(threading.current_thread())
        return go.wait(timeout=5)

    monkeypatch.setattr(registry._runner, "_on_done", late_on_done)
    monkeypatch.setattr(concurrent.futures, "wait", wait_and_let_the_check_finish)
    registry.register("db", check, policy=CheckPolicy(timeout=1, success_ttl=60))
    try:
        assert registry.status("db").status is HealthStatus.HEALTHY
    finally:
        release.set()
    for thread in threads:
        thread.join(timeout=5)
    snapshot = registry.status("db")
    assert snapshot.status is HealthStatus.HEALTHY
    assert snapshot.consecutive_failures == 0


def test_late_result_of_a_deregistered_component_does_not_reach_its_successor(
    make_registry: Callable[..., HealthRegistry], gate: threading.Event
) -> None:
    registry = make_registry(probe_timeout=0.02)
    old = Gated(gate)
    registry.register("db", old, policy=CheckPolicy(timeout=30))
    assert registry.status("db").status is HealthStatus.UNKNOWN  # the run is still in flight
    assert registry.deregister("db")
    successor = Gated(threading.Event())
    registry.register("db", successor, policy=CheckPolicy(timeout=30))
    gate.set()  # the old run finishes now, healthy
    for thread in old.threads:
        thread.join(timeout=5)
    snapshot = registry.report(probes=()).component("db")  # reads without running checks
    assert snapshot is not None
    assert snapshot.status is HealthStatus.UNKNOWN
    assert snapshot.observed_at is None
    assert successor.calls == 0
