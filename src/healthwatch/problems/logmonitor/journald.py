"""Entries of the systemd journal, read through ``journalctl --output=json --follow``.

Hosts that log only to journald have no ``kern.log`` to follow (NVSentinel #348:
Xid detection silently absent), and reading journal files directly needs
libsystemd (node-problem-detector builds it in with cgo). Running ``journalctl``
keeps this package on the standard library; its JSON output carries each entry's
wall time (``__REALTIME_TIMESTAMP``) and cursor.

The cursor of the last entry handed to the consumer is written to ``cursor_file``
(atomically: temporary file, then ``os.replace``) once the consumer asks for the
next batch or closes the source, so a restart of this process resumes right
after it, neither losing nor repeating entries. When journalctl exits it is
started again, with exponential backoff, from that cursor. Note that
``--follow`` makes journalctl show the current boot only.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
from collections.abc import AsyncGenerator, Sequence
from pathlib import Path
from typing import Any

from healthwatch.aio.backoff import Backoff
from healthwatch.aio.clock import Clock, SystemClock
from healthwatch.model.errors import HealthwatchError
from healthwatch.problems.logmonitor.source import Batch, SourceStats

__all__ = ["MAX_ENTRY", "JournaldSource"]

MAX_ENTRY = 4 << 20
"""Bytes of one JSON entry; a longer entry is skipped and counted as an error."""
_READ = 1 << 16
_STDERR_CAP = 4096


class JournaldSource:
    """Journal entries as batches of their ``MESSAGE``; see the module docstring."""

    def __init__(
        self,
        *,
        identifiers: Sequence[str] = (),
        cursor_file: Path | None,
        journalctl: str = "journalctl",
        directory: str | None = None,
        since: float | None = None,
        max_line: int = 64 * 1024,
        backoff: Backoff | None = None,
        stop_timeout: float = 5.0,
        clock: Clock | None = None,
    ) -> None:
        if max_line < 1 or stop_timeout <= 0:
            raise ValueError("journald max_line and stop_timeout must be positive")
        self.name = "journald" + (f" {','.join(identifiers)}" if identifiers else "")
        self.stats = SourceStats()
        self._identifiers = tuple(identifiers)
        self._cursor_file = cursor_file
        self._journalctl = journalctl
        self._directory = directory
        self._since = since
        self._started: float | None = None
        self._max_line = max_line
        self._backoff = backoff or Backoff(initial=1.0, maximum=60.0)
        self._stop_timeout = stop_timeout
        self._clock = clock or SystemClock()
        self._executable = ""
        self._cursor: str | None = None  # last entry read; handed over in the batch being read
        self._saved: str | None = None  # what cursor_file holds
        self._proc: asyncio.subprocess.Process | None = None
        self._stderr = bytearray()
        self._stderr_task: asyncio.Task[None] | None = None
        self._buffer = bytearray()
        self._skipping = False  # inside an entry longer than MAX_ENTRY
        self._reading = False
        self._delay = 0.0
        self._unconfirmed = False  # the cursor came from the file and no entry followed it yet
        self._closed = False

    def command(self) -> list[str]:
        """The argv journalctl starts with now: after the cursor once there is one."""
        argv = [self._executable or self._journalctl, "--output=json", "--follow", "--no-pager"]
        argv.append("--all")  # fields over 4 KiB would be printed as null otherwise
        if self._directory is not None:
            argv.append(f"--directory={self._directory}")
        if self._cursor is not None:
            argv.append(f"--after-cursor={self._cursor}")
        elif (since := self._since if self._since is not None else self._started) is not None:
            argv.append(f"--since=@{since:.6f}")
        else:
            argv.append("--lines=0")
        argv.extend(f"SYSLOG_IDENTIFIER={identifier}" for identifier in self._identifiers)
        return argv

    async def open(self) -> None:
        """Find journalctl, load the saved cursor and start following."""
        if self._proc is not None:
            return
        executable = shutil.which(self._journalctl)
        if executable is None:
            raise HealthwatchError(
                f"journald: {self._journalctl!r} not found or not executable "
                "(journalctl comes with systemd)"
            )
        if self._directory is not None and not await asyncio.to_thread(
            os.path.isdir, self._directory
        ):
            raise HealthwatchError(f"journald: journal directory {self._directory} does not exist")
        self._executable = executable
        if self._cursor_file is not None:
            self._saved = self._cursor = await asyncio.to_thread(_read_cursor, self._cursor_file)
            self._unconfirmed = self._cursor is not None
        argv = self.command()
        self._started = self._clock.time()  # a restart before the first entry resumes from here
        try:
            await self._spawn(argv)
        except OSError as error:
            raise HealthwatchError(f"journald: cannot start {executable}: {error}") from error

    async def _spawn(self, argv: list[str]) -> None:
        self._stderr.clear()
        self._buffer.clear()
        self._skipping = False
        proc = await asyncio.create_subprocess_exec(
            *argv,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            start_new_session=True,  # a Ctrl-C meant for us does not kill it before we can
        )
        self._stderr_task = asyncio.create_task(
            self._collect_stderr(_pipe(proc.stderr)), name=f"{self.name} stderr"
        )
        if self._closed:  # closed while the process was being started
            await self._reap(proc, terminate=True)
            return
        self._proc = proc

    async def _collect_stderr(self, stream: asyncio.StreamReader) -> None:
        while chunk := await stream.read(_READ):
            self._stderr += chunk
            del self._stderr[:-_STDERR_CAP]

    async def batches(self) -> AsyncGenerator[Batch, None]:
        """Yield the entries journalctl prints, restarting it when it exits."""
        if self._proc is None:
            raise HealthwatchError(f"{self.name}: batches() called before open()")
        task = asyncio.current_task()
        while not self._closed:
            # A cancellation that arrived as a timeout fired can be swallowed by the timeout
            # (Python 3.11); a pending one must still end the loop, or cancel() never returns.
            if task is not None and task.cancelling():
                raise asyncio.CancelledError
            proc = self._running()
            if proc is None:
                await self._restart()
                continue
            self._reading = True
            try:
                chunk = await _pipe(proc.stdout).read(_READ)
            finally:
                self._reading = False
            if self._is_closed():
                await self._discard_output(proc)
                return
            if not chunk:
                await self._exited(proc)
                continue
            self.stats.bytes += len(chunk)
            lines: list[str] = []
            stamps: list[float] = []
            self._parse(chunk, lines, stamps)
            if lines:
                yield Batch(lines=lines, timestamps=stamps)
                await self._save(self._cursor)

    def _running(self) -> asyncio.subprocess.Process | None:
        return self._proc  # read through a call: other coroutines change it across awaits

    def _is_closed(self) -> bool:
        return self._closed

    async def _restart(self) -> None:
        await asyncio.sleep(self._delay)
        if self._closed:
            return
        try:
            await self._spawn(self.command())
        except OSError as error:
            self.stats.errors += 1
            self.stats.last_error = f"cannot start {self._executable}: {error}"
            self._delay = self._backoff.failure()
        else:
            self.stats.reopens += 1

    async def _exited(self, proc: asyncio.subprocess.Process) -> None:
        self._proc = None
        status = await self._reap(proc, terminate=False)
        tail = self._stderr.decode("utf-8", "replace").strip()
        self.stats.errors += 1
        self.stats.last_error = f"journalctl exited with status {status}" + (
            f": {tail}" if tail else ""
        )
        if self._unconfirmed and "cursor" in tail.lower():  # a saved cursor it cannot use
            self._cursor = None
            self._unconfirmed = False
            self.stats.last_error += f" (the saved cursor in {self._cursor_file} is ignored)"
        self._delay = self._backoff.failure()

    def _parse(self, chunk: bytes, lines: list[str], stamps: list[float]) -> None:
        buffer = self._buffer
        buffer += chunk
        start = 0
        while (newline := buffer.find(b"\n", start)) != -1:
            if self._skipping:
                self._skipping = False
            else:
                self._entry(bytes(buffer[start:newline]), lines, stamps)
            start = newline + 1
        del buffer[:start]
        if len(buffer) > MAX_ENTRY:
            if not self._skipping:
                self.stats.errors += 1
                self.stats.last_error = f"journal entry longer than {MAX_ENTRY} bytes skipped"
            self._skipping = True
            buffer.clear()

    def _entry(self, line: bytes, lines: list[str], stamps: list[float]) -> None:
        if not line.strip():
            return
        try:
            entry: Any = json.loads(line)
            message = entry.get("MESSAGE")
            if isinstance(message, list):  # not valid UTF-8 (or binary): a list of byte values
                raw = bytes(message)
                try:
                    message = raw.decode("utf-8")
                except UnicodeDecodeError:
                    message = raw.decode("utf-8", "replace")
                    self.stats.decode_errors += 1
        except (ValueError, TypeError, AttributeError):
            self.stats.errors += 1
            self.stats.last_error = f"journalctl printed an invalid entry: {line[:80]!r}"
            return
        if message is None:  # absent, or a field journalctl could not show
            self.stats.extra["empty_messages"] = self.stats.extra.get("empty_messages", 0) + 1
        text = str(message or "").rstrip("\r\n")
        if len(text) > self._max_line:
            text = text[: self._max_line]
            self.stats.truncated += 1
        try:
            stamp = int(entry.get("__REALTIME_TIMESTAMP")) / 1e6
        except (TypeError, ValueError):
            stamp = self._clock.time()
        cursor = entry.get("__CURSOR")
        if isinstance(cursor, str) and cursor:
            self._cursor = cursor
            self._unconfirmed = False
        self._backoff.success()
        self.stats.lines += 1
        lines.append(text)
        stamps.append(stamp)

    async def _save(self, cursor: str | None) -> None:
        if self._cursor_file is None or cursor is None or cursor == self._saved:
            return
        try:
            await asyncio.to_thread(_write_cursor, self._cursor_file, cursor)
        except OSError as error:
            self.stats.errors += 1
            self.stats.last_error = f"cannot save the cursor in {self._cursor_file}: {error}"
        else:
            self._saved = cursor

    async def _reap(self, proc: asyncio.subprocess.Process, *, terminate: bool) -> int | None:
        """Stop the process (SIGTERM, then SIGKILL after ``stop_timeout``) and collect it."""
        if terminate and proc.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                proc.terminate()
        try:
            await asyncio.wait_for(proc.wait(), self._stop_timeout)
        except TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                proc.kill()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(proc.wait(), self._stop_timeout)
        if not self._reading:
            await self._discard_output(proc)
        task, self._stderr_task = self._stderr_task, None
        if task is not None:
            try:
                await asyncio.wait_for(task, self._stop_timeout)
            except TimeoutError:
                self.stats.errors += 1  # an inherited stderr kept open: give up on it
        return proc.returncode

    async def _discard_output(self, proc: asyncio.subprocess.Process) -> None:
        """Read stdout to its end, so that the pipe and the process transport close."""
        stdout = _pipe(proc.stdout)
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(self._stop_timeout):
                while await stdout.read(_READ):
                    pass

    async def close(self) -> None:
        """Stop journalctl (no zombie is left) and save the cursor of the last batch."""
        self._closed = True
        proc, self._proc = self._proc, None
        if proc is not None:
            await self._reap(proc, terminate=True)
        await self._save(self._cursor)


def _pipe(stream: asyncio.StreamReader | None) -> asyncio.StreamReader:
    if stream is None:
        raise AssertionError("journalctl was started without its output piped")
    return stream


def _read_cursor(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8").strip() or None
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as error:
        raise HealthwatchError(f"journald: cannot read the cursor file {path}: {error}") from error


def _write_cursor(path: Path, cursor: str) -> None:
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_text(cursor + "\n", encoding="utf-8")
    os.replace(temporary, path)
