"""Lifecycle (starting, ready, draining, stopped), the startup latch, standby, overall status."""

from __future__ import annotations

import pytest

from healthwatch.aio import ManualClock
from healthwatch.health.groups import LIVENESS, READINESS, STARTUP
from healthwatch.health.registry import HealthRegistry
from healthwatch.model.health import HealthStatus, Lifecycle, OverallStatus


@pytest.fixture
def ready(registry: HealthRegistry) -> HealthRegistry:
    """A started registry with a healthy readiness member and a healthy liveness member."""
    registry.register("db")
    registry.register("loop", groups=(LIVENESS,))
    registry.update("db", "healthy")
    registry.update("loop", "healthy")
    assert registry.lifecycle is Lifecycle.READY
    return registry


def test_starting_until_startup_members_are_up(registry: HealthRegistry) -> None:
    registry.register("db")
    report = registry.report()
    assert report.lifecycle is Lifecycle.STARTING
    assert report.status is OverallStatus.STARTING
    assert report.status.http_code == 503
    assert not report.probes[STARTUP].passed
    assert not report.probes[READINESS].passed
    assert report.probes[READINESS].reason == "starting"
    assert report.probes[LIVENESS].passed  # starting is alive


def test_startup_latches_once_passed(registry: HealthRegistry) -> None:
    registry.register("db")
    registry.update("db", "healthy")
    assert registry.lifecycle is Lifecycle.READY
    registry.update("db", "unhealthy")
    report = registry.report()
    assert report.probes[STARTUP].passed
    assert report.probes[STARTUP].reason == "started"
    assert not report.probes[READINESS].passed
    assert report.status is OverallStatus.UNHEALTHY
    assert report.lifecycle is Lifecycle.READY


def test_startup_without_members_passes_on_first_report(registry: HealthRegistry) -> None:
    assert registry.report().lifecycle is Lifecycle.READY


def test_mark_started_passes_startup_whatever_members_say(registry: HealthRegistry) -> None:
    registry.register("slow-cache")
    registry.update("slow-cache", "unhealthy")
    registry.mark_started()
    report = registry.report()
    assert report.lifecycle is Lifecycle.READY
    assert report.probes[STARTUP].passed


def test_ready_and_healthy_is_ok(ready: HealthRegistry) -> None:
    report = ready.report()
    assert report.status is OverallStatus.OK
    assert report.status.http_code == 200
    assert all(v.passed for v in report.probes.values())


def test_degraded_passes_readiness_and_answers_200(ready: HealthRegistry) -> None:
    ready.update("db", "degraded", "replica lag")
    report = ready.report()
    assert report.probes[READINESS].passed
    assert report.probes[READINESS].reason == "degraded"
    assert report.status is OverallStatus.DEGRADED
    assert report.status.http_code == 200


def test_failing_readiness_is_unhealthy_503(ready: HealthRegistry) -> None:
    ready.update("db", "unhealthy")
    report = ready.report()
    assert report.status is OverallStatus.UNHEALTHY
    assert report.status.http_code == 503


def test_component_outside_probes_degrades_overall(ready: HealthRegistry) -> None:
    ready.register("batch", groups=())
    ready.update("batch", "unhealthy")
    report = ready.report()
    assert report.probes[READINESS].passed
    assert report.status is OverallStatus.DEGRADED


def test_drain_fails_readiness_at_once_and_keeps_liveness(ready: HealthRegistry) -> None:
    ready.drain()
    assert ready.lifecycle is Lifecycle.DRAINING
    report = ready.report()
    assert not report.probes[READINESS].passed
    assert report.probes[READINESS].reason == "draining"
    assert report.probes[LIVENESS].passed
    assert report.probes[STARTUP].passed
    assert report.status is OverallStatus.DRAINING
    assert report.status.http_code == 503


def test_drain_during_startup_stays_draining(registry: HealthRegistry) -> None:
    registry.register("db")
    registry.drain()
    registry.update("db", "healthy")  # startup passes now, but the lifecycle stays
    assert registry.lifecycle is Lifecycle.DRAINING
    registry.mark_started()
    assert registry.lifecycle is Lifecycle.DRAINING


def test_stop_fails_every_probe_and_is_final(ready: HealthRegistry) -> None:
    ready.register("other", groups=("named",))
    ready.update("other", "healthy")
    ready.stop()
    report = ready.report()
    assert report.lifecycle is Lifecycle.STOPPED
    assert report.status is OverallStatus.STOPPED
    assert report.status.http_code == 503
    assert not any(v.passed for v in report.probes.values())
    assert {v.reason for v in report.probes.values()} == {"stopped"}
    ready.drain()
    ready.mark_started()
    assert ready.lifecycle is Lifecycle.STOPPED


def test_standby_passes_readiness_and_is_reported(ready: HealthRegistry) -> None:
    ready.update("db", "unhealthy")
    ready.set_standby(True)
    assert ready.standby
    report = ready.report()
    assert report.standby
    assert report.probes[READINESS].passed
    assert report.probes[READINESS].reason == "standby"
    assert report.probes[READINESS].failing == ("db",)  # still shows what is wrong
    ready.set_standby(False)
    report = ready.report()
    assert not report.standby
    assert not report.probes[READINESS].passed


def test_standby_does_not_override_draining_or_starting(registry: HealthRegistry) -> None:
    registry.register("db")
    registry.set_standby(True)
    assert registry.report().probes[READINESS].reason == "starting"
    registry.mark_started()
    assert registry.report().probes[READINESS].passed
    registry.drain()
    assert registry.report().probes[READINESS].reason == "draining"


def test_report_timestamps(ready: HealthRegistry, clock: ManualClock) -> None:
    clock.advance(5)
    report = ready.report()
    assert report.generated_at == clock.time()
    assert report.started_at == report.generated_at - 5
    component = report.component("db")
    assert component is not None
    assert component.status is HealthStatus.HEALTHY
