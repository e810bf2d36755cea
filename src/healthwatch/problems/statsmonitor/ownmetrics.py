"""Metric families node-problem-detector has no name for: ``healthwatch_stats_*``.

Figures the pressure conditions are judged on (memory available, inodes, PIDs,
conntrack), swap and OOM kills, boot time and release, and rates computed from
the two latest snapshots (CPU busy share, bytes per second, disk busy share).
A rate needs two snapshots; until then, and after a counter went backwards, it
is left out rather than guessed.
"""

from __future__ import annotations

from collections.abc import Mapping

from healthwatch.model.metrics import MetricFamily, MetricKind, Sample
from healthwatch.problems.statsmonitor.samples import MountUsage, Snapshot

__all__ = ["PREFIX", "own_families"]

PREFIX = "healthwatch_stats_"


class _Families:
    """Collects samples per family, in first-seen order."""

    def __init__(self, labels: Mapping[str, str]) -> None:
        self._labels = dict(labels)
        self._families: dict[str, tuple[MetricKind, str, list[Sample]]] = {}

    def add(
        self,
        name: str,
        value: float,
        *,
        help_: str,
        kind: MetricKind = MetricKind.GAUGE,
        labels: Mapping[str, str] | None = None,
    ) -> None:
        entry = self._families.setdefault(PREFIX + name, (kind, help_, []))
        entry[2].append(Sample(labels={**self._labels, **(labels or {})}, value=float(value)))

    def build(self) -> list[MetricFamily]:
        return [
            MetricFamily(name=name, kind=kind, help=help_, samples=tuple(samples))
            for name, (kind, help_, samples) in self._families.items()
        ]


def _rates(out: _Families, before: Snapshot, now: Snapshot) -> None:
    seconds = now.monotonic - before.monotonic
    if seconds <= 0:
        return
    if now.cpu is not None and before.cpu is not None:
        total = now.cpu.stat.total.total - before.cpu.stat.total.total
        idle = now.cpu.stat.total.idle - before.cpu.stat.total.idle
        if total > 0 and 0 <= idle <= total:
            out.add("cpu_usage_percent", 100.0 * (total - idle) / total, help_=_CPU_HELP)
    if now.net is not None and before.net is not None:
        old = {row.interface: row for row in before.net.interfaces}
        for row in now.net.interfaces:
            prior = old.get(row.interface)
            if prior is None:
                continue
            for direction, column in (("receive", "rx_bytes"), ("transmit", "tx_bytes")):
                delta = row.get(column) - prior.get(column)
                if delta >= 0:
                    out.add(
                        f"network_{direction}_bytes_per_second",
                        delta / seconds,
                        help_=f"Bytes {direction}d per second over the last interval.",
                        labels={"interface_name": row.interface},
                    )
    if now.disk is not None and before.disk is not None:
        old_io = {d.device: d for d in before.disk.io}
        for d in now.disk.io:
            prior_io = old_io.get(d.device)
            if prior_io is not None and d.io_ms >= prior_io.io_ms:
                busy = min(100.0, (d.io_ms - prior_io.io_ms) / (seconds * 10))
                out.add(
                    "disk_busy_percent",
                    busy,
                    help_="Share of the last interval the device had I/O in flight.",
                    labels={"device_name": d.device},
                )


_CPU_HELP = "Share of CPU time not idle (nor waiting for I/O) over the last interval, all CPUs."


def _usage(out: _Families, usage: MountUsage) -> None:
    where = {"device_name": usage.device, "mountpoint": usage.mountpoint}
    out.add(
        "disk_used_percent",
        usage.used_percent,
        help_="Filesystem space used, percent of what users can use (as df shows).",
        labels=where,
    )
    for state, value in (("used", usage.inodes_used), ("free", usage.inodes_free)):
        out.add(
            "disk_inodes",
            value,
            help_="Filesystem inodes by state.",
            labels={**where, "state": state},
        )
    out.add(
        "disk_inodes_used_percent",
        usage.inodes_used_percent,
        help_="Filesystem inodes used, percent of all.",
        labels=where,
    )


def own_families(
    previous: Snapshot | None, current: Snapshot, *, labels: Mapping[str, str]
) -> list[MetricFamily]:
    """The ``healthwatch_stats_*`` families of ``current`` (rates against ``previous``)."""
    out = _Families(labels)
    memory = current.memory
    if memory is not None:
        out.add("memory_total_bytes", memory.total, help_="Memory in total (MemTotal).")
        out.add(
            "memory_available_bytes",
            memory.available,
            help_="Memory available for new work without swapping (MemAvailable).",
        )
        out.add(
            "memory_available_percent",
            memory.available_percent,
            help_="Memory available, percent of total.",
        )
        swap_free = memory.get("SwapFree")
        for state, value in (("used", memory.get("SwapTotal") - swap_free), ("free", swap_free)):
            out.add(
                "swap_bytes", max(value, 0), help_="Swap space by state.", labels={"state": state}
            )
        if memory.oom_kills is not None:
            out.add(
                "oom_kills",
                memory.oom_kills,
                help_="Processes killed by the kernel's OOM killer since boot.",
                kind=MetricKind.COUNTER,
            )
    if current.disk is not None:
        shown = {u.mountpoint for u in current.disk.mounts}
        for usage in current.disk.mounts:
            _usage(out, usage)
        for usage in current.disk.watched.values():
            if usage.mountpoint not in shown:
                _usage(out, usage)
    if current.pids is not None:
        pids = current.pids
        out.add("pids_used", pids.threads, help_="Threads (each holds a PID) on the host.")
        out.add("pids_limit", pids.limit, help_="PID limit: kernel.pid_max or threads-max.")
        out.add("pids_used_percent", pids.used_percent, help_="PIDs used, percent of the limit.")
    if current.conntrack is not None:
        track = current.conntrack
        out.add("conntrack_entries", track.entries, help_="Connection-tracking entries in use.")
        out.add("conntrack_limit", track.limit, help_="Connection-tracking table size.")
        out.add(
            "conntrack_used_percent",
            track.used_percent,
            help_="Connection-tracking entries, percent of the table size.",
        )
    if current.host is not None:
        host = current.host
        out.add(
            "boot_time_seconds",
            round(current.wall - host.uptime),
            help_="Boot time of the host, seconds since the epoch.",
        )
        out.add(
            "host_info",
            1,
            help_="Kernel and OS release of the host (always 1).",
            labels={
                "kernel_version": host.kernel,
                "os_id": host.os_release.get("ID", ""),
                "os_version_id": host.os_release.get("VERSION_ID", ""),
                "os_pretty_name": host.os_release.get("PRETTY_NAME", ""),
            },
        )
    if previous is not None:
        _rates(out, previous, current)
    return out.build()
