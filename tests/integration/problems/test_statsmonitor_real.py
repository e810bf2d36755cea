"""The stats monitor on this machine's own /proc: every collector reads, figures are sane."""

from __future__ import annotations

import asyncio

from healthwatch.aio.clock import SystemClock
from healthwatch.model.health import HealthStatus
from healthwatch.model.metrics import MetricFamily
from healthwatch.problems.statsmonitor.config import default_stats_monitor
from healthwatch.problems.statsmonitor.monitor import StatsMonitor


def _family(families: list[MetricFamily], name: str) -> MetricFamily:
    (family,) = [f for f in families if f.name == name]
    return family


async def test_the_real_host_in_sane_ranges() -> None:
    monitor = StatsMonitor.from_options(
        config=default_stats_monitor(), clock=SystemClock(), host_root="/"
    )
    await monitor.start()
    await asyncio.sleep(0.2)
    assert await monitor.collect_round() is not None
    snap = monitor.snapshot
    assert snap is not None
    wanted = {"cpu", "memory", "disk", "net", "host", "pids"}
    assert not wanted & set(snap.errors), snap.errors
    assert snap.cpu is not None and snap.memory is not None and snap.disk is not None
    assert snap.net is not None and snap.host is not None and snap.pids is not None
    load = snap.cpu.load
    assert min(load.load1, load.load5, load.load15) >= 0
    assert load.threads >= 1
    assert 0 < snap.memory.available <= snap.memory.total
    assert 0 <= snap.memory.used_npd <= snap.memory.total
    assert snap.host.uptime > 0
    assert snap.host.kernel
    assert snap.net.interfaces
    assert 0 < snap.pids.threads < snap.pids.limit
    root = [u for u in snap.disk.mounts if u.mountpoint == "/"]
    if root:  # "/" on a block device (not an overlay): its usage is a percentage
        assert 0 <= root[0].used_percent <= 100
        assert 0 <= root[0].inodes_used_percent <= 100
    families = monitor.metric_families("real")
    usage = _family(families, "healthwatch_stats_cpu_usage_percent").samples[0].value
    assert 0 <= usage <= 100
    uptime = _family(families, "host_uptime").samples[0]
    assert uptime.value > 0 and uptime.labels["kernel_version"] == snap.host.kernel
    memory = {s.labels["state"]: s.value for s in _family(families, "memory_bytes_used").samples}
    assert sum(memory.values()) == snap.memory.total
    status, message = monitor.health()
    assert status in (HealthStatus.HEALTHY, HealthStatus.DEGRADED), message
    assert monitor.last_duration < 1.0
