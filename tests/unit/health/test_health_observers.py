"""Transition observers and change listeners: delivery, containment, re-entry, order."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

import pytest

from healthwatch.health.checks import CheckPolicy
from healthwatch.health.registry import HealthRegistry
from healthwatch.model.health import ComponentStatus, HealthStatus


@dataclass
class TransitionLog:
    """An observer that records (name, old, new) and the snapshot it was given."""

    calls: list[tuple[str, HealthStatus, HealthStatus]] = field(default_factory=list)
    snapshots: list[ComponentStatus] = field(default_factory=list)

    def __call__(
        self, name: str, old: HealthStatus, new: HealthStatus, snapshot: ComponentStatus
    ) -> None:
        self.calls.append((name, old, new))
        self.snapshots.append(snapshot)


H, U, D, K = (
    HealthStatus.HEALTHY,
    HealthStatus.UNHEALTHY,
    HealthStatus.DEGRADED,
    HealthStatus.UNKNOWN,
)


def test_observer_gets_name_old_new_and_snapshot(registry: HealthRegistry) -> None:
    transitions = TransitionLog()
    registry.add_observer(transitions)
    registry.update("db", "healthy", "fine")
    registry.update("db", "healthy", "still fine")  # no change: not told
    registry.update("db", "degraded", "slow")
    assert transitions.calls == [("db", K, H), ("db", H, D)]
    last = transitions.snapshots[-1]
    assert last.status is D
    assert last.message == "slow"


def test_every_observer_is_called_and_remover_stops_one(registry: HealthRegistry) -> None:
    first, second = TransitionLog(), TransitionLog()
    remove_first = registry.add_observer(first)
    registry.add_observer(second)
    registry.update("db", "healthy")
    remove_first()
    remove_first()  # removing twice is harmless
    registry.update("db", "unhealthy")
    assert first.calls == [("db", K, H)]
    assert second.calls == [("db", K, H), ("db", H, U)]


def test_raising_observer_is_logged_and_the_others_still_run(
    registry: HealthRegistry, caplog: pytest.LogCaptureFixture
) -> None:
    after = TransitionLog()

    def broken(name: str, old: HealthStatus, new: HealthStatus, snap: ComponentStatus) -> None:
        raise RuntimeError("observer bug")

    registry.add_observer(broken)
    registry.add_observer(after)
    with caplog.at_level(logging.ERROR, logger="healthwatch.health"):
        snapshot = registry.update("db", "healthy")
    assert snapshot.status is H  # the update itself succeeded
    assert after.calls == [("db", K, H)]
    errors = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert len(errors) == 1
    assert "observer" in errors[0].getMessage()
    assert errors[0].exc_info is not None
    assert isinstance(errors[0].exc_info[1], RuntimeError)


def _lock_is_free(registry: HealthRegistry) -> bool:
    """Whether another thread can take the registry (the observer's thread may not hold it)."""
    result: list[bool] = []

    def probe() -> None:
        result.append(bool(registry.report(probes=())))

    thread = threading.Thread(target=probe)
    thread.start()
    thread.join(timeout=2)
    return result == [True]


def test_observers_run_outside_the_lock_for_pushes(registry: HealthRegistry) -> None:
    free: list[bool] = []
    registry.add_observer(lambda *_: free.append(_lock_is_free(registry)))
    registry.update("db", "healthy")
    assert free == [True]


@pytest.mark.parametrize("inline", [True, False])
def test_observers_run_outside_the_lock_for_checks(registry: HealthRegistry, inline: bool) -> None:
    free: list[bool] = []
    registry.add_observer(lambda *_: free.append(_lock_is_free(registry)))
    registry.register("db", lambda: True, policy=CheckPolicy(inline=inline, success_ttl=0))
    assert registry.status("db").status is H
    assert free == [True]


def test_observer_may_reenter_the_registry_without_deadlock(registry: HealthRegistry) -> None:
    seen: list[tuple[str, HealthStatus, HealthStatus]] = []
    reports: list[bool] = []

    def cascade(name: str, old: HealthStatus, new: HealthStatus, snap: ComponentStatus) -> None:
        seen.append((name, old, new))
        reports.append(registry.report().component(name) is not None)
        if name == "db" and new is U:
            registry.update("api", "degraded", "db is down")

    registry.add_observer(cascade)
    registry.update("api", "healthy")
    registry.update("db", "healthy")
    registry.update("db", "unhealthy")
    assert seen == [("api", K, H), ("db", K, H), ("db", H, U), ("api", H, D)]
    assert all(reports)
    assert registry.status("api").status is D


def test_nested_transitions_are_queued_not_recursive(registry: HealthRegistry) -> None:
    """A transition caused inside an observer reaches every observer after the current one."""
    order: list[str] = []

    def first(name: str, old: HealthStatus, new: HealthStatus, snap: ComponentStatus) -> None:
        order.append(f"first:{name}:{new}")
        if name == "a":
            registry.update("b", "unhealthy")
            order.append("first:returned")

    def second(name: str, old: HealthStatus, new: HealthStatus, snap: ComponentStatus) -> None:
        order.append(f"second:{name}:{new}")

    registry.add_observer(first)
    registry.add_observer(second)
    registry.update("a", "healthy")
    assert order == [
        "first:a:healthy",
        "first:returned",  # the nested update returned before anyone heard of it
        "second:a:healthy",
        "first:b:unhealthy",
        "second:b:unhealthy",
    ]


def test_observer_chain_terminates(registry: HealthRegistry) -> None:
    """An observer flipping a status on every transition ends when the values settle."""
    depth: list[int] = []

    def pingpong(name: str, old: HealthStatus, new: HealthStatus, snap: ComponentStatus) -> None:
        depth.append(len(depth))
        if len(depth) < 50:
            registry.update(name, "unhealthy" if new is H else "healthy")

    registry.add_observer(pingpong)
    registry.update("x", "healthy")
    assert len(depth) == 50


def test_listener_called_on_any_change(registry: HealthRegistry) -> None:
    calls: list[str] = []
    remove = registry.add_listener(lambda: calls.append("changed"))

    def count(action: Callable[[], object]) -> int:
        before = len(calls)
        action()
        return len(calls) - before

    assert count(lambda: registry.register("db")) == 1
    assert count(lambda: registry.update("db", "healthy")) == 1
    assert count(lambda: registry.set_standby(True)) == 1
    assert count(lambda: registry.set_standby(True)) == 0  # no change, no call
    assert count(lambda: registry.suppress("readiness", 10, "maintenance")) == 1
    assert count(registry.clear_suppression) == 1
    assert count(registry.clear_suppression) == 0
    assert count(registry.mark_started) == 1
    assert count(registry.drain) == 1
    assert count(registry.drain) == 0
    assert count(lambda: registry.deregister("db")) == 1
    remove()
    assert count(lambda: registry.register("db2")) == 0


def test_raising_listener_is_contained(
    registry: HealthRegistry, caplog: pytest.LogCaptureFixture
) -> None:
    calls: list[int] = []

    def broken() -> None:
        raise ValueError("listener bug")

    registry.register("db")
    registry.add_listener(broken)
    registry.add_listener(lambda: calls.append(1))
    with caplog.at_level(logging.ERROR, logger="healthwatch.health"):
        registry.update("db", "healthy")
    assert calls == [1]
    assert "listener" in caplog.text
