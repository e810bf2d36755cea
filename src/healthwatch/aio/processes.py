"""Running a local command without ever letting it hurt the agent.

Check runners (``exec``, ``external``) and problem daemons (custom plugins, the
service monitor's ``systemctl``/``journalctl``/``crictl`` calls) all start
programs they do not control. They share these guarantees, kept in one place:

* never a shell: ``argv`` is executed directly, so config text is never parsed
  by ``sh``;
* a minimal environment (``PATH``, ``LANG`` plus what the caller names), so the
  agent's own secrets are not inherited by accident;
* a new session, hence a new process group, so a timeout kills the command and
  everything it forked (SIGTERM, then SIGKILL after :data:`KILL_GRACE`), and
  leftovers in the group are killed when the command exits;
* stdout and stderr are drained concurrently and only ``output_cap`` bytes of
  each are kept; the rest is read and discarded, so a chatty child never
  blocks on a full pipe.

:func:`run_command` runs a command to completion and never raises;
:class:`GroupProcess` is the lower-level handle for callers that supervise a
program while waiting for something else (a report over HTTP).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Final

from healthwatch.model.errors import HealthwatchError

__all__ = [
    "DEFAULT_OUTPUT_CAP",
    "KILL_GRACE",
    "Command",
    "CommandResult",
    "GroupProcess",
    "PluginStatus",
    "ProcessStartError",
    "plugin_status",
    "run_command",
]

DEFAULT_OUTPUT_CAP: Final = 64 * 1024
"""Bytes of stdout (and, separately, of stderr) kept by default."""
KILL_GRACE: Final = 1.0
"""Seconds between SIGTERM and SIGKILL to the process group on timeout."""
DRAIN_GRACE: Final = 1.0
"""Seconds to wait for the pipes to close once the group has been killed."""
DEFAULT_PATH: Final = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
"""``PATH`` given to commands when the agent itself has none."""
_CHUNK: Final = 64 * 1024
_POLL: Final = 0.01


class PluginStatus(StrEnum):
    """The plugin protocol's verdict from an exit code (node-problem-detector's custom plugins)."""

    OK = "ok"
    """Exit code 0."""
    FAILING = "failing"
    """Exit code 1."""
    UNKNOWN = "unknown"
    """Any other exit code, death by signal, or a timeout."""


def plugin_status(exit_code: int | None) -> PluginStatus:
    """Map an exit code (None: did not exit in time) to the plugin protocol's status."""
    if exit_code == 0:
        return PluginStatus.OK
    if exit_code == 1:
        return PluginStatus.FAILING
    return PluginStatus.UNKNOWN


class ProcessStartError(HealthwatchError):
    """A command could not be started; the message names the program or directory."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Command:
    """What to run."""

    argv: Sequence[str]
    """Program and arguments, executed directly (never through a shell)."""
    env: Mapping[str, str] | None = None
    """Variables added to the minimal environment (``PATH``, ``LANG``); nothing else inherited."""
    cwd: str | None = None
    """Working directory; the agent's own when None."""
    output_cap: int = DEFAULT_OUTPUT_CAP
    """Bytes kept of stdout and of stderr each; the rest is read and discarded."""


@dataclass(frozen=True, slots=True, kw_only=True)
class CommandResult:
    """How a command ended."""

    exit_code: int | None
    """Exit status (negative: killed by that signal); None when it did not exit in time."""
    stdout: bytes
    """The first ``output_cap`` bytes of standard output."""
    stderr: bytes
    """The first ``output_cap`` bytes of standard error."""
    timed_out: bool
    """The command was still running at its timeout and was killed."""
    duration: float
    """Seconds from start to exit (or to the timeout)."""
    stdout_truncated: bool = False
    """More than ``output_cap`` bytes were written to stdout."""
    stderr_truncated: bool = False
    """More than ``output_cap`` bytes were written to stderr."""
    error: str = ""
    """Why the command could not be started (then nothing else is meaningful)."""

    @property
    def started(self) -> bool:
        """True when the command ran at all."""
        return not self.error


def environment(extra: Mapping[str, str] | None) -> dict[str, str]:
    """The minimal environment a command gets: ``PATH``, ``LANG`` and ``extra``."""
    env = {
        "PATH": os.environ.get("PATH") or DEFAULT_PATH,
        "LANG": os.environ.get("LANG") or "C.UTF-8",
    }
    env.update(extra or {})
    return env


class _CappedReader:
    """Reads a pipe to EOF, keeping the first ``cap`` bytes and counting the rest."""

    def __init__(self, stream: asyncio.StreamReader | None, cap: int, name: str) -> None:
        self.kept = bytearray()
        self.total = 0
        self._cap = cap
        self.task = asyncio.create_task(self._drain(stream), name=name)

    async def _drain(self, stream: asyncio.StreamReader | None) -> None:
        if stream is None:
            return
        while chunk := await stream.read(_CHUNK):
            self.total += len(chunk)
            if len(self.kept) < self._cap:
                self.kept += chunk[: self._cap - len(self.kept)]

    @property
    def truncated(self) -> bool:
        return self.total > self._cap


