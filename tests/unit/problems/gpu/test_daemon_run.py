"""The GPU daemon running: its loops, hung and failing calls, its own health, state and metrics."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from healthwatch.model.health import HealthStatus
from healthwatch.model.metrics import MetricKind
from healthwatch.problems.gpu.adapter import GpuAdapter, GpuAdapterError
from healthwatch.problems.gpu.config import GpuConfig
from healthwatch.problems.gpu.daemon import GpuDaemon
from healthwatch.testing import FakeGpuAdapter, ManualClock

from .conftest import ClockSleep, MakeDaemon, Sink, eventually

BUS0, BUS1 = FakeGpuAdapter.device(0).bus_id, FakeGpuAdapter.device(1).bus_id


async def test_run_polls_every_interval_on_the_clock_and_follows_xids(
    make_daemon: MakeDaemon, fake: FakeGpuAdapter, sink: Sink, clock: ManualClock
) -> None:
    sleep = ClockSleep(clock)
    daemon = make_daemon(GpuConfig(interval=30.0, timeout=2.0), sleep=sleep)
    await daemon.start()
    task = asyncio.create_task(daemon.run(sink), name="gpu-under-test")
    try:
        await eventually(lambda: len(sink.statuses) >= 1)
        assert sink.statuses[0].events == ()  # the initial conditions, all False
        await eventually(lambda: len(sleep.calls) >= 3)
        assert set(sleep.calls[:3]) == {30.0}
        fake.inject_xid(BUS0, 79)
        await eventually(lambda: sink.is_true("GPUUnhealthy"))
        assert sink.condition("GPUUnhealthy").reason == "GPUXid79"
    finally:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    assert fake.calls["sample"] >= 6


async def test_a_hung_call_degrades_the_daemon_without_blocking_it(
    make_daemon: MakeDaemon, fake: FakeGpuAdapter, sink: Sink
) -> None:
    daemon = make_daemon(GpuConfig(timeout=0.2))
    await daemon.start()
    fake.hang("sample")
    async with asyncio.timeout(5):
        await daemon.poll(sink)
    status, message = daemon.health()
    assert status is HealthStatus.DEGRADED
    assert f"sample {BUS0}: no answer within 0.2s" in message
    assert f"sample {BUS1}: not started, sample {BUS0} has not returned" in message
    async with asyncio.timeout(5):
        await daemon.poll(sink)  # refused at once: nothing piles up behind the hung call
    assert fake.calls["sample"] == 1
    status, message = daemon.health()
    assert status is HealthStatus.DEGRADED
    assert message.startswith(f"NVML call sample {BUS0} has not returned for ")
    fake.release()  # the thread returns the abandoned call; calls go through again
    async with asyncio.timeout(5):
        while daemon.health()[0] is not HealthStatus.HEALTHY:
            await asyncio.sleep(0.005)
            await daemon.poll(sink)
    assert daemon.health() == (HealthStatus.HEALTHY, "watching 2 GPUs")
    assert sink.statuses == []  # a slow driver is not a GPU problem
    timeouts = next(f for f in daemon.metric_families(None) if f.name.endswith("adapter_errors"))
    counts = {s.labels["kind"]: s.value for s in timeouts.samples}
    assert counts["error"] == 0 and counts["timeout"] >= 1


async def test_adapter_errors_degrade_the_daemon_until_calls_succeed(
    make_daemon: MakeDaemon, fake: FakeGpuAdapter, sink: Sink
) -> None:
    daemon = make_daemon()
    await daemon.start()
    fake.fail("sample", GpuAdapterError("NVML sample: Unknown Error"))
    await daemon.poll(sink)
    assert daemon.health()[0] is HealthStatus.DEGRADED
    assert "Unknown Error" in daemon.health()[1]
    fake.fail("sample", None)
    await daemon.poll(sink)
    assert daemon.health()[0] is HealthStatus.HEALTHY


async def test_a_failing_xid_watch_is_retried_and_degrades_the_daemon(
    make_daemon: MakeDaemon, fake: FakeGpuAdapter, sink: Sink, clock: ManualClock
) -> None:
    sleep = ClockSleep(clock)
    daemon = make_daemon(sleep=sleep)
    await daemon.start()
    fake.fail("xid_events", GpuAdapterError("NVML event wait: Unknown Error"))
    task = asyncio.create_task(daemon.run(sink), name="gpu-under-test")
    try:
        await eventually(lambda: fake.calls["xid_events"] >= 2 and len(sleep.calls) >= 2)
        assert daemon.health() == (
            HealthStatus.DEGRADED,
            "Xid events: NVML event wait: Unknown Error",
        )
        fake.fail("xid_events", None)
        fake.inject_xid(BUS1, 13)
        await eventually(lambda: any(e.reason == "GPUXidApplication" for e in sink.events))
        assert daemon.health()[0] is HealthStatus.HEALTHY
    finally:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task


async def test_sticky_xids_survive_a_restart_in_the_same_boot_only(
    make_daemon: MakeDaemon, fake: FakeGpuAdapter, sink: Sink, tmp_path: Path, host_root: Path
) -> None:
    state = tmp_path / "state"
    first = make_daemon(state_dir=state)
    await first.start()
    fake.inject_xid(BUS0, 95)
    await first.check_xids(sink, wait=1.0)
    await first.stop()
    saved = json.loads((state / "gpu" / "gpu-monitor.json").read_text())
    assert saved["gpus"][BUS0]["xids"] == {"95": pytest.approx(1_700_000_000.0)}

    fake.vanish(BUS1)  # gone while the agent was down
    second = make_daemon(state_dir=state)
    await second.start()
    await second.poll(sink)
    unhealthy = sink.condition("GPUUnhealthy")
    assert unhealthy.reason == "GPUMissing"
    assert f"{BUS0}: Xid 95 (uncontained memory error)" in unhealthy.message

    (host_root / "proc/sys/kernel/random/boot_id").write_text("another-boot\n")
    third = make_daemon(state_dir=state)
    await third.start()
    await third.poll(sink)
    assert [c.status.value for c in third.conditions()] == ["False", "False", "False"]


@pytest.mark.parametrize(
    "text",
    [
        "",
        "{",
        "[" * 100_000,
        '{"version": 1, "boot_id": "0f6f3a4e-1111-2222-3333-444455556666", '
        '"gpus": {"nonsense": {"device": null, "xids": {}}}}',
        '{"version": 2}',
        "\xff\xfe",
    ],
)
async def test_a_damaged_state_file_is_ignored(
    make_daemon: MakeDaemon, sink: Sink, tmp_path: Path, text: str
) -> None:
    path = tmp_path / "state" / "gpu" / "gpu-monitor.json"
    path.parent.mkdir(parents=True)
    path.write_text(text, encoding="utf-8", errors="surrogateescape")
    daemon = make_daemon(state_dir=tmp_path / "state")
    await daemon.start()
    await daemon.poll(sink)
    assert daemon.health()[0] is HealthStatus.HEALTHY
    assert not any(c.status.value == "True" for c in daemon.conditions())


async def test_metric_families_describe_every_gpu(
    make_daemon: MakeDaemon, fake: FakeGpuAdapter, sink: Sink
) -> None:
    daemon = make_daemon()
    await daemon.start()
    fake.set_sample(BUS0, temperature_celsius=71.0, power_watts=None, ecc_volatile_corrected=4)
    fake.set_sample(BUS1, throttle_reasons=frozenset({"sw_power_cap"}))
    fake.inject_xid(BUS1, 79)
    await daemon.check_xids(sink, wait=1.0)
    await daemon.poll(sink)
    families = {f.name: f for f in daemon.metric_families("node-a")}
    temperature = families["healthwatch_gpu_temperature_celsius"]
    assert temperature.kind is MetricKind.GAUGE
    assert {(s.labels["bus_id"], s.labels["gpu"], s.value) for s in temperature.samples} == {
        (BUS0, "0", 71.0),
        (BUS1, "1", 40.0),
    }
    assert all(s.labels["node"] == "node-a" for s in temperature.samples)
    assert [s.labels["bus_id"] for s in families["healthwatch_gpu_power_watts"].samples] == [BUS1]
    ecc = {
        (s.labels["bus_id"], s.labels["error"], s.labels["scope"]): s.value
        for s in families["healthwatch_gpu_ecc_errors"].samples
    }
    assert ecc[(BUS0, "corrected", "volatile")] == 4.0
    assert families["healthwatch_gpu_ecc_errors"].kind is MetricKind.COUNTER
    xids = families["healthwatch_gpu_xid_events"].samples
    assert [(s.labels["bus_id"], s.labels["xid"], s.value) for s in xids] == [(BUS1, "79", 1.0)]
    throttle = {
        (s.labels["bus_id"], s.labels["reason"]): s.value
        for s in families["healthwatch_gpu_throttle_reason"].samples
    }
    assert throttle[(BUS1, "sw_power_cap")] == 1.0 and throttle[(BUS0, "sw_power_cap")] == 0.0
    problems = families["healthwatch_gpu_problem"].samples
    assert [(s.labels["bus_id"], s.labels["reason"]) for s in problems] == [(BUS1, "GPUXid79")]
    assert families["healthwatch_gpu_monitored"].samples[0].value == 1.0


async def test_auto_mode_waits_for_nvml_and_reports_nothing_until_then(
    clock: ManualClock, sink: Sink, host_root: Path
) -> None:
    fake = FakeGpuAdapter(1)
    attempts: list[int] = []

    def loader() -> tuple[GpuAdapter | None, str]:
        attempts.append(1)
        return (fake, "1 GPU") if len(attempts) >= 3 else (None, "driver not loaded")

    sleep = ClockSleep(clock)
    daemon = GpuDaemon(
        GpuConfig(),
        clock=clock,
        loader=loader,
        host_root=str(host_root),
        sleep=sleep,
        xid_wait=0.01,
    )
    await daemon.start()
    assert daemon.health() == (HealthStatus.HEALTHY, "not applicable: driver not loaded")
    assert daemon.metric_families(None)[0].samples[0].value == 0.0
    task = asyncio.create_task(daemon.run(sink), name="gpu-under-test")
    try:
        await eventually(lambda: len(sink.statuses) >= 1)
        assert len(attempts) == 3 and sleep.calls[:2] == [60.0, 60.0]
        assert daemon.applicable
        assert daemon.health() == (HealthStatus.HEALTHY, "watching 1 GPU")
    finally:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        fake.release()
        await daemon.stop()
    assert fake.shut_down


async def test_enabled_true_makes_a_missing_gpu_a_start_error(
    clock: ManualClock, host_root: Path
) -> None:
    fake = FakeGpuAdapter(1)
    fake.fail("init", GpuAdapterError("driver not loaded"))
    daemon = GpuDaemon(GpuConfig(enabled=True), clock=clock, adapter=fake, host_root=str(host_root))
    with pytest.raises(GpuAdapterError, match="enabled but not possible: driver not loaded"):
        await daemon.start()
    await daemon.stop()


async def test_disabled_daemon_idles_and_says_so(clock: ManualClock, sink: Sink) -> None:
    fake = FakeGpuAdapter(1)
    daemon = GpuDaemon(GpuConfig(enabled=False), clock=clock, adapter=fake)
    assert daemon.health() == (HealthStatus.UNKNOWN, "not started")
    await daemon.start()
    assert daemon.health() == (HealthStatus.HEALTHY, "not applicable: disabled in the config")
    task = asyncio.create_task(daemon.run(sink), name="gpu-under-test")
    await asyncio.sleep(0.01)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await daemon.stop()
    assert sink.statuses == [] and fake.calls["init"] == 0
