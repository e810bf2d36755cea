"""The collectors: each reads a few files under the host root into one part of a snapshot.

A collector that cannot read or parse its files is off for that round and its
reason is kept (the monitor's health shows it); the others go on. Collectors
only read: rates and conditions come later, from two snapshots.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TypeVar

from healthwatch.problems.statsmonitor.devparse import (
    Mount,
    NetDev,
    parse_diskstats,
    parse_filesystems,
    parse_mounts,
    parse_net_dev,
)
from healthwatch.problems.statsmonitor.files import HostFiles, ReadError
from healthwatch.problems.statsmonitor.procparse import (
    LoadAvg,
    ParseError,
    ProcStat,
    parse_int,
    parse_keyed_numbers,
    parse_loadavg,
    parse_meminfo,
    parse_os_release,
    parse_stat,
    parse_uptime,
)
from healthwatch.problems.statsmonitor.samples import (
    ConntrackSample,
    CpuSample,
    DiskSample,
    HostSample,
    MemorySample,
    MountUsage,
    NetSample,
    PidsSample,
    Snapshot,
)

__all__ = ["COLLECTORS", "OPTIONAL_COLLECTORS", "CollectOptions", "collect"]

COLLECTORS = ("cpu", "memory", "disk", "net", "host", "pids", "conntrack")
"""Every collector, in the order they run."""
OPTIONAL_COLLECTORS = frozenset({"conntrack"})
"""Collectors whose files are legitimately absent (no nf_conntrack module): not a fault."""


@dataclass(frozen=True, slots=True, kw_only=True)
class CollectOptions:
    """What to collect, and which devices and interfaces to leave out."""

    collectors: frozenset[str] = frozenset(COLLECTORS)
    exclude_devices: re.Pattern[str] | None = None
    """Block devices (``/proc/diskstats`` names) left out of the I/O figures."""
    exclude_interfaces: re.Pattern[str] | None = None
    """Network interfaces left out."""
    include_root_blk: bool = False
    """Only whole disks (``/sys/block``) and, with the next flag, mounted devices; else all."""
    include_attached_blk: bool = False
    """Only devices that are mounted (with the flag above, whole disks as well); else all."""
    watch_paths: tuple[str, ...] = ()
    """Host paths whose filesystem usage is read besides the mounts' (threshold ``mounts``)."""


class CollectorAbsentError(Exception):
    """A collector's files are absent for a reason that is not a fault."""


def _cpu(files: HostFiles, options: CollectOptions) -> CpuSample:
    del options
    stat: ProcStat = parse_stat(files.read_proc("stat"))
    load: LoadAvg = parse_loadavg(files.read_proc("loadavg"))
    return CpuSample(stat=stat, load=load)


def _memory(files: HostFiles, options: CollectOptions) -> MemorySample:
    del options
    info = parse_meminfo(files.read_proc("meminfo"))
    try:
        vmstat = parse_keyed_numbers(files.read_proc("vmstat"))
    except (ReadError, ParseError):
        vmstat = {}
    return MemorySample(info=info, oom_kills=vmstat.get("oom_kill"))


def _mounts(files: HostFiles) -> tuple[Mount, ...]:
    try:
        text = files.read_proc("1/mounts")
    except ReadError:
        text = files.read_proc("self/mounts")
    return parse_mounts(text)


def _block_filesystems(files: HostFiles) -> Callable[[Mount], bool]:
    try:
        kinds = parse_filesystems(files.read_proc("filesystems"))
    except ReadError:
        return lambda mount: mount.device.startswith("/dev/")
    return lambda mount: mount.fstype in kinds or mount.fstype == "zfs"


def _usage(files: HostFiles, mount: Mount, path: str) -> MountUsage | None:
    figures = files.statvfs(path)
    if figures.f_blocks == 0:
        return None
    size = figures.f_frsize or figures.f_bsize
    return MountUsage(
        device=mount.device.removeprefix("/dev/"),
        mountpoint=path,
        fstype=mount.fstype,
        options=mount.options,
        used=(figures.f_blocks - figures.f_bfree) * size,
        available=figures.f_bavail * size,
        inodes=figures.f_files,
        inodes_free=figures.f_ffree,
    )


def _containing(mounts: tuple[Mount, ...], path: str) -> Mount:
    """The mount a host path lives on: the longest mount point above it (the last one wins)."""
    best = Mount(device="", mountpoint="/", fstype="", options="")
    best_length = -1
    for mount in mounts:
        point = mount.mountpoint.rstrip("/")
        if (path == point or path.startswith(point + "/")) and len(point) >= best_length:
            best, best_length = mount, len(point)
    return best


def _io_devices(files: HostFiles, options: CollectOptions, mounts: tuple[Mount, ...]) -> set[str]:
    wanted: set[str] = set()
    if options.include_root_blk:
        wanted |= {n for n in files.list_host_dir("/sys/block") if not n.startswith("ram")}
    if options.include_attached_blk:
        wanted |= {m.device.removeprefix("/dev/") for m in mounts if m.device.startswith("/dev/")}
    return wanted


