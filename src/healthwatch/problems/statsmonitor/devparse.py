"""Pure parsers of the procfs tables behind the disk and network figures.

``/proc/diskstats``, ``/proc/<pid>/mounts``, ``/proc/filesystems`` and
``/proc/net/dev``: one value per row, or :class:`ParseError` naming the line.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from healthwatch.problems.statsmonitor.procparse import ParseError

__all__ = [
    "NET_COLUMNS",
    "DiskStat",
    "Mount",
    "NetDev",
    "parse_diskstats",
    "parse_filesystems",
    "parse_mounts",
    "parse_net_dev",
]

NET_COLUMNS = (
    "rx_bytes",
    "rx_packets",
    "rx_errors",
    "rx_dropped",
    "rx_fifo",
    "rx_frame",
    "rx_compressed",
    "rx_multicast",
    "tx_bytes",
    "tx_packets",
    "tx_errors",
    "tx_dropped",
    "tx_fifo",
    "tx_collisions",
    "tx_carrier",
    "tx_compressed",
)
"""The 16 counters of a ``/proc/net/dev`` row, in order."""
_MAX = 2**64
_ESCAPE = re.compile(r"\\([0-7]{3})")


def _counter(text: str, lineno: int, what: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise ParseError(f"line {lineno}: {what}: not an integer: {text[:40]!r}") from None
    if not 0 <= value < _MAX:
        raise ParseError(f"line {lineno}: {what}: out of range: {text[:40]!r}")
    return value


@dataclass(frozen=True, slots=True, kw_only=True)
class DiskStat:
    """One row of ``/proc/diskstats`` (times in milliseconds, sizes in 512-byte sectors)."""

    device: str
    reads: int
    reads_merged: int
    sectors_read: int
    read_ms: int
    writes: int
    writes_merged: int
    sectors_written: int
    write_ms: int
    in_flight: int
    io_ms: int
    """Milliseconds the device had I/O in flight."""
    weighted_ms: int
    """In-flight time weighted by queue depth: its rate is the average queue length."""


def parse_diskstats(text: str) -> tuple[DiskStat, ...]:
    """Every row; a row needs the major, minor, name and the first 11 counters."""
    rows: list[DiskStat] = []
    for lineno, line in enumerate(text.splitlines(), 1):
        fields = line.split()
        if not fields:
            continue
        if len(fields) < 14:
            raise ParseError(f"line {lineno}: expected at least 14 fields, got {len(fields)}")
        name = fields[2]
        v = [_counter(f, lineno, name) for f in fields[3:14]]
        rows.append(
            DiskStat(
                device=name,
                reads=v[0],
                reads_merged=v[1],
                sectors_read=v[2],
                read_ms=v[3],
                writes=v[4],
                writes_merged=v[5],
                sectors_written=v[6],
                write_ms=v[7],
                in_flight=v[8],
                io_ms=v[9],
                weighted_ms=v[10],
            )
        )
    return tuple(rows)


@dataclass(frozen=True, slots=True, kw_only=True)
class Mount:
    """One row of a mounts table."""

    device: str
    mountpoint: str
    fstype: str
    options: str


def _unescape(text: str) -> str:
    """The kernel writes space, tab, newline and backslash in paths as ``\\ooo``."""
    return _ESCAPE.sub(lambda m: chr(int(m.group(1), 8)), text)


def parse_mounts(text: str) -> tuple[Mount, ...]:
    """``/proc/<pid>/mounts`` rows: device, mount point, type, options."""
    rows: list[Mount] = []
    for lineno, line in enumerate(text.splitlines(), 1):
        fields = line.split()
        if not fields:
            continue
        if len(fields) < 4:
            raise ParseError(f"line {lineno}: expected at least 4 fields, got {len(fields)}")
        rows.append(
            Mount(
                device=_unescape(fields[0]),
                mountpoint=_unescape(fields[1]),
                fstype=fields[2],
                options=fields[3],
            )
        )
    return tuple(rows)


def parse_filesystems(text: str) -> frozenset[str]:
    """Filesystem types on block devices: those ``/proc/filesystems`` lists without ``nodev``."""
    out: set[str] = set()
    for line in text.splitlines():
        fields = line.split()
        if len(fields) == 1:
            out.add(fields[0])
    return frozenset(out)


@dataclass(frozen=True, slots=True, kw_only=True)
class NetDev:
    """One interface of ``/proc/net/dev``."""

    interface: str
    counters: tuple[int, ...]
    """One value per :data:`NET_COLUMNS` entry."""

    def get(self, column: str) -> int:
        """One counter by name."""
        return self.counters[NET_COLUMNS.index(column)]


def parse_net_dev(text: str) -> tuple[NetDev, ...]:
    """Interfaces and their 16 counters; the two header lines are skipped."""
    rows: list[NetDev] = []
    for lineno, line in enumerate(text.splitlines(), 1):
        if "|" in line or not line.strip():
            continue
        name, sep, rest = line.partition(":")
        if not sep or not name.strip():
            raise ParseError(f"line {lineno}: expected 'interface: counters'")
        fields = rest.split()
        if len(fields) < len(NET_COLUMNS):
            raise ParseError(
                f"line {lineno}: {name.strip()}: expected {len(NET_COLUMNS)} counters, "
                f"got {len(fields)}"
            )
        counters = tuple(_counter(f, lineno, name.strip()) for f in fields[: len(NET_COLUMNS)])
        rows.append(NetDev(interface=name.strip(), counters=counters))
    return tuple(rows)
