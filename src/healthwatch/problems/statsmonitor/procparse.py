"""Pure parsers of the procfs files behind the CPU, memory, PID and host figures.

Each takes the file's text and returns a frozen value, or raises
:class:`ParseError` whose message says which line is wrong and how. Keys the
kernel adds in later versions are skipped; keys a parser needs and cannot find
are errors, keys it can do without become ``None``.
"""

from __future__ import annotations

import shlex
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

__all__ = [
    "CPU_STATES",
    "CpuTimes",
    "LoadAvg",
    "ParseError",
    "ProcStat",
    "parse_int",
    "parse_keyed_numbers",
    "parse_loadavg",
    "parse_meminfo",
    "parse_os_release",
    "parse_stat",
    "parse_uptime",
]

CPU_STATES = (
    "user",
    "nice",
    "system",
    "idle",
    "iowait",
    "irq",
    "softirq",
    "steal",
    "guest",
    "guest_nice",
)
"""The columns of a ``cpu`` line of ``/proc/stat``, in order (USER_HZ ticks)."""
_MAX_VALUE = 2**64


class ParseError(ValueError):
    """A file's text is not what its parser expects; the message says where and why."""


@dataclass(frozen=True, slots=True, kw_only=True)
class CpuTimes:
    """Ticks spent in each state, by :data:`CPU_STATES` name (absent columns count 0)."""

    ticks: tuple[int, ...]
    """One value per :data:`CPU_STATES` entry."""

    def get(self, state: str) -> int:
        """Ticks of one state."""
        return self.ticks[CPU_STATES.index(state)]

    @property
    def total(self) -> int:
        """All ticks except guest time, which the kernel already counts in user and nice."""
        return sum(self.ticks[:8])

    @property
    def idle(self) -> int:
        """Idle and iowait ticks: time the CPU had nothing to run."""
        return self.ticks[3] + self.ticks[4]


