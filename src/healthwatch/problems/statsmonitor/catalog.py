"""node-problem-detector's system-stats metrics: their IDs, collectors, kinds and names.

An NPD config lists metric IDs (``cpu/load_1m``) with a display name; the
Prometheus name is that display name with every character Prometheus does not
allow (``/`` first of all) turned into ``_``, as NPD's OpenCensus exporter does.
The catalogue says which collector feeds each ID, so a config can be checked
and the collectors it does not need left off.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType

from healthwatch.model.metrics import MetricKind

__all__ = [
    "NPD_METRICS",
    "NPD_SECTIONS",
    "UNSUPPORTED_METRICS",
    "NpdMetric",
    "default_selection",
    "prometheus_name",
]

_G, _C = MetricKind.GAUGE, MetricKind.COUNTER


@dataclass(frozen=True, slots=True, kw_only=True)
class NpdMetric:
    """One NPD metric ID."""

    id: str
    collector: str
    kind: MetricKind
    help: str


def _m(id_: str, collector: str, kind: MetricKind, help_: str) -> NpdMetric:
    return NpdMetric(id=id_, collector=collector, kind=kind, help=help_)


_NET_HELP = {
    "rx_bytes": "Cumulative count of bytes received.",
    "rx_packets": "Cumulative count of packets received.",
    "rx_errors": "Cumulative count of receive errors encountered.",
    "rx_dropped": "Cumulative count of packets dropped while receiving.",
    "rx_fifo": "Cumulative count of FIFO buffer errors.",
    "rx_frame": "Cumulative count of packet framing errors.",
    "rx_compressed": "Cumulative count of compressed packets received by the device driver.",
    "rx_multicast": "Cumulative count of multicast frames received by the device driver.",
    "tx_bytes": "Cumulative count of bytes transmitted.",
    "tx_packets": "Cumulative count of packets transmitted.",
    "tx_errors": "Cumulative count of transmit errors encountered.",
    "tx_dropped": "Cumulative count of packets dropped while transmitting.",
    "tx_fifo": "Cumulative count of FIFO buffer errors.",
    "tx_collisions": "Cumulative count of collisions detected on the interface.",
    "tx_carrier": "Cumulative count of carrier losses detected by the device driver.",
    "tx_compressed": "Cumulative count of compressed packets transmitted by the device driver.",
}

NPD_METRICS: Mapping[str, NpdMetric] = MappingProxyType(
    {
        m.id: m
        for m in (
            _m("cpu/runnable_task_count", "cpu", _G, "The 1-minute load average (NPD's name)."),
            _m("cpu/usage_time", "cpu", _C, "CPU time by state, in USER_HZ ticks (1/100 s)."),
            _m("cpu/load_1m", "cpu", _G, "CPU average load (1m)."),
            _m("cpu/load_5m", "cpu", _G, "CPU average load (5m)."),
            _m("cpu/load_15m", "cpu", _G, "CPU average load (15m)."),
            _m("system/processes_total", "cpu", _C, "Number of forks since boot."),
            _m("system/procs_running", "cpu", _G, "Number of processes currently running."),
            _m("system/procs_blocked", "cpu", _G, "Number of processes currently blocked."),
            _m("system/interrupts_total", "cpu", _C, "Total number of interrupts serviced."),
            _m("system/cpu_stat", "cpu", _C, "Cumulative seconds each CPU spent in each stage."),
            _m("disk/io_time", "disk", _C, "The IO time spent on the disk, in ms."),
            _m("disk/weighted_io", "disk", _C, "The weighted IO on the disk, in ms."),
            _m("disk/avg_queue_len", "disk", _G, "The average queue length on the disk."),
            _m("disk/operation_count", "disk", _C, "Disk operations count."),
            _m("disk/merged_operation_count", "disk", _C, "Disk merged operations count."),
            _m("disk/operation_bytes_count", "disk", _C, "Bytes transferred in disk operations."),
            _m("disk/operation_time", "disk", _C, "Time spent in disk operations, in ms."),
            _m("disk/bytes_used", "disk", _G, "Disk bytes used, in Bytes."),
            _m("disk/percent_used", "disk", _G, "Disk utilization percentage."),
            _m("host/uptime", "host", _G, "The uptime of the operating system, in seconds."),
            _m("memory/bytes_used", "memory", _G, "Memory usage by each memory state, in Bytes."),
            _m("memory/anonymous_used", "memory", _G, "Anonymous memory usage, in Bytes."),
            _m("memory/page_cache_used", "memory", _G, "Page cache memory usage, in Bytes."),
            _m("memory/unevictable_used", "memory", _G, "Unevictable memory usage, in Bytes."),
            _m("memory/dirty_used", "memory", _G, "Dirty and writeback pages, in Bytes."),
            _m("memory/percent_used", "memory", _G, "Memory usage in percentage of total memory."),
            *(_m(f"net/{key}", "net", _C, text) for key, text in _NET_HELP.items()),
        )
    }
)
"""Every metric ID this monitor can export, by ID."""

UNSUPPORTED_METRICS = frozenset({"system/os_feature"})
"""NPD metric IDs accepted in a config but not collected (a warning says so)."""

NPD_SECTIONS: Mapping[str, str | None] = MappingProxyType(
    {
        "cpu": "cpu",
        "disk": "disk",
        "host": "host",
        "memory": "memory",
        "net": "net",
        "osFeature": None,
    }
)
"""Sections of an NPD config and the collector each feeds (None: not collected)."""

_INVALID = re.compile(r"[^a-zA-Z0-9_:]")


def prometheus_name(display_name: str) -> str:
    """The Prometheus name of an NPD display name (``cpu/load_1m`` → ``cpu_load_1m``)."""
    name = _INVALID.sub("_", display_name)
    return f"key_{name}" if name[:1].isdigit() else name


def default_selection(collectors: Iterable[str]) -> Mapping[str, str]:
    """Every metric of ``collectors`` under its default name (ID → Prometheus name)."""
    wanted = set(collectors)
    return MappingProxyType(
        {m.id: prometheus_name(m.id) for m in NPD_METRICS.values() if m.collector in wanted}
    )
