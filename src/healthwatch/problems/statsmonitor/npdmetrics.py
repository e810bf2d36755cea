"""Metric families under node-problem-detector's system-stats names and labels.

Values follow NPD's meaning so its dashboards and alerts keep working: raw
cumulative counters (NPD sums deltas from zero, which comes to the same),
``cpu_usage_time`` in USER_HZ ticks, ``system_cpu_stat`` in seconds, disk
usage as ``df`` counts it (``free`` = available to users) for the first mount of
each block device. Only the selected IDs are rendered, under their configured names.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping

from healthwatch.model.metrics import MetricFamily, MetricKind, Sample
from healthwatch.problems.statsmonitor.catalog import NPD_METRICS
from healthwatch.problems.statsmonitor.devparse import NET_COLUMNS
from healthwatch.problems.statsmonitor.procparse import CPU_STATES
from healthwatch.problems.statsmonitor.samples import (
    CpuSample,
    DiskSample,
    HostSample,
    MemorySample,
    NetSample,
    Snapshot,
)

__all__ = ["npd_families"]

_STAGES = (
    "user",
    "nice",
    "system",
    "idle",
    "iowait",
    "iRQ",
    "softIRQ",
    "steal",
    "guest",
    "guestNice",
)
"""NPD's ``stage`` label values for the :data:`CPU_STATES` columns."""
_SECTOR = 512

Points = defaultdict[str, list[tuple[dict[str, str], float]]]


def _cpu(points: Points, cpu: CpuSample, user_hz: int) -> None:
    load = cpu.load
    points["cpu/runnable_task_count"].append(({}, load.load1))
    points["cpu/load_1m"].append(({}, load.load1))
    points["cpu/load_5m"].append(({}, load.load5))
    points["cpu/load_15m"].append(({}, load.load15))
    for state, ticks in zip(CPU_STATES, cpu.stat.total.ticks, strict=True):
        points["cpu/usage_time"].append(({"state": state}, float(ticks)))
    stat = cpu.stat
    for key, value in (
        ("system/processes_total", stat.processes),
        ("system/procs_running", stat.procs_running),
        ("system/procs_blocked", stat.procs_blocked),
        ("system/interrupts_total", stat.interrupts),
    ):
        if value is not None:
            points[key].append(({}, float(value)))
    for name, times in stat.per_cpu:
        for stage, ticks in zip(_STAGES, times.ticks, strict=True):
            points["system/cpu_stat"].append(({"cpu": name, "stage": stage}, ticks / user_hz))


def _memory(points: Points, memory: MemorySample) -> None:
    get = memory.get
    for state, value in (
        ("free", get("MemFree")),
        ("used", memory.used_npd),
        ("buffered", get("Buffers")),
        ("cached", get("Cached")),
        ("slab", get("Slab")),
    ):
        points["memory/bytes_used"].append(({"state": state}, float(value)))
    for key, pairs in (
        ("memory/anonymous_used", (("active", "Active(anon)"), ("inactive", "Inactive(anon)"))),
        ("memory/page_cache_used", (("active", "Active(file)"), ("inactive", "Inactive(file)"))),
        ("memory/dirty_used", (("dirty", "Dirty"), ("writeback", "Writeback"))),
    ):
        for state, field in pairs:
            points[key].append(({"state": state}, float(get(field))))
    points["memory/unevictable_used"].append(({}, float(get("Unevictable"))))
    points["memory/percent_used"].append(({"state": "used"}, 100.0 - memory.available_percent))


def _disk(points: Points, disk: DiskSample, before: DiskSample | None, seconds: float) -> None:
    old = {d.device: d for d in before.io} if before is not None else {}
    for d in disk.io:
        device = {"device_name": d.device}
        points["disk/io_time"].append((device, float(d.io_ms)))
        points["disk/weighted_io"].append((device, float(d.weighted_ms)))
        prior = old.get(d.device)
        if prior is not None and seconds > 0:
            delta = d.weighted_ms - prior.weighted_ms
            points["disk/avg_queue_len"].append((device, max(delta, 0) / (seconds * 1000)))
        for direction, ops, merged, sectors, ms in (
            ("read", d.reads, d.reads_merged, d.sectors_read, d.read_ms),
            ("write", d.writes, d.writes_merged, d.sectors_written, d.write_ms),
        ):
            labels = {**device, "direction": direction}
            points["disk/operation_count"].append((labels, float(ops)))
            points["disk/merged_operation_count"].append((labels, float(merged)))
            points["disk/operation_bytes_count"].append((labels, float(sectors * _SECTOR)))
            points["disk/operation_time"].append((labels, float(ms)))
    for m in disk.mounts:
        base = {"device_name": m.device, "fs_type": m.fstype, "mount_option": m.options}
        percent = m.used_percent
        for state, size, share in (
            ("used", m.used, percent),
            ("free", m.available, 100.0 - percent),
        ):
            points["disk/bytes_used"].append(({**base, "state": state}, float(size)))
            points["disk/percent_used"].append(({**base, "state": state}, share))


def _host(points: Points, host: HostSample) -> None:
    labels = {"kernel_version": host.kernel, "os_version": host.os_version}
    points["host/uptime"].append((labels, float(int(host.uptime))))


def _net(points: Points, net: NetSample) -> None:
    for row in net.interfaces:
        labels = {"interface_name": row.interface}
        for column, value in zip(NET_COLUMNS, row.counters, strict=True):
            points[f"net/{column}"].append((labels, float(value)))


def npd_families(
    previous: Snapshot | None,
    current: Snapshot,
    *,
    names: Mapping[str, str],
    labels: Mapping[str, str],
    user_hz: int = 100,
) -> list[MetricFamily]:
    """The selected NPD metrics (ID → Prometheus name in ``names``) of ``current``.

    ``previous`` gives the rates (``disk_avg_queue_len``); ``labels`` (``node``) go on
    every sample.
    """
    points: Points = defaultdict(list)
    if current.cpu is not None:
        _cpu(points, current.cpu, user_hz)
    if current.memory is not None:
        _memory(points, current.memory)
    if current.disk is not None:
        before = previous.disk if previous is not None else None
        seconds = current.monotonic - previous.monotonic if previous is not None else 0.0
        _disk(points, current.disk, before, seconds)
    if current.host is not None:
        _host(points, current.host)
    if current.net is not None:
        _net(points, current.net)
    families = []
    for id_, name in names.items():
        found = points.get(id_)
        if not found:
            continue
        info = NPD_METRICS[id_]
        kind = info.kind
        if kind is MetricKind.COUNTER and not name.endswith("_total"):
            kind = MetricKind.UNTYPED  # node-problem-detector's name, without a suffix
        families.append(
            MetricFamily(
                name=name,
                kind=kind,
                help=info.help,
                samples=tuple(Sample(labels={**labels, **own}, value=v) for own, v in found),
            )
        )
    return families
