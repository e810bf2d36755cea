"""Running one synthetic check once: attempts, retries, conditions, one :class:`CheckResult`.

The runners only observe (a :class:`~healthwatch.checks.runners.base.Probe`);
this module decides. A run makes up to ``1 + retries`` attempts, stopping at
the first that passes; an attempt passes when the runner reached its target
and every condition holds (for an http check with ``all_addresses``, at every
address, each error naming its address). The result names each failed
condition with the value observed, and :func:`run_check` never raises, so one
broken check can never take the scheduler down. :class:`CheckState` (from
:mod:`.state`) turns the stream of results into firing and resolved transitions.
"""

from __future__ import annotations

import random

import aiohttp

from healthwatch.aio.clock import Clock
from healthwatch.checks.reports import RunRegistry
from healthwatch.checks.runners.base import Probe
from healthwatch.checks.runners.dns import DnsTarget, run_dns
from healthwatch.checks.runners.exec import ExecTarget, run_exec
from healthwatch.checks.runners.external import ExternalTarget, run_external
from healthwatch.checks.runners.http import HttpTarget, run_http
from healthwatch.checks.runners.http_addresses import per_address
from healthwatch.checks.runners.tcp import TcpTarget, run_tcp
from healthwatch.checks.runners.tls import TlsTarget, run_tls
from healthwatch.checks.spec import CheckSpec
from healthwatch.checks.state import CheckState, Transition
from healthwatch.model.checks import CheckResult, Observation

__all__ = ["CheckState", "Reporting", "Transition", "run_check"]

Reporting = tuple[RunRegistry, str]
"""For external checks: the registry of open runs and the base URL reports go to."""


def _new_run_id() -> str:
    """128 random bits in hex, as ``uuid4().hex`` but without a system call per run.

    ``uuid4`` reads the kernel's random source on every call, which costs tens of
    microseconds on some virtual machines: at a thousand runs a second, several percent
    of a core. A run id only has to be unique; the module generator is seeded from the
    kernel at start and after a fork. (External checks' run uuids, which grant the right
    to report, still come from ``uuid4`` in :mod:`.reports`.)
    """
    return f"{random.getrandbits(128):032x}"


async def _probe(
    spec: CheckSpec, session: aiohttp.ClientSession | None, reporting: Reporting | None
) -> Probe:
    target = spec.target
    if isinstance(target, HttpTarget):
        return await run_http(target, timeout=spec.timeout, session=session)
    if isinstance(target, TcpTarget):
        return await run_tcp(target, timeout=spec.timeout)
    if isinstance(target, TlsTarget):
        return await run_tls(target, timeout=spec.timeout)
    if isinstance(target, DnsTarget):
        return await run_dns(target, timeout=spec.timeout)
    if isinstance(target, ExecTarget):
        return await run_exec(target, timeout=spec.timeout)
    if isinstance(target, ExternalTarget):
        if reporting is None:
            return Probe(
                reached=False,
                duration=0.0,
                error="external checks need the web listener to receive reports",
            )
        runs, base_url = reporting
        return await run_external(
            target, timeout=spec.timeout, check_id=spec.id, runs=runs, reporting_base_url=base_url
        )
    raise TypeError(f"no runner for {type(target).__name__}")


Judgement = tuple[bool, list[str], tuple[Observation, ...]]
"""Whether an attempt passed, why not, and the conditions as observed."""


def _judge(spec: CheckSpec, probe: Probe) -> Judgement:
    observations = tuple(condition.evaluate(probe.context) for condition in spec.conditions)
    ok = probe.reached and all(observation.ok for observation in observations)
    if ok:
        return True, [], observations
    errors = [probe.error] if probe.error else []
    reported = probe.context.get("errors")
    if probe.reached and isinstance(reported, list) and reported:
        # An external check said why it failed: its own words are the errors (Kuberhealthy).
        return False, [str(e) for e in reported], observations
    if not probe.reached and not probe.error:
        errors.append(f"{spec.kind} target not reached")
    errors += [f"{o.condition} (observed {o.observed})" for o in observations if not o.ok]
    return False, errors, observations


def _judge_each(spec: CheckSpec, parts: list[tuple[str, Probe]]) -> Judgement:
    """Every address judged on its own: any failing fails the attempt, errors name it."""
    judged = [(label, _judge(spec, probe)) for label, probe in parts]
    errors = [f"{label}: {error}" for label, (_, found, _) in judged for error in found]
    observations = tuple(
        Observation(
            condition=condition.text,
            ok=all(seen[i].ok for _, (_, _, seen) in judged),
            observed="; ".join(f"{label}: {seen[i].observed}" for label, (_, _, seen) in judged),
        )
        for i, condition in enumerate(spec.conditions)
    )
    return all(ok for _, (ok, _, _) in judged), errors, observations


async def _attempt(
    spec: CheckSpec, session: aiohttp.ClientSession | None, reporting: Reporting | None
) -> Judgement:
    """One attempt: whether it passed, why not, and the conditions as observed."""
    try:
        probe = await _probe(spec, session, reporting)
    except Exception as error:  # a runner bug fails the check, never the scheduler
        return False, [f"{spec.kind} runner failed: {type(error).__name__}: {error}"], ()
    if isinstance(spec.target, HttpTarget) and spec.target.all_addresses:
        parts = per_address(probe)
        if parts:
            return _judge_each(spec, parts)
    return _judge(spec, probe)


async def run_check(
    spec: CheckSpec,
    *,
    clock: Clock,
    run_id: str | None = None,
    session: aiohttp.ClientSession | None = None,
    reporting: Reporting | None = None,
) -> CheckResult:
    """Run ``spec`` once (with its retries); never raises except on cancellation.

    ``session`` is shared by HTTP checks for connection reuse; without one each
    attempt makes its own.
    """
    started_at = clock.time()
    start = clock.monotonic()
    ok, errors = False, [f"{spec.kind} check made no attempt"]
    observations: tuple[Observation, ...] = ()
    attempts = 0
    for _ in range(1 + spec.retries):
        attempts += 1
        ok, errors, observations = await _attempt(spec, session, reporting)
        if ok:
            break
    return CheckResult(
        check_id=spec.id,
        run_id=run_id or _new_run_id(),
        ok=ok,
        errors=tuple(errors),
        started_at=started_at,
        duration=max(0.0, clock.monotonic() - start),
        observations=observations,
        attempts=attempts,
    )
