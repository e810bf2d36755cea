"""Atomic snapshots: a report's components and verdicts always agree, even under writers."""

from __future__ import annotations

import threading

from healthwatch.health.groups import LIVENESS, READINESS
from healthwatch.health.registry import HealthRegistry
from healthwatch.model.health import HealthReport, HealthStatus


def _consistent(report: HealthReport) -> bool:
    """The readiness verdict is exactly what the reported components imply."""
    statuses = {c.name: c.status for c in report.components}
    verdict = report.probes[READINESS]
    failing = tuple(n for n in verdict.members if not statuses[n].is_up)
    return verdict.failing == failing and verdict.passed == (not failing)


def test_report_components_and_verdicts_agree_under_concurrent_updates(
    registry: HealthRegistry,
) -> None:
    names = [f"c{i}" for i in range(4)]
    for name in names:
        registry.register(name)
        registry.update(name, "healthy")
    registry.mark_started()
    stop = threading.Event()

    def writer(name: str) -> None:
        flip = False
        while not stop.is_set():
            registry.update(name, "unhealthy" if flip else "healthy")
            flip = not flip

    writers = [threading.Thread(target=writer, args=(name,)) for name in names]
    for thread in writers:
        thread.start()
    try:
        reports = [registry.report() for _ in range(300)]
    finally:
        stop.set()
        for thread in writers:
            thread.join(timeout=5)
    assert all(_consistent(report) for report in reports)


def test_report_is_an_immutable_snapshot(registry: HealthRegistry) -> None:
    registry.update("db", "healthy")
    before = registry.report()
    registry.update("db", "unhealthy")
    component = before.component("db")
    assert component is not None
    assert component.status is HealthStatus.HEALTHY
    assert registry.report().component("db") is not None


def test_every_group_has_a_verdict_in_every_report(registry: HealthRegistry) -> None:
    registry.register("db", groups=("storage",))
    report = registry.report(probes=(LIVENESS,))
    assert set(report.probes) == set(registry.groups)
    assert report.component("db") is not None
    assert report.component("nope") is None


def test_report_verdicts_use_the_same_instant_as_components(registry: HealthRegistry) -> None:
    """A verdict's member list and the component list come from one registration state."""
    stop = threading.Event()

    def churn() -> None:
        index = 0
        while not stop.is_set():
            name = f"tmp{index % 3}"
            registry.register(name)
            registry.update(name, "unhealthy")
            registry.deregister(name)
            index += 1

    thread = threading.Thread(target=churn)
    thread.start()
    try:
        for _ in range(300):
            report = registry.report()
            present = {c.name for c in report.components}
            assert set(report.probes[READINESS].members) <= present
    finally:
        stop.set()
        thread.join(timeout=5)


def test_standby_flag_and_readiness_verdict_agree_under_toggling(
    registry: HealthRegistry,
) -> None:
    registry.register("db")
    registry.update("db", "unhealthy")
    registry.mark_started()
    stop = threading.Event()

    def toggle() -> None:
        standby = False
        while not stop.is_set():
            standby = not standby
            registry.set_standby(standby)

    thread = threading.Thread(target=toggle)
    thread.start()
    try:
        reports = [registry.report() for _ in range(300)]
    finally:
        stop.set()
        thread.join(timeout=5)
    for report in reports:
        verdict = report.probes[READINESS]
        assert verdict.passed is report.standby
        assert verdict.reason == ("standby" if report.standby else "db unhealthy")
        assert report.status.http_code == (200 if report.standby else 503)
