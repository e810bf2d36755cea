"""Following a log file like ``tail -F``, and reading a finite stream for replays.

Many hosts still write the kernel and system logs to files (``/var/log/kern.log``,
``/var/log/messages``) that logrotate renames or truncates under the reader, and
the standard library has no inotify. This source polls: it reads in large chunks
on a worker thread so the event loop never waits on the disk, and at the end of
the data it looks at the path again to notice

* rotation by rename (another file at the path): the old file is read to its end,
  its unfinished last line is emitted, then the new file is read from its start;
* copy-truncate (the file is shorter than what was read): read again from 0;
* deletion: keep the old file, poll until a file appears at the path again.

Lines are numbered exactly within each file (``Batch.first_lineno``), and
:func:`read_batches` turns a finite binary stream (a file, stdin) into the same
batches for ``healthwatch replay``. A copy-truncate followed by enough writes to
pass the old size before the next poll cannot be told from growth; ``tail -F``
has the same blind spot.
"""

from __future__ import annotations

import asyncio
import errno
import os
import stat
import threading
from collections.abc import AsyncGenerator, Callable
from typing import Literal, Protocol

from healthwatch.model.errors import HealthwatchError
from healthwatch.problems.logmonitor.source import Batch, SourceStats

__all__ = ["CHUNK", "MAX_LINE", "ByteStream", "FileSource", "read_batches"]

MAX_LINE = 64 * 1024
"""Bytes kept of one line; the rest of a longer line is skipped."""
CHUNK = 1 << 20
"""Bytes read at once."""


class ByteStream(Protocol):
    """A blocking binary stream: an open file, ``sys.stdin.buffer``."""

    def read(self, size: int = -1, /) -> bytes | None:
        """Up to ``size`` bytes; empty at end of file."""


class _LineCutter:
    """Bytes in, lines out: the unfinished last line is held, long lines cut, CRLF tolerated."""

    __slots__ = ("_max", "_partial", "_skipping", "_stats", "lineno")

    def __init__(self, max_line: int, stats: SourceStats) -> None:
        self._max = max_line
        self._stats = stats
        self._partial = b""
        self._skipping = False  # the current line passed the cap and was emitted already
        self.lineno = 0
        """Lines emitted so far from the current file."""

    def feed(self, data: bytes, out: list[str]) -> None:
        pieces = data.split(b"\n")
        last = pieces.pop()
        for piece in pieces:
            if self._skipping:
                self._skipping = False
            else:
                self._emit(self._partial + piece if self._partial else piece, out)
            self._partial = b""
        if self._skipping:
            return
        partial = self._partial + last
        if len(partial) > self._max and not (
            len(partial) == self._max + 1 and partial.endswith(b"\r")
        ):
            self._emit(partial, out)  # cut now, so that memory stays bounded
            self._skipping = True
            partial = b""
        self._partial = partial

    def flush(self, out: list[str]) -> None:
        """Emit the unfinished last line (end of a replay, or of a rotated file)."""
        if self._partial and not self._skipping:
            self._emit(self._partial, out)
        self._partial = b""
        self._skipping = False

    def reset(self) -> None:
        """Start on another file: forget the unfinished line and the numbering."""
        self._partial = b""
        self._skipping = False
        self.lineno = 0

    def _emit(self, line: bytes, out: list[str]) -> None:
        if line.endswith(b"\r"):
            line = line[:-1]
        if len(line) > self._max:
            end = self._max  # back off to the start of a UTF-8 sequence the cap would split
            while end > self._max - 3 and end > 0 and line[end] & 0xC0 == 0x80:
                end -= 1
            line = line[:end]
            self._stats.truncated += 1
        try:
            text = line.decode("utf-8")
        except UnicodeDecodeError:
            text = line.decode("utf-8", "replace")
            self._stats.decode_errors += 1
        out.append(text)
        self.lineno += 1
        self._stats.lines += 1


def _end_of_last_line(fd: int, chunk: int) -> tuple[int, int]:
    """Offset just after the file's last newline, and how many newlines come before it."""
    size = os.fstat(fd).st_size
    offset = count = end = 0
    while offset < size:
        data = os.pread(fd, min(chunk, size - offset), offset)
        if not data:
            break
        newlines = data.count(b"\n")
        if newlines:
            count += newlines
            end = offset + data.rindex(b"\n") + 1
        offset += len(data)
    return end, count