def _disk(files: HostFiles, options: CollectOptions) -> DiskSample:
    io = parse_diskstats(files.read_proc("diskstats"))
    mounts = _mounts(files)
    if options.include_root_blk or options.include_attached_blk:
        wanted = _io_devices(files, options, mounts)
        io = tuple(d for d in io if d.device in wanted)
    elif options.exclude_devices is not None:
        io = tuple(d for d in io if not options.exclude_devices.search(d.device))
    on_block = _block_filesystems(files)
    usages: list[MountUsage] = []
    skipped: list[str] = []
    seen: set[str] = set()
    for mount in mounts:
        if mount.device in seen or not on_block(mount):
            continue
        seen.add(mount.device)
        try:
            usage = _usage(files, mount, mount.mountpoint)
        except ReadError as error:
            skipped.append(str(error))
            continue
        if usage is not None:
            usages.append(usage)
    watched: dict[str, MountUsage] = {}
    for path in options.watch_paths:
        try:
            usage = _usage(files, _containing(mounts, path), path)
        except ReadError as error:
            skipped.append(str(error))
            continue
        if usage is not None:
            watched[path] = usage
    return DiskSample(
        io=io,
        mounts=tuple(usages),
        watched=MappingProxyType(watched),
        skipped=tuple(skipped),
    )


def _net(files: HostFiles, options: CollectOptions) -> NetSample:
    # /proc/net is the *reader's* network namespace: in a pod with the host's /proc
    # mounted under host_root that is the pod's network. PID 1's view under the proc
    # root is the machine's (the host's init, or the container's own when no host
    # /proc is mounted), so it is read first; trees without it fall back.
    try:
        text = files.read_proc("1/net/dev")
    except ReadError:
        text = files.read_proc("net/dev")
    rows: tuple[NetDev, ...] = parse_net_dev(text)
    if options.exclude_interfaces is not None:
        pattern = options.exclude_interfaces
        rows = tuple(r for r in rows if not pattern.search(r.interface))
    return NetSample(interfaces=rows)


def _host(files: HostFiles, options: CollectOptions) -> HostSample:
    del options
    uptime = parse_uptime(files.read_proc("uptime"))
    kernel = files.read_proc("sys/kernel/osrelease").strip()
    release: Mapping[str, str] = MappingProxyType({})
    for path in ("/etc/os-release", "/usr/lib/os-release"):
        try:
            release = parse_os_release(files.read_host(path))
            break
        except ReadError:
            continue
    return HostSample(uptime=uptime, kernel=kernel, os_release=release)


def _pids(files: HostFiles, options: CollectOptions) -> PidsSample:
    del options
    threads = parse_loadavg(files.read_proc("loadavg")).threads
    limit = parse_int(files.read_proc("sys/kernel/pid_max"))
    with contextlib.suppress(ReadError, ParseError):
        limit = min(limit, parse_int(files.read_proc("sys/kernel/threads-max")))
    if limit == 0:
        raise ParseError("pid_max is 0")
    return PidsSample(threads=threads, limit=limit)


def _conntrack(files: HostFiles, options: CollectOptions) -> ConntrackSample:
    del options
    count = "sys/net/netfilter/nf_conntrack_count"
    if not files.exists(count):
        raise CollectorAbsentError(f"no {files.proc_path(count)} (nf_conntrack not loaded)")
    entries = parse_int(files.read_proc(count))
    limit = parse_int(files.read_proc("sys/net/netfilter/nf_conntrack_max"))
    if limit == 0:
        raise ParseError("nf_conntrack_max is 0")
    return ConntrackSample(entries=entries, limit=limit)


T = TypeVar("T")


@dataclass(slots=True)
class _Round:
    """One round of collection: what each collector gave, or why it gave nothing."""

    files: HostFiles
    options: CollectOptions
    errors: dict[str, str] = field(default_factory=dict)
    absent: dict[str, str] = field(default_factory=dict)

    def run(self, name: str, collector: Callable[[HostFiles, CollectOptions], T]) -> T | None:
        if name not in self.options.collectors:
            return None
        try:
            return collector(self.files, self.options)
        except CollectorAbsentError as off:
            self.absent[name] = str(off)
        except ParseError as error:
            self.errors[name] = f"{name}: {error}"
        except (ReadError, OSError) as error:
            self.errors[name] = str(error)
        return None


def collect(
    files: HostFiles, options: CollectOptions, *, monotonic: float, wall: float
) -> Snapshot:
    """Run every enabled collector once; failures are recorded, never raised."""
    round_ = _Round(files=files, options=options)
    return Snapshot(
        monotonic=monotonic,
        wall=wall,
        cpu=round_.run("cpu", _cpu),
        memory=round_.run("memory", _memory),
        disk=round_.run("disk", _disk),
        net=round_.run("net", _net),
        host=round_.run("host", _host),
        pids=round_.run("pids", _pids),
        conntrack=round_.run("conntrack", _conntrack),
        errors=MappingProxyType(round_.errors),
        absent=MappingProxyType(round_.absent),
    )
