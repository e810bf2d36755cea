"""Process-self watchdogs: the event-loop stall watchdog and the thread watchdog."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator

import pytest

from healthwatch.aio import ManualClock
from healthwatch.health.groups import LIVENESS, READINESS
from healthwatch.health.registry import HealthRegistry
from healthwatch.health.watchdog import (
    WATCHDOG_POLICY,
    LoopWatchdog,
    ThreadWatchdog,
    watch_event_loop,
)
from healthwatch.model.health import HealthStatus


@pytest.fixture
def idle_loop() -> Iterator[asyncio.AbstractEventLoop]:
    """A loop that runs only when a test turns it a few times."""
    loop = asyncio.new_event_loop()
    yield loop
    loop.close()


def _turn(loop: asyncio.AbstractEventLoop) -> None:
    loop.run_until_complete(asyncio.sleep(0))


def test_loop_watchdog_unknown_until_it_beats(clock: ManualClock) -> None:
    watchdog = LoopWatchdog(clock=clock, stall_after=5, interval=1)
    outcome = watchdog.check()
    assert outcome.status is HealthStatus.UNKNOWN
    assert "not watched" in outcome.message


def test_loop_watchdog_fails_after_stall(clock: ManualClock) -> None:
    watchdog = LoopWatchdog(clock=clock, stall_after=5, interval=1)
    watchdog.beat()
    clock.advance(5)
    assert watchdog.check().status is HealthStatus.HEALTHY
    clock.advance(0.1)
    stalled = watchdog.check()
    assert stalled.status is HealthStatus.UNHEALTHY
    assert "stalled" in stalled.message
    watchdog.beat()
    assert watchdog.check().status is HealthStatus.HEALTHY


def test_loop_watchdog_rejects_stall_not_above_interval(clock: ManualClock) -> None:
    with pytest.raises(ValueError, match="must exceed"):
        LoopWatchdog(clock=clock, stall_after=1, interval=1)


def test_loop_watchdog_beats_on_a_real_loop_and_detaches(
    clock: ManualClock, idle_loop: asyncio.AbstractEventLoop
) -> None:
    watchdog = LoopWatchdog(clock=clock, stall_after=5, interval=1)
    watchdog.attach(idle_loop)
    assert watchdog.check().status is HealthStatus.UNKNOWN  # the loop has not run yet
    _turn(idle_loop)
    assert watchdog.check().status is HealthStatus.HEALTHY
    clock.advance(10)  # the loop does not run: a stall
    assert watchdog.check().status is HealthStatus.UNHEALTHY
    watchdog.detach()
    _turn(idle_loop)
    assert watchdog.check().status is HealthStatus.UNKNOWN
    clock.advance(100)
    assert watchdog.check().status is HealthStatus.UNKNOWN


def test_detach_before_the_first_beat_leaves_it_unknown(
    clock: ManualClock, idle_loop: asyncio.AbstractEventLoop
) -> None:
    """A beat already queued on the loop must not revive a detached watchdog."""
    watchdog = LoopWatchdog(clock=clock, stall_after=5, interval=1)
    watchdog.attach(idle_loop)
    watchdog.detach()
    _turn(idle_loop)
    clock.advance(100)
    assert watchdog.check().status is HealthStatus.UNKNOWN


async def test_loop_watchdog_on_the_running_loop(clock: ManualClock) -> None:
    watchdog = LoopWatchdog(clock=clock, stall_after=5, interval=0.001)
    watchdog.attach(asyncio.get_running_loop())
    for _ in range(3):
        await asyncio.sleep(0)
    assert watchdog.check().status is HealthStatus.HEALTHY
    watchdog.detach()


async def test_watch_event_loop_registers_a_liveness_member(
    registry: HealthRegistry, clock: ManualClock
) -> None:
    watchdog = watch_event_loop(registry, asyncio.get_running_loop(), stall_after=5)
    assert registry.members(LIVENESS) == {"event-loop": True}
    assert "event-loop" not in registry.members(READINESS)
    assert registry.report(probes=(LIVENESS,)).probes[LIVENESS].passed  # UNKNOWN passes
    await asyncio.sleep(0)
    await asyncio.sleep(0)
    assert registry.status("event-loop").status is HealthStatus.HEALTHY
    clock.advance(6)  # the loop "stalled" on the manual clock
    report = registry.report(probes=(LIVENESS,))
    assert not report.probes[LIVENESS].passed
    assert report.probes[LIVENESS].failing == ("event-loop",)
    watchdog.detach()


def test_watchdog_policy_is_inline_and_uncached() -> None:
    assert WATCHDOG_POLICY.inline
    assert WATCHDOG_POLICY.success_ttl == 0
    assert WATCHDOG_POLICY.failure_ttl == 0


def test_thread_watchdog_healthy_while_threads_live(clock: ManualClock) -> None:
    watchdog = ThreadWatchdog(clock=clock)
    assert watchdog.check().status is HealthStatus.HEALTHY  # nothing watched
    key = watchdog.watch(threading.current_thread(), name="main")
    assert key == "main"
    outcome = watchdog.check()
    assert outcome.status is HealthStatus.HEALTHY
    assert outcome.message == "1 threads watched"


def test_thread_watchdog_fails_on_a_dead_thread(clock: ManualClock) -> None:
    watchdog = ThreadWatchdog(clock=clock)
    worker = threading.Thread(target=lambda: None, name="worker")
    worker.start()
    worker.join()
    assert watchdog.watch(worker) == "worker"
    outcome = watchdog.check()
    assert outcome.status is HealthStatus.UNHEALTHY
    assert outcome.message == "thread worker is not running"
    watchdog.unwatch("worker")
    assert watchdog.check().status is HealthStatus.HEALTHY


def test_thread_watchdog_fails_on_a_silent_thread(clock: ManualClock) -> None:
    watchdog = ThreadWatchdog(clock=clock)
    watchdog.watch(threading.current_thread(), name="pump", stall_after=10)
    clock.advance(10)
    assert watchdog.check().status is HealthStatus.HEALTHY
    clock.advance(1)
    outcome = watchdog.check()
    assert outcome.status is HealthStatus.UNHEALTHY
    assert "pump silent for 11.0s" in outcome.message
    watchdog.heartbeat("pump")
    assert watchdog.check().status is HealthStatus.HEALTHY
    watchdog.heartbeat("not-watched")  # ignored


def test_thread_watchdog_as_liveness_member(registry: HealthRegistry, clock: ManualClock) -> None:
    watchdog = ThreadWatchdog(clock=clock)
    watchdog.watch(threading.current_thread(), name="main", stall_after=5)
    registry.register("threads", watchdog.check, groups=(LIVENESS,), policy=WATCHDOG_POLICY)
    assert registry.report(probes=(LIVENESS,)).probes[LIVENESS].passed
    clock.advance(6)
    assert not registry.report(probes=(LIVENESS,)).probes[LIVENESS].passed
    watchdog.heartbeat("main")
    assert registry.report(probes=(LIVENESS,)).probes[LIVENESS].passed
