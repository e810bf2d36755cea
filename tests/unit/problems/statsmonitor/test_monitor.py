"""The stats monitor daemon on a fake host: start, rounds on a manual clock, statuses, health."""

from __future__ import annotations

import asyncio
import dataclasses
import os
import threading
from collections.abc import Callable
from pathlib import Path

import pytest

from healthwatch.aio.clock import ManualClock
from healthwatch.model.errors import HealthwatchError
from healthwatch.model.health import HealthStatus
from healthwatch.model.metrics import MetricFamily
from healthwatch.model.problems import ConditionStatus, Status
from healthwatch.problems.base import ProblemDaemon
from healthwatch.problems.statsmonitor.config import default_stats_monitor
from healthwatch.problems.statsmonitor.files import HostFiles
from healthwatch.problems.statsmonitor.monitor import StatsMonitor
from tests.unit.problems.statsmonitor.fakehost import FakeHost


class Sink:
    def __init__(self) -> None:
        self.statuses: list[Status] = []

    def report(self, status: Status) -> None:
        self.statuses.append(status)


class Ticks:
    """A sleep that returns when the test says so, moving the manual clock."""

    def __init__(self, clock: ManualClock) -> None:
        self.clock = clock
        self.delays: list[float] = []
        self._ticks: asyncio.Queue[None] = asyncio.Queue()

    async def sleep(self, delay: float) -> None:
        self.delays.append(delay)
        await self._ticks.get()
        self.clock.advance(delay)

    def tick(self) -> None:
        self._ticks.put_nowait(None)


async def _until(predicate: Callable[[], object], within: float = 5.0) -> None:
    loop = asyncio.get_running_loop()
    end = loop.time() + within
    while not predicate():
        assert loop.time() < end, "timed out"
        await asyncio.sleep(0.005)


@pytest.fixture
def host(tmp_path: Path) -> FakeHost:
    return FakeHost(tmp_path / "host")


def _monitor(host: FakeHost, clock: ManualClock, ticks: Ticks | None = None) -> StatsMonitor:
    return StatsMonitor(
        default_stats_monitor(),
        clock=clock,
        files=host.files(),
        sleep=ticks.sleep if ticks else None,
    )


def test_the_agent_factory_builds_a_daemon(host: FakeHost, tmp_path: Path) -> None:
    monitor = StatsMonitor.from_options(
        config=default_stats_monitor(),
        clock=ManualClock(),
        host_root=str(host.root),
        state_dir=tmp_path / "state",
        boot_time=1.0,
    )
    assert isinstance(monitor, ProblemDaemon)
    assert monitor.name == "system-stats-monitor"
    assert monitor.files.proc_root == str(host.root / "proc")
    assert [(d.reason, d.condition) for d in monitor.declarations()] == [
        ("MemoryAvailableLow", "MemoryPressure"),
        ("DiskSpaceLow", "DiskPressure"),
        ("InodesLow", "DiskPressure"),
        ("PIDsLow", "PIDPressure"),
        ("ConntrackTableFull", "ConntrackFull"),
    ]
    assert monitor.health() == (HealthStatus.UNKNOWN, "no collection yet")


async def test_rounds_on_the_clock_report_condition_changes(host: FakeHost) -> None:
    clock = ManualClock(monotonic=100.0, wall=1_700_000_000.0)
    ticks = Ticks(clock)
    monitor = _monitor(host, clock, ticks)
    await monitor.start()
    assert monitor.collections == 1
    sink = Sink()
    task = asyncio.create_task(monitor.run(sink), name="stats-under-test")
    try:
        await _until(lambda: len(sink.statuses) == 1)
        first = sink.statuses[0]
        assert first.source == "system-stats-monitor"
        assert [c.status for c in first.conditions] == [ConditionStatus.FALSE] * 4
        await _until(lambda: ticks.delays)
        assert ticks.delays == [10.0]
        ticks.tick()
        await _until(lambda: monitor.collections == 2)
        assert len(sink.statuses) == 1  # nothing changed: nothing reported
        host.set_memory_available(4.0)
        host.set_used_percent("/", 97.0)
        ticks.tick()
        await _until(lambda: len(sink.statuses) == 2)
        status = sink.statuses[1]
        held = {c.type: (c.status, c.reason) for c in status.conditions}
        assert held["MemoryPressure"] == (ConditionStatus.TRUE, "MemoryAvailableLow")
        assert held["DiskPressure"] == (ConditionStatus.TRUE, "DiskSpaceLow")
        assert held["PIDPressure"] == (ConditionStatus.FALSE, "NoPIDPressure")
        assert [e.reason for e in status.events] == ["MemoryAvailableLow", "DiskSpaceLow"]
        assert status.events[0].timestamp == 1_700_000_020.0
        assert ticks.delays == [10.0, 10.0, 10.0]  # no drift on the monotonic clock
    finally:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task


