"""Kernel messages read straight from ``/dev/kmsg``, with their sequence numbers.

The kernel log is where hardware and driver trouble shows first (Xid, machine
checks, OOM kills, hung tasks). ``/dev/kmsg`` gives it without depending on a
syslog daemon or journald being installed, and each record carries its priority,
a sequence number and the time since boot (the kernel's
``Documentation/ABI/testing/dev-kmsg``). The sequence numbers let this source
count what the ring buffer overwrote before it was read instead of losing it
silently, which node-problem-detector's kmsg watcher cannot.

Reading is pulled by the consumer: records are read only when ``batches()`` is
asked for the next batch, so a slow consumer never makes this process buffer
without bound. The kernel's ring buffer is the buffer; when it overruns, the
next read fails with EPIPE, reading resumes at the oldest record still there,
and the gap in sequence numbers is added to ``stats.lost``.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import os
import re
from collections import deque
from collections.abc import AsyncGenerator, Callable
from dataclasses import dataclass
from typing import Literal

from healthwatch.aio.clock import Clock, SystemClock
from healthwatch.model.errors import HealthwatchError
from healthwatch.problems.logmonitor.source import Batch, SourceStats

__all__ = ["DEFAULT_PATH", "MAX_MESSAGE", "KmsgRecord", "KmsgSource", "parse_kmsg_record"]

DEFAULT_PATH = "/dev/kmsg"
MAX_MESSAGE = 16 * 1024
"""Characters kept of one message or dictionary value (the kernel's own limit is ~1 KiB)."""

_READ_SIZE = 8192  # CONSOLE_EXT_LOG_MAX: a smaller buffer makes the kernel fail the read (EINVAL)
_READ_CEILING = 1 << 20
_MAX_PENDING = 64 * 1024  # an unfinished record held between reads of a FIFO stand-in
_ERROR_PAUSE = 1.0  # seconds to wait after an unexpected read error before trying again
_PREFIX = re.compile(rb"(\d{1,10}),(\d{1,20}),(\d{1,20}),([^,;]*)(?:,[^;]*)?")
_ESCAPE = re.compile(rb"\\x([0-9a-fA-F]{2})")


@dataclass(frozen=True, slots=True, kw_only=True)
class KmsgRecord:
    """One record of the kernel log."""

    priority: int
    """Syslog severity, 0 (emerg) to 7 (debug)."""
    facility: int
    """Syslog facility: 0 for the kernel, 1 (user) for records written to /dev/kmsg."""
    sequence: int
    """The record's 64-bit sequence number; a gap means records were overwritten."""
    monotonic_us: int
    """Microseconds since boot when the record was logged."""
    timestamp: float
    """Wall time: boot time plus ``monotonic_us``."""
    continued: bool
    """Flag ``c`` (or ``+`` on old kernels): a fragment that the next record may continue."""
    message: str
    """Text with the kernel's ``\\xNN`` escapes undone, invalid UTF-8 replaced, capped."""
    fields: dict[str, str]
    """The record's dictionary (`` SUBSYSTEM=pci``, `` DEVICE=+pci:0000:00:01.0``)."""
    truncated: bool = False
    """The message was longer than the cap and was cut."""
    invalid_utf8: bool = False
    """The message was not valid UTF-8; replacement characters stand for the bad bytes."""


def _unescape(raw: bytes) -> bytes:
    if b"\\x" not in raw:
        return raw
    return _ESCAPE.sub(lambda match: bytes((int(match.group(1), 16),)), raw)


def _decode(raw: bytes) -> tuple[str, bool]:
    try:
        return raw.decode("utf-8"), False
    except UnicodeDecodeError:
        return raw.decode("utf-8", "replace"), True


def parse_kmsg_record(
    data: bytes, *, boot_time: float, max_message: int = MAX_MESSAGE
) -> KmsgRecord | None:
    """Parse ``pri_fac,seq,usec,flags[,...];message\\n[ KEY=value\\n...]``; None if malformed."""
    prefix, separator, rest = data.partition(b";")
    match = _PREFIX.fullmatch(prefix) if separator else None
    if match is None:
        return None
    level, sequence, usec, flags = match.groups()
    text, _, dictionary = rest.partition(b"\n")
    message, invalid = _decode(_unescape(text))
    truncated = len(message) > max_message
    fields: dict[str, str] = {}
    for line in dictionary.split(b"\n"):
        key, equals, value = line[1:].partition(b"=")
        if line.startswith(b" ") and equals and key:
            fields[_decode(_unescape(key))[0]] = _decode(_unescape(value))[0][:max_message]
    return KmsgRecord(
        priority=int(level) & 7,
        facility=int(level) >> 3,
        sequence=int(sequence),
        monotonic_us=int(usec),
        timestamp=boot_time + int(usec) / 1e6,
        continued=flags[:1] in (b"c", b"+"),
        message=message[:max_message] if truncated else message,
        fields=fields,
        truncated=truncated,
        invalid_utf8=invalid,
    )


def _split_records(buffer: bytes) -> tuple[list[bytes], bytes]:
    """Cut what one read returned into whole records and an unfinished tail.

    ``/dev/kmsg`` returns exactly one record per read; a FIFO standing in for it
    (tests, a captured kernel log) may return several, or part of one.
    """
    records: list[bytes] = []
    start = 0
    newline = buffer.find(b"\n")
    while newline != -1:
        after = newline + 1
        if buffer[after : after + 1] == b" ":  # a dictionary line of the same record follows
            newline = buffer.find(b"\n", after)
            continue
        records.append(buffer[start:after])
        start = after
        newline = buffer.find(b"\n", start)
    return records, buffer[start:]


def boot_time_of(host_root: str = "/", clock: Clock | None = None) -> float:
    """Wall time of boot: now minus ``/proc/uptime`` (to 10 ms), else ``/proc/stat`` btime (1 s).

    Both count time spent suspended, which the kernel's record timestamps do not:
    after a suspend, records look older than they are by the time slept.
    """
    clock = clock or SystemClock()
    proc = os.path.join(host_root, "proc")
    with (
        contextlib.suppress(OSError, ValueError, IndexError),
        open(os.path.join(proc, "uptime"), encoding="ascii") as uptime,
    ):
        return clock.time() - float(uptime.read().split()[0])
    with (
        contextlib.suppress(OSError, ValueError, IndexError),
        open(os.path.join(proc, "stat"), encoding="ascii") as stat,
    ):
        for line in stat:
            if line.startswith("btime "):
                return float(line.split()[1])
    raise HealthwatchError(f"kmsg: cannot tell the boot time from {proc}/uptime or {proc}/stat")


class KmsgSource:
    """Records of the kernel log as batches, read without blocking the event loop.

    ``path`` is opened as given: ``/dev/kmsg`` is the same device in every mount
    namespace, so only the ``/proc`` files that give the boot time are looked up
    under ``host_root``. ``read`` is the system call used (``os.read``); tests pass
    a wrapper to make a read fail as the kernel does under overrun.
    """

    def __init__(
        self,
        path: str = DEFAULT_PATH,
        *,
        host_root: str = "/",
        start: Literal["start", "end"] = "end",
        boot_time: float | None = None,
        batch_max: int = 1000,
        max_message: int = MAX_MESSAGE,
        clock: Clock | None = None,
        read: Callable[[int, int], bytes] = os.read,
    ) -> None:
        if start not in ("start", "end"):
            raise ValueError(f"kmsg start must be 'start' or 'end', got {start!r}")
        if batch_max < 1 or max_message < 1:
            raise ValueError("kmsg batch_max and max_message must be at least 1")
        self.name = "kmsg" if path == DEFAULT_PATH else f"kmsg {path}"
        self.stats = SourceStats()
        self._path = path
        self._host_root = host_root
        self._start = start
        self._boot_time = boot_time
        self._batch_max = batch_max
        self._max_message = max_message
        self._clock = clock or SystemClock()
        self._read = read
        self._read_size = _READ_SIZE
        self._fd: int | None = None
        self._pending = b""
        self._ready: deque[bytes] = deque()  # whole records read but not yet parsed
        self._last_sequence: int | None = None
        self._waiter: asyncio.Future[None] | None = None

    async def open(self) -> None:
        """Open the device (non-blocking) and, with ``start="end"``, skip the records there now."""
        if self._fd is not None:
            return
        if self._boot_time is None:
            self._boot_time = boot_time_of(self._host_root, self._clock)
        try:
            fd = os.open(self._path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
        except OSError as error:
            raise HealthwatchError(
                f"kmsg: cannot open {self._path}: {error.strerror or error}"
            ) from error
        if self._start == "end":
            with contextlib.suppress(OSError):  # a FIFO has no history to skip (ESPIPE)
                os.lseek(fd, 0, os.SEEK_END)
        self._fd = fd

    async def batches(self) -> AsyncGenerator[Batch, None]:
        """Yield the records available now (up to ``batch_max``), then wait for more.

        Ends only at end of file, which ``/dev/kmsg`` never reaches (a FIFO does).
        """
        if self._fd is None:
            raise HealthwatchError(f"{self.name}: batches() called before open()")
        while (fd := self._fd) is not None:
            lines: list[str] = []
            stamps: list[float] = []
            state = self._drain(fd, lines, stamps)
            if lines:
                yield Batch(lines=lines, timestamps=stamps)
            elif state == "eof":
                return
            elif state == "error":
                await asyncio.sleep(_ERROR_PAUSE)
            else:
                await self._readable(fd)

    def _drain(self, fd: int, lines: list[str], stamps: list[float]) -> str:
        """Read records into ``lines`` until none is left or the batch is full."""
        while len(lines) < self._batch_max:
            if self._ready:  # records of a read that filled the previous batch
                self._take(self._ready.popleft(), lines, stamps)
                continue
            try:
                data = self._read(fd, self._read_size)
            except BlockingIOError:
                return "empty"
            except BrokenPipeError:
                self.stats.extra["overruns"] = self.stats.extra.get("overruns", 0) + 1
                self.stats.last_error = "kmsg ring buffer overrun: records were overwritten"
                continue
            except OSError as error:
                if error.errno == errno.EINVAL and self._read_size < _READ_CEILING:
                    self._read_size *= 2  # a record longer than any kernel we know writes
                    continue
                self.stats.errors += 1
                self.stats.last_error = f"reading {self._path}: {error.strerror or error}"
                return "error"
            if not data:
                if self._pending:
                    self._ready.append(self._pending)
                    self._pending = b""
                    continue
                return "eof"
            self.stats.bytes += len(data)
            records, self._pending = _split_records(self._pending + data)
            self._ready.extend(records)
            if len(self._pending) > _MAX_PENDING:
                self._malformed(self._pending)
                self._pending = b""
        return "full"

    def _take(self, raw: bytes, lines: list[str], stamps: list[float]) -> None:
        boot_time = self._boot_time or 0.0  # set by open()
        record = parse_kmsg_record(raw, boot_time=boot_time, max_message=self._max_message)
        if record is None:
            self._malformed(raw)
            return
        last = self._last_sequence
        if last is not None and record.sequence > last + 1:
            self.stats.lost += record.sequence - last - 1
            self.stats.last_error = (
                f"kmsg ring buffer overrun: {record.sequence - last - 1} records lost "
                f"before sequence {record.sequence}"
            )
        self._last_sequence = record.sequence
        self.stats.lines += 1
        self.stats.truncated += record.truncated
        self.stats.decode_errors += record.invalid_utf8
        lines.append(record.message)
        stamps.append(record.timestamp)

    def _malformed(self, raw: bytes) -> None:
        self.stats.errors += 1
        self.stats.last_error = f"malformed kmsg record: {raw[:80]!r}"

    async def _readable(self, fd: int) -> None:
        loop = asyncio.get_running_loop()
        waiter: asyncio.Future[None] = loop.create_future()
        self._waiter = waiter

        def ready() -> None:
            if not waiter.done():
                waiter.set_result(None)

        loop.add_reader(fd, ready)
        try:
            await waiter
        finally:
            self._waiter = None
            if self._fd == fd:
                loop.remove_reader(fd)

    async def close(self) -> None:
        """Close the device; a ``batches()`` waiting for records ends."""
        fd, self._fd = self._fd, None
        if fd is None:
            return
        asyncio.get_running_loop().remove_reader(fd)
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)
        os.close(fd)
