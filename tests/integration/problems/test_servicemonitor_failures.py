"""The service monitor when things go wrong: hangs, failures, flapping, old systemd, odd names."""

from __future__ import annotations

import asyncio
import dataclasses
from pathlib import Path

import pytest

from healthwatch.aio.clock import ManualClock, SystemClock
from healthwatch.model.errors import HealthwatchError
from healthwatch.model.health import HealthStatus
from healthwatch.model.problems import ConditionStatus, Status
from healthwatch.problems.servicemonitor.config import build_service_monitor
from healthwatch.problems.servicemonitor.monitor import ServiceMonitor
from healthwatch.problems.servicemonitor.systemd import SHOW_PROPERTIES
from tests.unit.problems.servicemonitor.fakebin import (
    SHOW,
    WALL,
    FakeHost,
    family,
    monitor,
    single,
)


@pytest.fixture
def host(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> FakeHost:
    return FakeHost(tmp_path, monkeypatch)


async def test_flapping_unit_is_reported_until_the_window_passes(host: FakeHost) -> None:
    clock = ManualClock(wall=WALL)
    daemon = monitor(clock, health_url="", flap_restarts=3, flap_window="10m")
    assert (await daemon.poll()) is not None
    clock.advance(30)
    host.show(NRestarts=1, InactiveExitTimestamp=f"@{int(WALL + 20)}")
    status = await daemon.poll()
    assert status is not None
    assert [e.reason for e in status.events] == ["KubeletRestarted"]
    assert status.conditions[0].status is ConditionStatus.FALSE
    clock.advance(30)
    host.show(NRestarts=3, InactiveExitTimestamp=f"@{int(WALL + 50)}")
    status = await daemon.poll()
    assert status is not None
    assert status.conditions[0].reason == "KubeletFlapping"
    assert "restarted 3 times within 600s" in status.conditions[0].message
    assert single(daemon.metric_families(None), "restarts") == 3.0
    clock.advance(601)
    status = await daemon.poll()
    assert status is not None and status.conditions[0].reason == "KubeletIsHealthy"


async def test_hanging_commands_time_out_and_the_monitor_recovers(host: FakeHost) -> None:
    host.set(hang=["systemctl"])
    daemon = monitor(health_url="", timeout="300ms", log_patterns=[{"pattern": "boom"}])
    status = await daemon.poll()
    assert status is not None
    (condition,) = status.conditions
    assert (condition.status, condition.reason) == (ConditionStatus.UNKNOWN, "KubeletCheckFailed")
    assert "did not answer within 0.3s" in condition.message
    assert daemon.health()[0] is HealthStatus.DEGRADED
    errors = family(daemon.metric_families(None), "check_errors")
    labels = {"command": "systemctl", "component": "kubelet", "monitor": "service-kubelet"}
    assert errors[tuple(sorted({**labels, "unit": "kubelet.service"}.items()))] == 1.0
    assert family(daemon.metric_families(None), "up") == {}  # not known, not guessed
    host.set(hang=["journalctl"])
    status = await daemon.poll()
    assert status is not None and status.conditions[0].status is ConditionStatus.FALSE
    health, message = daemon.health()
    assert health is HealthStatus.DEGRADED and "journalctl timed out" in message
    host.set(hang=[])
    assert await daemon.poll() is None
    assert daemon.health()[0] is HealthStatus.HEALTHY


async def test_hanging_runtime_is_unreachable(host: FakeHost) -> None:
    host.set(hang=["crictl"])
    config = build_service_monitor(
        {"component": "cri-o", "timeout": "300ms", "runtime_timeout": "100ms"}, source="a.yaml"
    )
    status = await ServiceMonitor(config, clock=ManualClock(wall=WALL)).poll()
    assert status is not None
    assert status.conditions[0].reason == "CriOUnreachable"
    assert "crictl did not answer within 0.3s" in status.conditions[0].message
    assert host.calls("crictl") == [
        ["--timeout=0.1s", "--runtime-endpoint=unix:///var/run/crio/crio.sock", "pods", "--latest"]
    ]


async def test_old_systemd_without_unix_timestamps(host: FakeHost) -> None:
    host.set(old_systemd=True)
    host.show(InactiveExitTimestamp="Tue 2023-11-14 22:13:20 UTC")
    daemon = monitor(health_url="")
    await daemon.poll()
    await daemon.poll()
    assert host.calls("systemctl") == [
        [*SHOW, "kubelet.service"],
        ["show", f"--property={SHOW_PROPERTIES}", "--", "kubelet.service"],
        ["show", f"--property={SHOW_PROPERTIES}", "--", "kubelet.service"],
    ]
    assert daemon.state is not None and daemon.state.started_at == 1_700_000_000.0


async def test_systemctl_failing_is_unknown(host: FakeHost) -> None:
    host.set(show_exit=1)
    status = await monitor(health_url="").poll()
    assert status is not None
    assert status.conditions[0].status is ConditionStatus.UNKNOWN
    assert "Failed to connect to bus" in status.conditions[0].message


async def test_unit_name_reaches_the_programs_unchanged(host: FakeHost) -> None:
    unit = "my\\x2dapp@in:st_1.service"
    config = build_service_monitor(
        {"component": "unit", "unit": unit, "log_patterns": [{"pattern": "$(reboot)"}]},
        source="agent.yaml",
    )
    assert (config.condition, config.reason_prefix) == ("MyX2dappInSt1Unhealthy", "MyX2dappInSt1")
    await ServiceMonitor(config, clock=ManualClock(wall=WALL)).poll()
    assert host.calls("systemctl") == [[*SHOW, unit]]
    assert host.calls("journalctl")[0][:2] == ["--unit", unit]


async def test_start_fails_when_a_program_is_missing(
    host: FakeHost, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (host.bin / "crictl").unlink()
    config = build_service_monitor({"component": "containerd"}, source="agent.yaml")
    with pytest.raises(HealthwatchError, match="crictl not found on PATH"):
        await ServiceMonitor(config).start()
    monkeypatch.setenv("PATH", str(tmp_path / "nowhere"))
    with pytest.raises(HealthwatchError, match="systemctl not found on PATH"):
        await monitor().start()


async def test_run_keeps_polling_through_failures(host: FakeHost) -> None:
    host.set(hang=["systemctl"])
    config = build_service_monitor(
        {"component": "kubelet", "health_url": "", "timeout": "200ms"}, source="agent.yaml"
    )
    daemon = ServiceMonitor(dataclasses.replace(config, interval=0.3), clock=SystemClock())
    reported: list[Status] = []
    arrived = asyncio.Event()

    class Sink:
        def report(self, status: Status) -> None:
            reported.append(status)
            arrived.set()

    task = asyncio.create_task(daemon.run(Sink()), name="service-monitor-under-test")
    try:
        async with asyncio.timeout(10):
            await arrived.wait()
            assert reported[0].conditions[0].status is ConditionStatus.UNKNOWN
            arrived.clear()
            host.set(hang=[])
            await arrived.wait()
    finally:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    assert reported[1].conditions[0].status is ConditionStatus.FALSE
    assert daemon.figures.polls >= 2