async def test_a_condition_found_at_start_is_in_the_first_status(host: FakeHost) -> None:
    host.set_used_percent("/", 99.0)
    monitor = _monitor(host, ManualClock(), Ticks(ManualClock()))
    await monitor.start()
    sink = Sink()
    task = asyncio.create_task(monitor.run(sink), name="stats-under-test")
    await _until(lambda: sink.statuses)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    (status,) = sink.statuses
    assert [e.reason for e in status.events] == ["DiskSpaceLow"]
    disk = next(c for c in status.conditions if c.type == "DiskPressure")
    assert disk.message == "/: 99.0% of space used (above 90%)"


async def test_health_names_collectors_that_are_off(host: FakeHost) -> None:
    host.remove("proc/diskstats")
    host.remove("proc/sys/net/netfilter/nf_conntrack_count")
    monitor = _monitor(host, ManualClock())
    await monitor.start()
    status, message = monitor.health()
    assert status is HealthStatus.DEGRADED
    assert message.startswith(f"collector off: cannot read {host.root}/proc/diskstats")
    assert "conntrack n/a (no " in message
    up = _samples(monitor.metric_families("n1"), "healthwatch_stats_collector_up")
    assert up["disk"] == 0.0 and up["cpu"] == 1.0
    assert "conntrack" not in up  # absent here, not down
    host.write("proc/diskstats", "")
    monitor.collect_once()
    status, message = monitor.health()
    assert status is HealthStatus.HEALTHY
    assert message.startswith("2 collections every 10s, last ")


def _samples(families: list[MetricFamily], name: str) -> dict[str, float]:
    (family,) = [f for f in families if f.name == name]
    return {s.labels.get("collector", ""): s.value for s in family.samples}


async def test_metric_families_of_the_daemon(host: FakeHost) -> None:
    monitor = _monitor(host, ManualClock())
    await monitor.start()
    families = {f.name: f for f in monitor.metric_families("n1")}
    assert {"cpu_load_1m", "disk_bytes_used", "net_rx_bytes", "host_uptime"} <= set(families)
    assert {"healthwatch_stats_memory_available_percent", "healthwatch_stats_collections"} <= set(
        families
    )
    collections = families["healthwatch_stats_collections"].samples[0]
    assert dict(collections.labels) == {"node": "n1", "monitor": "system-stats-monitor"}
    assert collections.value == 1.0
    assert all(s.labels.get("node") == "n1" for f in families.values() for s in f.samples)


async def test_start_refuses_a_missing_proc_root(tmp_path: Path) -> None:
    monitor = StatsMonitor(default_stats_monitor(), host_root=str(tmp_path / "nowhere"))
    with pytest.raises(HealthwatchError, match=r"proc root .*nowhere/proc is not a directory"):
        await monitor.start()


async def test_start_refuses_when_no_collector_can_read(tmp_path: Path) -> None:
    (tmp_path / "proc").mkdir()
    monitor = StatsMonitor(default_stats_monitor(), host_root=str(tmp_path))
    with pytest.raises(HealthwatchError, match=r"no collector can read: cannot read .*/proc/stat"):
        await monitor.start()


class HangingStatvfs:
    """``statvfs`` that blocks while ``on``, as on a dead NFS server."""

    def __init__(self, host: FakeHost) -> None:
        self.host = host
        self.on = False
        self.entered = threading.Event()
        self.release = threading.Event()

    def __call__(self, path: str) -> os.statvfs_result:
        if self.on:
            self.entered.set()
            self.release.wait(10)
        return self.host.statvfs(path)


def _hanging_monitor(host: FakeHost) -> tuple[StatsMonitor, HangingStatvfs]:
    hang = HangingStatvfs(host)
    files = HostFiles(host_root=str(host.root), statvfs=hang)
    config = dataclasses.replace(default_stats_monitor(), timeout=0.2)
    return StatsMonitor(config, clock=ManualClock(), files=files), hang


async def test_a_hung_first_round_fails_the_start(host: FakeHost) -> None:
    monitor, hang = _hanging_monitor(host)
    hang.on = True
    try:
        with pytest.raises(HealthwatchError, match=r"the first collection took over 0\.2s"):
            await monitor.start()
        assert hang.entered.is_set()
        assert monitor.abandoned == 1
        assert monitor.busy
        assert await monitor.collect_round() is None  # no second round while one is stuck
        assert monitor.health() == (HealthStatus.UNKNOWN, "no collection yet")
    finally:
        hang.on = False
        hang.release.set()
    await _until(lambda: not monitor.busy)
    assert await monitor.collect_round() is not None
    assert monitor.health()[0] is HealthStatus.HEALTHY


async def test_a_stuck_round_after_a_good_one_degrades_health(host: FakeHost) -> None:
    monitor, hang = _hanging_monitor(host)
    await monitor.start()
    hang.on = True
    try:
        assert await monitor.collect_round() is None
        status, message = monitor.health()
        assert status is HealthStatus.DEGRADED
        assert message.startswith("a collection has run over 0.2s (hung mount?)")
        families = {f.name: f for f in monitor.metric_families(None)}
        assert families["healthwatch_stats_collections_abandoned"].samples[0].value == 1.0
    finally:
        hang.on = False
        hang.release.set()
    await _until(lambda: not monitor.busy)
    await monitor.stop()