class FileSource:
    """A log file followed across rotation; see the module docstring."""

    def __init__(
        self,
        path: str,
        *,
        host_root: str = "/",
        start: Literal["start", "end"] = "end",
        poll_interval: float = 0.5,
        max_line: int = MAX_LINE,
        chunk: int = CHUNK,
    ) -> None:
        if start not in ("start", "end"):
            raise ValueError(f"file start must be 'start' or 'end', got {start!r}")
        if poll_interval <= 0 or max_line < 1 or chunk < 1:
            raise ValueError("file poll_interval, max_line and chunk must be positive")
        self.name = f"file {path}"
        self.stats = SourceStats()
        self._path = path if host_root in ("", "/") else os.path.join(host_root, path.lstrip("/"))
        self._start = start
        self._poll = poll_interval
        self._chunk = chunk
        self._cutter = _LineCutter(max_line, self.stats)
        self._lock = threading.Lock()  # one worker-thread step at a time, and close() after it
        self._fd: int | None = None
        self._identity = (0, 0)
        self._offset = 0
        self._ever_opened = False
        self._missing = False
        self._switch = False  # another file is at the path: finish this one, then change
        self._state: Literal["new", "open", "closed"] = "new"

    async def open(self) -> None:
        """Open the file (or start waiting for it); raise if even its directory is missing."""
        await asyncio.to_thread(self._open_first)

    def _open_first(self) -> None:
        with self._lock:
            if self._state != "new":
                return
            try:
                self._open_file(at_end=self._start == "end")
            except FileNotFoundError as error:
                directory = os.path.dirname(self._path) or "."
                if not os.path.isdir(directory):
                    raise HealthwatchError(
                        f"{self.name}: cannot follow {self._path}: directory {directory} "
                        "does not exist"
                    ) from error
                self._note_missing()
            except OSError as error:
                raise HealthwatchError(
                    f"{self.name}: cannot open {self._path}: {error.strerror or error}"
                ) from error
            self._state = "open"

    def _open_file(self, *, at_end: bool) -> None:
        # O_NONBLOCK: opening a FIFO must not wait for a writer
        fd = os.open(self._path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
        try:
            info = os.fstat(fd)
            if not stat.S_ISREG(info.st_mode):
                raise OSError(errno.EINVAL, "not a regular file")
            self._cutter.reset()
            self._offset, self._cutter.lineno = (
                _end_of_last_line(fd, self._chunk) if at_end else (0, 0)
            )
        except OSError:
            os.close(fd)
            raise
        self._fd = fd
        self._identity = (info.st_dev, info.st_ino)
        if self._ever_opened:
            self.stats.reopens += 1
        self._ever_opened = True
        if self._missing:
            self._missing = False
            self.stats.last_error = ""

    def _note_missing(self) -> None:
        if not self._missing:
            self._missing = True
            self.stats.extra["missing"] = self.stats.extra.get("missing", 0) + 1
            self.stats.last_error = f"waiting for {self._path}"

    def _fail(self, error: OSError) -> None:
        self.stats.errors += 1
        self.stats.last_error = f"reading {self._path}: {error.strerror or error}"

    async def batches(self) -> AsyncGenerator[Batch, None]:
        """Yield new lines as they are written, polling every ``poll_interval`` at the end."""
        if self._state != "open":
            raise HealthwatchError(f"{self.name}: batches() called before open() or after close()")
        while self._state == "open":
            batch, progressed = await asyncio.to_thread(self._step)
            if batch is not None:
                yield batch
            elif not progressed:
                await asyncio.sleep(self._poll)

    def _step(self) -> tuple[Batch | None, bool]:
        """Read one chunk, or look at the path at the end of the data; True when not idle."""
        with self._lock:
            if self._state != "open":
                return None, False
            if self._fd is None:
                try:
                    self._open_file(at_end=False)  # sets self._fd
                except FileNotFoundError:
                    self._note_missing()
                    return None, False
                except OSError as error:
                    self._fail(error)
                    return None, False
            lines: list[str] = []
            first = self._cutter.lineno + 1
            fd = self._fd
            if fd is None:
                return None, False
            try:
                data = os.pread(fd, self._chunk, self._offset)
            except OSError as error:
                self._fail(error)
                return None, False
            if data:
                self._offset += len(data)
                self.stats.bytes += len(data)
                self._cutter.feed(data, lines)
            elif self._switch:  # read to its end after the path moved on: change files
                self._cutter.flush(lines)
                self._switch = False
                self._close_file()
            else:
                return self._look_at_path(lines, first)
            return (Batch(lines=lines, first_lineno=first) if lines else None), True

    def _look_at_path(self, lines: list[str], first: int) -> tuple[Batch | None, bool]:
        try:
            info = os.stat(self._path)
        except FileNotFoundError:
            self._note_missing()  # deleted or renamed away: keep the old file, wait for a new one
            return None, False
        except OSError as error:
            self._fail(error)
            return None, False
        if (info.st_dev, info.st_ino) != self._identity:
            self._switch = True  # read the old file once more: it may have grown meanwhile
            return None, True
        if info.st_size < self._offset:  # copy-truncate
            self._cutter.flush(lines)
            self._cutter.reset()
            self._offset = 0
            self.stats.reopens += 1
            self.stats.extra["truncations"] = self.stats.extra.get("truncations", 0) + 1
            return (Batch(lines=lines, first_lineno=first) if lines else None), True
        return None, False

    def _close_file(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    async def close(self) -> None:
        """Close the file; a ``batches()`` in progress ends after its current step."""
        await asyncio.to_thread(self._close_sync)

    def _close_sync(self) -> None:
        with self._lock:
            self._state = "closed"
            self._close_file()


async def read_batches(
    stream: ByteStream,
    *,
    max_line: int = MAX_LINE,
    chunk: int = CHUNK,
    stats: SourceStats | None = None,
) -> AsyncGenerator[Batch, None]:
    """Yield the lines of a finite stream until its end, numbered from 1.

    Reads on a worker thread (``read1`` when the stream has it, so that a pipe's
    lines arrive as they are written); the last line is emitted even without a
    final newline. ``stats``, when given, receives the counters.
    """
    if max_line < 1 or chunk < 1:
        raise ValueError("max_line and chunk must be positive")
    cutter = _LineCutter(max_line, stats if stats is not None else SourceStats())
    read: Callable[[int], bytes | None] = getattr(stream, "read1", stream.read)
    while True:
        data = await asyncio.to_thread(read, chunk) or b""
        lines: list[str] = []
        first = cutter.lineno + 1
        if data:
            if stats is not None:
                stats.bytes += len(data)
            cutter.feed(data, lines)
        else:
            cutter.flush(lines)
        if lines:
            yield Batch(lines=lines, first_lineno=first)
        if not data:
            return
