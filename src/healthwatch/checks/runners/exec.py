"""The ``exec`` check runner: run a local command once, bounded in time and output.

Custom checks are plain programs that follow the plugin protocol shared with
node-problem-detector's custom plugins: exit 0 means ``ok``, exit 1 means
``failing``, anything else (or no exit at all) means ``unknown``; stdout
carries a short message. The guarantees that keep such programs from hurting
the agent (no shell, minimal environment, process-group kill on timeout,
capped output) live in :mod:`healthwatch.aio.processes`; this module turns a
finished command into a :class:`~healthwatch.checks.runners.base.Probe`.

Like every runner, :func:`run_exec` never raises: a command that cannot be
started is a probe with ``reached=False`` and an error naming the path.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import KW_ONLY, dataclass
from types import MappingProxyType

from healthwatch.aio.processes import (
    DEFAULT_OUTPUT_CAP,
    KILL_GRACE,
    Command,
    PluginStatus,
    plugin_status,
    run_command,
)
from healthwatch.checks.runners.base import Probe

__all__ = [
    "DEFAULT_OUTPUT_CAP",
    "KILL_GRACE",
    "ExecTarget",
    "PluginStatus",
    "plugin_status",
    "run_exec",
]


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

    def command(self) -> Command:
        """The command to start."""
        return Command(argv=self.argv, env=self.env, cwd=self.cwd, output_cap=self.output_cap)


async def run_exec(target: ExecTarget, *, timeout: float) -> Probe:  # noqa: ASYNC109 - contract
    """Run ``target`` once within ``timeout`` seconds; never raises."""
    result = await run_command(target.command(), timeout=timeout)
    if not result.started:
        return Probe(reached=False, duration=result.duration, error=result.error)
    return Probe(
        reached=True,
        duration=result.duration,
        error=f"timed out after {timeout:g}s" if result.timed_out else "",
        context=MappingProxyType(
            {
                "exit_code": result.exit_code,
                "stdout": result.stdout.decode("utf-8", errors="replace"),
                "stderr": result.stderr.decode("utf-8", errors="replace"),
                "timed_out": result.timed_out,
                "latency": result.duration,
                "status": plugin_status(result.exit_code).value,
            }
        ),
    )