@dataclass(frozen=True, slots=True, kw_only=True)
class ProcStat:
    """What ``/proc/stat`` says."""

    total: CpuTimes
    """The aggregate ``cpu`` line."""
    per_cpu: tuple[tuple[str, CpuTimes], ...]
    """``cpuN`` lines, in file order."""
    interrupts: int | None
    """Interrupts serviced since boot (``intr``)."""
    processes: int | None
    """Forks since boot."""
    procs_running: int | None
    """Runnable tasks now."""
    procs_blocked: int | None
    """Tasks blocked on I/O now."""
    boot_time: int | None
    """Boot time, seconds since the epoch (``btime``)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class LoadAvg:
    """What ``/proc/loadavg`` says."""

    load1: float
    load5: float
    load15: float
    running: int
    """Runnable scheduling entities now."""
    threads: int
    """Scheduling entities (threads) that exist now: what uses up PIDs."""


def _number(text: str, lineno: int, what: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise ParseError(f"line {lineno}: {what}: not an integer: {text[:40]!r}") from None
    if not 0 <= value < _MAX_VALUE:
        raise ParseError(f"line {lineno}: {what}: out of range: {text[:40]!r}")
    return value


def _float(text: str, lineno: int, what: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise ParseError(f"line {lineno}: {what}: not a number: {text[:40]!r}") from None
    if not 0 <= value < _MAX_VALUE:  # also rejects nan and inf
        raise ParseError(f"line {lineno}: {what}: out of range: {text[:40]!r}")
    return value


def _cpu_times(fields: list[str], lineno: int) -> CpuTimes:
    if len(fields) < 5:
        raise ParseError(f"line {lineno}: {fields[0]}: expected at least 4 columns")
    values = [_number(v, lineno, fields[0]) for v in fields[1 : 1 + len(CPU_STATES)]]
    values += [0] * (len(CPU_STATES) - len(values))
    return CpuTimes(ticks=tuple(values))


def parse_stat(text: str) -> ProcStat:
    """``/proc/stat``: the aggregate and per-CPU times, interrupts, forks, running tasks."""
    total: CpuTimes | None = None
    per_cpu: list[tuple[str, CpuTimes]] = []
    singles: dict[str, int] = {}
    for lineno, line in enumerate(text.splitlines(), 1):
        fields = line.split()
        if not fields:
            continue
        key = fields[0]
        if key == "cpu":
            total = _cpu_times(fields, lineno)
        elif key.startswith("cpu") and key[3:].isdigit():
            per_cpu.append((key, _cpu_times(fields, lineno)))
        elif key in ("intr", "processes", "procs_running", "procs_blocked", "btime"):
            if len(fields) < 2:
                raise ParseError(f"line {lineno}: {key}: no value")
            singles[key] = _number(fields[1], lineno, key)
    if total is None:
        raise ParseError("no aggregate 'cpu' line")
    return ProcStat(
        total=total,
        per_cpu=tuple(per_cpu),
        interrupts=singles.get("intr"),
        processes=singles.get("processes"),
        procs_running=singles.get("procs_running"),
        procs_blocked=singles.get("procs_blocked"),
        boot_time=singles.get("btime"),
    )


def parse_loadavg(text: str) -> LoadAvg:
    """``/proc/loadavg``: ``0.10 0.19 0.35 2/99 27310``."""
    fields = text.split()
    if len(fields) < 4 or "/" not in fields[3]:
        raise ParseError(f"expected 'load1 load5 load15 running/threads', got {text[:80]!r}")
    running, _, threads = fields[3].partition("/")
    return LoadAvg(
        load1=_float(fields[0], 1, "load1"),
        load5=_float(fields[1], 1, "load5"),
        load15=_float(fields[2], 1, "load15"),
        running=_number(running, 1, "running"),
        threads=_number(threads, 1, "threads"),
    )


def parse_keyed_numbers(
    text: str, *, unit_scale: Mapping[str, int] | None = None
) -> dict[str, int]:
    """``Key: value [unit]`` or ``key value`` lines (``/proc/meminfo``, ``/proc/vmstat``).

    ``unit_scale`` maps a unit (``kB``) to its multiplier; a unit not in it is an error.
    """
    scales = unit_scale or {}
    out: dict[str, int] = {}
    for lineno, line in enumerate(text.splitlines(), 1):
        fields = line.replace(":", " ", 1).split()
        if not fields:
            continue
        if len(fields) < 2:
            raise ParseError(f"line {lineno}: {fields[0][:40]!r}: no value")
        value = _number(fields[1], lineno, fields[0])
        if len(fields) > 2:
            scale = scales.get(fields[2])
            if scale is None:
                raise ParseError(f"line {lineno}: {fields[0]}: unknown unit {fields[2][:10]!r}")
            value *= scale
        out[fields[0]] = value
    return out


def parse_meminfo(text: str) -> Mapping[str, int]:
    """``/proc/meminfo`` in bytes; MemTotal and MemFree are required."""
    values = parse_keyed_numbers(text, unit_scale={"kB": 1024})
    for key in ("MemTotal", "MemFree"):
        if key not in values:
            raise ParseError(f"no {key} line")
    if values["MemTotal"] == 0:
        raise ParseError("MemTotal is 0")
    return MappingProxyType(values)


def parse_uptime(text: str) -> float:
    """``/proc/uptime``: seconds since boot (the first number)."""
    fields = text.split()
    if not fields:
        raise ParseError("empty file")
    return _float(fields[0], 1, "uptime")


def parse_int(text: str) -> int:
    """A file holding one non-negative integer (``/proc/sys/kernel/pid_max``)."""
    fields = text.split()
    if len(fields) != 1:
        raise ParseError(f"expected one integer, got {text[:40]!r}")
    return _number(fields[0], 1, "value")


def parse_os_release(text: str) -> Mapping[str, str]:
    """``/etc/os-release``: ``KEY=value`` lines, values unquoted as a shell would."""
    out: dict[str, str] = {}
    for line in text.splitlines():
        key, sep, raw = line.strip().partition("=")
        if not sep or not key or key.startswith("#") or not key.isidentifier():
            continue
        try:
            words = shlex.split(raw, comments=False)
        except ValueError:
            words = [raw.strip("\"'")]
        out[key] = " ".join(words)
    return MappingProxyType(out)
