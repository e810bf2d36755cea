"""What one round of collection saw: a snapshot of the host, part by part.

Plain frozen values with a few derived figures (percentages, memory
available). A part is ``None`` when its collector is off or failed this round;
the snapshot keeps why.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from healthwatch.problems.statsmonitor.devparse import DiskStat, NetDev
from healthwatch.problems.statsmonitor.procparse import LoadAvg, ProcStat

__all__ = [
    "ConntrackSample",
    "CpuSample",
    "DiskSample",
    "HostSample",
    "MemorySample",
    "MountUsage",
    "NetSample",
    "PidsSample",
    "Snapshot",
]


def _percent(part: float, whole: float) -> float:
    return 100.0 * part / whole if whole > 0 else 0.0


@dataclass(frozen=True, slots=True, kw_only=True)
class CpuSample:
    """``/proc/stat`` and ``/proc/loadavg``."""

    stat: ProcStat
    load: LoadAvg


@dataclass(frozen=True, slots=True, kw_only=True)
class MemorySample:
    """``/proc/meminfo`` (bytes) and the OOM-kill count of ``/proc/vmstat``."""

    info: Mapping[str, int]
    oom_kills: int | None
    """``oom_kill`` of ``/proc/vmstat`` (kernels since 4.13), else None."""

    def get(self, key: str) -> int:
        """A meminfo figure in bytes, 0 when the kernel does not report it."""
        return self.info.get(key, 0)

    @property
    def total(self) -> int:
        """MemTotal."""
        return self.info["MemTotal"]

    @property
    def available(self) -> int:
        """MemAvailable; on kernels without it, free + buffers + page cache."""
        if "MemAvailable" in self.info:
            return self.info["MemAvailable"]
        return self.get("MemFree") + self.get("Buffers") + self.get("Cached")

    @property
    def available_percent(self) -> float:
        """Available memory, percent of total."""
        return _percent(self.available, self.total)

    @property
    def used_npd(self) -> int:
        """node-problem-detector's "used": total - free - buffers - cached - slab (never < 0)."""
        rest = self.get("MemFree") + self.get("Buffers") + self.get("Cached") + self.get("Slab")
        return max(self.total - rest, 0)


@dataclass(frozen=True, slots=True, kw_only=True)
class MountUsage:
    """Space and inodes of one filesystem, as ``df`` counts them."""

    device: str
    """Device without ``/dev/`` (``sda1``)."""
    mountpoint: str
    fstype: str
    options: str
    used: int
    """Bytes in use (blocks - free blocks)."""
    available: int
    """Bytes available to unprivileged users (the root-reserved blocks excluded)."""
    inodes: int
    inodes_free: int

    @property
    def used_percent(self) -> float:
        """Used over used + available, as ``df`` shows it."""
        return _percent(self.used, self.used + self.available)

    @property
    def inodes_used(self) -> int:
        """Inodes in use."""
        return max(self.inodes - self.inodes_free, 0)

    @property
    def inodes_used_percent(self) -> float:
        """Inodes in use, percent of all (0 on filesystems without a fixed count)."""
        return _percent(self.inodes_used, self.inodes)


@dataclass(frozen=True, slots=True, kw_only=True)
class DiskSample:
    """Block-device I/O counters and filesystem usage."""

    io: tuple[DiskStat, ...]
    mounts: tuple[MountUsage, ...]
    """One per block device (the first mount of each), as node-problem-detector lists them."""
    watched: Mapping[str, MountUsage]
    """Usage of the paths thresholds name, by path."""
    skipped: tuple[str, ...]
    """Why some mounts could not be measured."""


@dataclass(frozen=True, slots=True, kw_only=True)
class NetSample:
    """``/proc/net/dev``."""

    interfaces: tuple[NetDev, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class HostSample:
    """Uptime, kernel release and OS release."""

    uptime: float
    kernel: str
    os_release: Mapping[str, str]
    """``/etc/os-release`` keys (empty when the host has none)."""

    @property
    def os_version(self) -> str:
        """node-problem-detector's ``os_version`` label: ``ID VERSION_ID`` (``debian 12``)."""
        words = [self.os_release.get("ID", ""), self.os_release.get("VERSION_ID", "")]
        return " ".join(w for w in words if w) or "unknown"


@dataclass(frozen=True, slots=True, kw_only=True)
class PidsSample:
    """Threads in use against the PID limit."""

    threads: int
    limit: int
    """``kernel.pid_max``, or ``kernel.threads-max`` when lower."""

    @property
    def used_percent(self) -> float:
        """Threads, percent of the limit."""
        return _percent(self.threads, self.limit)


@dataclass(frozen=True, slots=True, kw_only=True)
class ConntrackSample:
    """Connection-tracking entries against the table size."""

    entries: int
    limit: int

    @property
    def used_percent(self) -> float:
        """Entries, percent of the table size."""
        return _percent(self.entries, self.limit)


@dataclass(frozen=True, slots=True, kw_only=True)
class Snapshot:
    """Everything one round collected, and why parts are missing."""

    monotonic: float
    wall: float
    cpu: CpuSample | None = None
    memory: MemorySample | None = None
    disk: DiskSample | None = None
    net: NetSample | None = None
    host: HostSample | None = None
    pids: PidsSample | None = None
    conntrack: ConntrackSample | None = None
    errors: Mapping[str, str]
    """Collector name → why it failed this round."""
    absent: Mapping[str, str]
    """Optional collector name → why it has nothing to read here (not a fault)."""
