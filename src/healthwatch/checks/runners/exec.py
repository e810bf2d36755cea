"""The ``exec`` check runner: run a local command once, bounded in time and output.

Custom checks are plain programs that follow the plugin protocol shared with
node-problem-detector's custom plugins: exit 0 means ``ok``, exit 1 means
``failing``, anything else (or no exit at all) means ``unknown``; stdout
carries a short message. This module exists so such programs can run from
inside the agent without ever hurting it:

* never a shell: ``argv`` is executed directly, so config text is never parsed
  by ``sh``;
* a minimal environment (``PATH``, ``LANG`` plus what the check names), so the
  agent's own secrets are not inherited by accident;
* a new session, hence a new process group, so a timeout kills the command and
  everything it forked (SIGTERM, then SIGKILL after :data:`KILL_GRACE`), and
  leftovers in the group are killed when the command exits;
* stdout and stderr are drained concurrently and only ``output_cap`` bytes of
  each are kept; the rest is read and discarded, so a chatty child never
  blocks on a full pipe.

Like every runner, :func:`run_exec` never raises: a command that cannot be
started is a :class:`~healthwatch.checks.runners.base.Probe` with
``reached=False`` and an error naming the path.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import time
from collections.abc import Mapping, Sequence
from dataclasses import KW_ONLY, dataclass
from enum import StrEnum
from types import MappingProxyType
from typing import Final

from healthwatch.checks.runners.base import Probe

__all__ = ["DEFAULT_OUTPUT_CAP", "KILL_GRACE", "ExecTarget", "PluginStatus", "run_exec"]

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
    """The plugin protocol's verdict, from the exit code."""

    OK = "ok"
    """Exit code 0."""
    FAILING = "failing"
    """Exit code 1."""
    UNKNOWN = "unknown"
    """Any other exit code, death by signal, or a timeout."""


@dataclass(frozen=True, slots=True)
class ExecTarget:
    """What to run for one ``exec`` check."""

    argv: Sequence[str]
    """Program and arguments, executed directly (never through a shell)."""
    _: KW_ONLY
    env: Mapping[str, str] | None = None
    """Variables added to the minimal environment (``PATH``, ``LANG``); nothing else inherited."""
    cwd: str | None = None
    """Working directory; the agent's own when None."""
    output_cap: int = DEFAULT_OUTPUT_CAP
    """Bytes kept of stdout and of stderr each; the rest is read and discarded."""


def plugin_status(exit_code: int | None) -> PluginStatus:
    """Map an exit code (None: did not exit in time) to the plugin protocol's status."""
    if exit_code == 0:
        return PluginStatus.OK
    if exit_code == 1:
        return PluginStatus.FAILING
    return PluginStatus.UNKNOWN


def _environment(extra: Mapping[str, str] | None) -> dict[str, str]:
    env = {
        "PATH": os.environ.get("PATH") or DEFAULT_PATH,
        "LANG": os.environ.get("LANG") or "C.UTF-8",
    }
    env.update(extra or {})
    return env


async def _drain(stream: asyncio.StreamReader | None, cap: int) -> bytes:
    """Read ``stream`` to EOF, keeping the first ``cap`` bytes."""
    if stream is None:
        return b""
    kept = bytearray()
    while chunk := await stream.read(_CHUNK):
        if len(kept) < cap:
            kept += chunk[: cap - len(kept)]
    return bytes(kept)


def _signal_group(pgid: int, sig: signal.Signals) -> None:
    # The group may already be empty (ProcessLookupError); nothing else can go wrong
    # for a group we created, but a probe must never raise.
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)


async def _exited(proc: asyncio.subprocess.Process, within: float) -> bool:
    """Wait up to ``within`` seconds for the process itself to exit; True when it has.

    ``Process.wait()`` is not used: on Python 3.11 it also waits for every pipe to
    close, which a grandchild holding stdout can postpone forever.
    """
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while proc.returncode is None:
        left = deadline - loop.time()
        if left <= 0:
            return False
        await asyncio.sleep(min(_POLL, left))
    return True


async def _stop_group(proc: asyncio.subprocess.Process) -> None:
    """SIGTERM the group, give the leader :data:`KILL_GRACE`, then SIGKILL the group."""
    pgid = proc.pid  # start_new_session makes the child its own group leader
    if proc.returncode is None:
        _signal_group(pgid, signal.SIGTERM)
        await _exited(proc, KILL_GRACE)
    _signal_group(pgid, signal.SIGKILL)
    await _exited(proc, KILL_GRACE)


async def _start(target: ExecTarget) -> asyncio.subprocess.Process | str:
    """The started process, or why it could not be started."""
    if not target.argv:
        return "empty argv: nothing to execute"
    program = target.argv[0]
    try:
        return await asyncio.create_subprocess_exec(
            *target.argv,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env=_environment(target.env),
            cwd=target.cwd,
            start_new_session=True,
        )
    except FileNotFoundError as e:
        if target.cwd is not None and e.filename == target.cwd:
            return f"working directory not found: {target.cwd}"
        return f"executable not found: {program}"
    except PermissionError:
        return f"permission denied: cannot execute {program}"
    except OSError as e:
        return f"cannot execute {program}: {e.strerror or e}"


def _kept(task: asyncio.Task[bytes]) -> bytes:
    """What a reader kept, or nothing when it was cancelled or failed."""
    if not task.done() or task.cancelled() or task.exception() is not None:
        return b""
    return task.result()


async def run_exec(target: ExecTarget, *, timeout: float) -> Probe:  # noqa: ASYNC109 - contract
    """Run ``target`` once within ``timeout`` seconds; never raises."""
    started = time.monotonic()
    proc = await _start(target)
    if isinstance(proc, str):
        return Probe(reached=False, duration=time.monotonic() - started, error=proc)

    readers = (
        asyncio.create_task(_drain(proc.stdout, target.output_cap), name="exec-stdout"),
        asyncio.create_task(_drain(proc.stderr, target.output_cap), name="exec-stderr"),
    )
    timed_out = False
    try:
        timed_out = not await _exited(proc, timeout)
        duration = time.monotonic() - started
        # Also after a normal exit: whatever the command left running in its group
        # (a daemonised grandchild holding our pipes) is not allowed to outlive the check.
        await _stop_group(proc)
        _, pending = await asyncio.wait(readers, timeout=DRAIN_GRACE)
        for task in pending:  # a process escaped the group (setsid) and holds a pipe
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
    finally:
        if proc.returncode is None:  # cancelled: leave no process behind
            _signal_group(proc.pid, signal.SIGKILL)
        for task in readers:
            task.cancel()

    stdout, stderr = (_kept(task) for task in readers)
    exit_code = None if timed_out else proc.returncode
    return Probe(
        reached=True,
        duration=duration,
        error=f"timed out after {timeout:g}s" if timed_out else "",
        context=MappingProxyType(
            {
                "exit_code": exit_code,
                "stdout": stdout.decode("utf-8", errors="replace"),
                "stderr": stderr.decode("utf-8", errors="replace"),
                "timed_out": timed_out,
                "latency": duration,
                "status": plugin_status(exit_code).value,
            }
        ),
    )