def _signal_group(pgid: int, sig: signal.Signals) -> None:
    # The group may already be empty (ProcessLookupError); nothing else can go wrong
    # for a group we created, but a caller must never see an exception from cleanup.
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)


class GroupProcess:
    """A started command, leader of its own process group, with capped output readers."""

    def __init__(self, proc: asyncio.subprocess.Process, cap: int) -> None:
        self._proc = proc
        self._stdout = _CappedReader(proc.stdout, cap, f"process-{proc.pid}-stdout")
        self._stderr = _CappedReader(proc.stderr, cap, f"process-{proc.pid}-stderr")

    @classmethod
    async def start(cls, command: Command) -> GroupProcess:
        """Start ``command``; :class:`ProcessStartError` naming what is missing if it cannot."""
        if not command.argv:
            raise ProcessStartError("empty argv: nothing to execute")
        program = command.argv[0]
        try:
            proc = await asyncio.create_subprocess_exec(
                *command.argv,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
                env=environment(command.env),
                cwd=command.cwd,
                start_new_session=True,
            )
        except FileNotFoundError as e:
            if command.cwd is not None and e.filename == command.cwd:
                raise ProcessStartError(f"working directory not found: {command.cwd}") from None
            raise ProcessStartError(f"executable not found: {program}") from None
        except PermissionError:
            raise ProcessStartError(f"permission denied: cannot execute {program}") from None
        except OSError as e:
            raise ProcessStartError(f"cannot execute {program}: {e.strerror or e}") from None
        return cls(proc, command.output_cap)

    @property
    def pid(self) -> int:
        """The leader's pid, which is also the process group id."""
        return self._proc.pid

    @property
    def returncode(self) -> int | None:
        """The leader's exit status, None while it runs."""
        return self._proc.returncode

    async def exited(self, within: float) -> bool:
        """Wait up to ``within`` seconds for the leader to exit; True when it has.

        ``Process.wait()`` is not used: on Python 3.11 it also waits for every pipe to
        close, which a grandchild holding stdout can postpone forever.
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + within
        while self._proc.returncode is None:
            left = deadline - loop.time()
            if left <= 0:
                return False
            await asyncio.sleep(min(_POLL, left))
        return True

    async def stop_group(self) -> None:
        """SIGTERM the group, give the leader :data:`KILL_GRACE`, then SIGKILL the group.

        Also after a normal exit: whatever the command left running in its group (a
        daemonised grandchild holding our pipes) is not allowed to outlive it.
        """
        if self._proc.returncode is None:
            _signal_group(self.pid, signal.SIGTERM)
            await self.exited(KILL_GRACE)
        _signal_group(self.pid, signal.SIGKILL)
        await self.exited(KILL_GRACE)

    async def collect(self) -> tuple[bytes, bytes, bool, bool]:
        """Stop the group, then the output kept: (stdout, stderr, stdout cut, stderr cut)."""
        await self.stop_group()
        readers = (self._stdout.task, self._stderr.task)
        _, pending = await asyncio.wait(readers, timeout=DRAIN_GRACE)
        for task in pending:  # a process escaped the group (setsid) and holds a pipe
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
        out, err = self._stdout, self._stderr
        return bytes(out.kept), bytes(err.kept), out.truncated, err.truncated

    async def abandon(self) -> None:
        """Kill the group at once and stop reading (for cancellation paths)."""
        if self._proc.returncode is None:
            _signal_group(self.pid, signal.SIGKILL)
        for task in (self._stdout.task, self._stderr.task):
            task.cancel()
        await asyncio.gather(self._stdout.task, self._stderr.task, return_exceptions=True)


async def run_command(command: Command, *, timeout: float) -> CommandResult:  # noqa: ASYNC109
    """Run ``command`` once within ``timeout`` seconds; never raises (bar cancellation)."""
    started = time.monotonic()
    try:
        process = await GroupProcess.start(command)
    except ProcessStartError as error:
        return CommandResult(
            exit_code=None,
            stdout=b"",
            stderr=b"",
            timed_out=False,
            duration=time.monotonic() - started,
            error=str(error),
        )
    timed_out = False
    try:
        timed_out = not await process.exited(timeout)
        duration = time.monotonic() - started
        stdout, stderr, out_cut, err_cut = await process.collect()
    finally:
        await process.abandon()
    return CommandResult(
        exit_code=None if timed_out else process.returncode,
        stdout=stdout,
        stderr=stderr,
        timed_out=timed_out,
        duration=duration,
        stdout_truncated=out_cut,
        stderr_truncated=err_cut,
    )
