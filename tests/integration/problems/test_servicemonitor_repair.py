"""Repair by the service monitor: only after the cool-down, within the budget, never when off.

The fake ``systemctl`` records every ``kill``; the injected clock moves time, so
the cool-down and the hourly budget are exercised without sleeping.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from healthwatch.aio.clock import ManualClock
from healthwatch.model.health import HealthStatus
from healthwatch.model.metrics import MetricFamily
from healthwatch.model.problems import ConditionStatus, Status
from healthwatch.problems.servicemonitor.config import build_service_monitor
from healthwatch.problems.servicemonitor.monitor import ServiceMonitor
from tests.unit.problems.servicemonitor.fakebin import WALL, FakeHost

KILL = ["kill", "--kill-who=main", "--", "docker.service"]


@pytest.fixture
def host(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> FakeHost:
    fake = FakeHost(tmp_path, monkeypatch)
    fake.set(docker_exit=1)  # docker ps fails: the runtime is unhealthy
    return fake


def docker_monitor(
    clock: ManualClock, state_dir: Path | None = None, **fields: object
) -> ServiceMonitor:
    raw = {"component": "docker", "enable_repair": True, **fields}
    config = build_service_monitor(raw, source="agent.yaml")
    return ServiceMonitor(config, clock=clock, state_dir=state_dir)


def kills(host: FakeHost) -> list[list[str]]:
    return [argv for argv in host.calls("systemctl") if argv[0] == "kill"]


def reasons(status: Status | None) -> list[str]:
    return [e.reason for e in status.events] if status is not None else []


def repairs(families: list[MetricFamily]) -> dict[str, float]:
    found = next(f for f in families if f.name == "healthwatch_service_repairs")
    return {s.labels["outcome"]: s.value for s in found.samples}


def started_ago(host: FakeHost, clock: ManualClock, seconds: float) -> None:
    host.show(InactiveExitTimestamp=f"@{int(clock.time() - seconds)}")


async def test_no_repair_when_disabled(host: FakeHost) -> None:
    clock = ManualClock(wall=WALL)
    daemon = docker_monitor(clock, enable_repair=False)
    started_ago(host, clock, 3600)
    for _ in range(3):
        await daemon.poll()
        clock.advance(30)
    assert daemon.book.condition is not None
    assert daemon.book.condition.reason == "DockerUnreachable"
    assert kills(host) == []
    assert repairs(daemon.metric_families(None)) == {"succeeded": 0.0, "failed": 0.0}


async def test_repair_only_after_the_cooldown(host: FakeHost) -> None:
    clock = ManualClock(wall=WALL)
    daemon = docker_monitor(clock, cooldown="2m")
    started_ago(host, clock, 60)
    status = await daemon.poll()
    assert reasons(status) == ["DockerUnreachable"]
    assert kills(host) == []
    clock.advance(59)  # up 119s: still cooling down
    assert await daemon.poll() is None
    assert kills(host) == []
    clock.advance(2)  # up 121s
    status = await daemon.poll()
    assert reasons(status) == ["DockerRepaired"]
    assert status is not None and "pid 4242" in status.events[0].message
    # docker first dumps its goroutine stacks (SIGUSR1), then its main process is killed
    assert kills(host) == [
        ["kill", "--kill-who=main", "--signal=SIGUSR1", "--", "docker.service"],
        KILL,
    ]
    assert repairs(daemon.metric_families(None))["succeeded"] == 1.0
    # systemd restarts the unit: a young unit again, left alone; our own restart is no flap
    clock.advance(30)
    host.show(InactiveExitTimestamp=f"@{int(clock.time() - 5)}", NRestarts=1)
    status = await daemon.poll()
    assert reasons(status) == ["DockerRestarted"]
    assert len(kills(host)) == 2
    assert daemon.flaps.recent() == 0


async def test_repair_budget_stops_a_repair_loop(host: FakeHost, tmp_path: Path) -> None:
    clock = ManualClock(wall=WALL)
    state = tmp_path / "state"
    daemon = docker_monitor(clock, state, cooldown="0s", max_repairs_per_hour=2)
    started_ago(host, clock, 600)
    seen: list[str] = []
    for _ in range(5):
        seen += reasons(await daemon.poll())
        clock.advance(60)
    assert seen == [
        "DockerUnreachable",
        "DockerRepaired",
        "DockerRepaired",
        "DockerRepairBudgetExhausted",
    ]
    assert len([k for k in kills(host) if k == KILL]) == 2
    health, message = daemon.health()
    assert health is HealthStatus.DEGRADED and "repair budget exhausted" in message
    skipped = next(
        f for f in daemon.metric_families(None) if f.name == "healthwatch_service_repairs_skipped"
    )
    assert {s.labels["cause"]: s.value for s in skipped.samples} == {
        "cooldown": 0.0,
        "budget": 3.0,
    }
    # A restarted agent remembers the repairs: the budget is not refilled.
    again = docker_monitor(clock, state, cooldown="0s", max_repairs_per_hour=2)
    await again.start()
    assert again.budget.exhausted()
    # An hour after the first repair, one more is allowed.
    clock.advance(3600 - 5 * 60 + 1)
    assert reasons(await daemon.poll()) == ["DockerRepaired"]
    assert daemon.health()[0] is HealthStatus.HEALTHY


async def test_failed_repair_is_an_event_and_a_metric(host: FakeHost) -> None:
    host.set(kill_exit=1, kill_stderr="Failed to kill unit docker.service: Access denied\n")
    clock = ManualClock(wall=WALL)
    daemon = docker_monitor(clock, cooldown="1m")
    started_ago(host, clock, 3600)
    status = await daemon.poll()
    assert reasons(status) == ["DockerUnreachable", "DockerRepairFailed"]
    assert status is not None and "Access denied" in status.events[1].message
    assert repairs(daemon.metric_families(None)) == {"succeeded": 0.0, "failed": 1.0}


async def test_no_repair_of_a_unit_that_is_down_or_flapping(host: FakeHost) -> None:
    clock = ManualClock(wall=WALL)
    daemon = docker_monitor(clock, cooldown="2m", flap_restarts=2)
    host.show(ActiveState="inactive", SubState="dead", MainPID=0)
    status = await daemon.poll()
    assert status is not None and status.conditions[0].reason == "DockerNotActive"
    host.show(ActiveState="active", SubState="running", MainPID=7)
    for restarts in (1, 2, 3):
        clock.advance(10)
        host.show(NRestarts=restarts, InactiveExitTimestamp=f"@{int(clock.time() - 1)}")
        status = await daemon.poll()
    assert status is not None and status.conditions[0].reason == "DockerFlapping"
    assert status.conditions[0].status is ConditionStatus.TRUE
    assert kills(host) == []
