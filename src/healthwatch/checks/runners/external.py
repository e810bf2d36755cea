"""The ``external`` check runner: a Kuberhealthy-style check that reports in over HTTP.

Kuberhealthy check images do not answer probes; they are started with
``KH_REPORTING_URL``, ``KH_RUN_UUID``, ``KH_CHECK_RUN_DEADLINE`` and
``KH_POD_NAMESPACE`` (COMPAT 1.1) and ``POST`` their verdict back. Run outside a
cluster, the same images are plain programs, so this runner starts one as a
local process (with the exec runner's guarantees: no shell, a minimal
environment, its own process group, capped output) and waits for its report on
the :class:`~healthwatch.checks.reports.RunRegistry`.

Unlike Kuberhealthy v3, which leaves a silent pod running until a reaper finds
it, the process group is killed at the deadline, and also shortly after the
report when the program does not exit by itself (v2's "waiting for pod to
exit"), so a check can never pile up copies of itself. The reporting URL
carries the run uuid, so clients that send no ``kh-run-uuid`` header are still
identified. Like every runner, :func:`run_external` never raises.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Final

from healthwatch.aio.processes import Command, GroupProcess, ProcessStartError
from healthwatch.checks.reports import Report, RunRegistry
from healthwatch.checks.runners.base import Probe

__all__ = ["EXIT_GRACE", "TIMED_OUT", "ExternalTarget", "run_external"]

TIMED_OUT: Final = "timed out waiting for the check to report"
"""Kuberhealthy's wording for a run that never reported."""
EXIT_GRACE: Final = 2.0
"""Seconds a program may keep running after its report before its group is killed."""
REPORT_GRACE: Final = 0.2
"""Seconds to still wait for a report once the program has exited (the POST may be in flight)."""
STDERR_TAIL: Final = 500
"""Characters of stderr quoted in the error of a program that exited without reporting."""


@dataclass(frozen=True, slots=True)
class ExternalTarget:
    """What to start for one ``external`` check; no ``argv`` means the check runs elsewhere."""

    argv: Sequence[str] | None = None
    """Program and arguments, executed directly; None: only wait for a report."""
    env: Mapping[str, str] | None = None
    """Variables added to the minimal environment; the ``KH_*`` ones always win (as in v2/v3)."""
    namespace: str = "default"
    """Given to the check as ``KH_POD_NAMESPACE``."""


def _check_env(
    target: ExternalTarget, *, run_uuid: str, deadline: float, reporting_url: str
) -> dict[str, str]:
    env = dict(target.env or {})
    env.update(
        {
            "KH_REPORTING_URL": reporting_url,
            "KH_RUN_UUID": run_uuid,
            "KH_CHECK_RUN_DEADLINE": str(int(deadline)),
            "KH_POD_NAMESPACE": target.namespace,
        }
    )
    return env


def _probe(
    report: Report | None,
    *,
    started: float,
    opened_at: float,
    run_uuid: str,
    error: str,
    exit_code: int | None,
) -> Probe:
    return Probe(
        reached=report is not None,
        duration=time.monotonic() - started,
        error="" if report is not None else error,
        context=MappingProxyType(
            {
                "reported": report is not None,
                "ok": None if report is None else report.ok,
                "errors": [] if report is None else list(report.errors),
                "run_uuid": run_uuid,
                "latency": None if report is None else max(0.0, report.received_at - opened_at),
                "exit_code": exit_code,
            }
        ),
    )


async def _supervise(
    proc: GroupProcess, waiting: asyncio.Task[Report | None], within: float
) -> tuple[Report | None, str]:
    """Wait for the report or the program's exit, then stop the group; (report, error)."""
    exiting = asyncio.create_task(proc.exited(within), name="external-exit")
    try:
        await asyncio.wait([waiting, exiting], return_when=asyncio.FIRST_COMPLETED)
        if not waiting.done() and proc.returncode is not None:
            # Exited first: a report it sent just before exiting may still be on its way.
            await asyncio.wait([waiting], timeout=REPORT_GRACE)
        if waiting.done():
            report = waiting.result()
            if report is not None and proc.returncode is None:
                await proc.exited(EXIT_GRACE)
        else:
            waiting.cancel()  # finishes the run: a later report gets 410
            await asyncio.gather(waiting, return_exceptions=True)
            report = None
    finally:
        exiting.cancel()
        await asyncio.gather(exiting, return_exceptions=True)
    if report is not None:
        return report, ""
    if proc.returncode is None:
        return None, TIMED_OUT
    return None, f"check program exited with code {proc.returncode} without reporting"


async def run_external(
    target: ExternalTarget,
    *,
    timeout: float,  # noqa: ASYNC109 - the runner contract passes timeout
    check_id: str,
    runs: RunRegistry,
    reporting_base_url: str,
) -> Probe:
    """Run one Kuberhealthy-style check within ``timeout`` seconds; never raises."""
    started = time.monotonic()
    opened_at = runs.clock.time()
    deadline = opened_at + timeout
    run_uuid = runs.open_run(check_id, deadline=deadline)
    reporting_url = f"{reporting_base_url.rstrip('/')}/check/{run_uuid}"

    def done(report: Report | None, error: str, exit_code: int | None) -> Probe:
        return _probe(
            report,
            started=started,
            opened_at=opened_at,
            run_uuid=run_uuid,
            error=error,
            exit_code=exit_code,
        )

    try:
        if target.argv is None:
            return done(await runs.wait(run_uuid), TIMED_OUT, None)
        env = _check_env(target, run_uuid=run_uuid, deadline=deadline, reporting_url=reporting_url)
        return await _run_program(Command(argv=target.argv, env=env), runs, run_uuid, timeout, done)
    finally:
        runs.close(run_uuid)  # also when cancelled before the waiter ever ran


async def _run_program(
    program: Command,
    runs: RunRegistry,
    run_uuid: str,
    within: float,
    done: Callable[[Report | None, str, int | None], Probe],
) -> Probe:
    """Start ``program`` and supervise it until its report or the deadline."""
    try:
        proc = await GroupProcess.start(program)
    except ProcessStartError as cannot:
        return done(None, str(cannot), None)

    waiting = asyncio.create_task(runs.wait(run_uuid), name="external-report")
    try:
        report, error = await _supervise(proc, waiting, within)
        exit_code = proc.returncode
        # Also after a normal exit: nothing the check forked may outlive the run.
        _, stderr, _, _ = await proc.collect()
    finally:
        await proc.abandon()  # cancelled: leave no process behind
        waiting.cancel()
        await asyncio.gather(waiting, return_exceptions=True)

    if report is None and exit_code is not None:
        tail = stderr.decode("utf-8", errors="replace").strip()[-STDERR_TAIL:]
        if tail:
            error = f"{error}: {tail}"
    return done(report, error, exit_code)
