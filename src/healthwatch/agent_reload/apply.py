"""Applying a validated reload plan to the running agent, changing only what changed.

Problem daemons are compared by name and config: unchanged ones keep running
untouched; a changed one is stopped (its conditions are in the state directory)
and started anew under the same detector, where it takes them over; a removed
one is stopped and the conditions it holds are retired; a new one starts. A
daemon that cannot start is a degraded component, as at start-up, and is
tried again by the next reload. Checks keep their state and history
(:meth:`healthwatch.checks.service.CheckService.apply`); alert routes are
swapped when they changed. What changed is worked out in a worker thread
(:func:`changes_of`, on a :func:`snapshot` of what runs: comparing tens of
thousands of checks takes a while); applying it runs on the event loop, where
every step awaits and none blocks.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass

from healthwatch.agent_checks import register_kind_health
from healthwatch.agent_reload.plan import DaemonChanges, ReloadPlan, daemon_changes
from healthwatch.aio.clock import Clock
from healthwatch.checks.alerts.dispatcher import AlertDispatcher
from healthwatch.checks.alertspec import Alerting
from healthwatch.checks.changes import CheckChanges, check_changes
from healthwatch.checks.service import CheckService
from healthwatch.checks.spec import CheckSpec
from healthwatch.config.compare import same_config
from healthwatch.detector import PROBLEMS_GROUP, Detector
from healthwatch.health.registry import HealthRegistry
from healthwatch.model.health import HealthStatus

__all__ = ["Applied", "Changes", "Running", "RunningParts", "apply_plan", "changes_of", "snapshot"]

_log = logging.getLogger("healthwatch.agent")
_KERNEL_PLACEHOLDER = "kernel-monitor"
"""The component shown when the embedded kernel monitor has no source on this machine."""


@dataclass(slots=True, kw_only=True)
class RunningParts:
    """What a reload changes in the running agent."""

    registry: HealthRegistry
    clock: Clock
    detector: Detector | None
    """The problem detector (None: no daemon ran at start)."""
    checks: CheckService | None


@dataclass(frozen=True, slots=True, kw_only=True)
class Running:
    """What runs now, as plain values a worker thread may compare."""

    daemons: Mapping[str, object]
    """Each problem daemon's config by name (None: a daemon that does not expose it)."""
    failed: frozenset[str] = frozenset()
    """Daemons that could not start."""
    checks: Mapping[str, CheckSpec]
    """Each check's spec by id."""
    alerting: Alerting
    """The alert routes in use."""
    detector: bool = True
    """Whether there is a detector to add daemons to."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Changes:
    """What a plan changes in what runs."""

    daemons: DaemonChanges
    checks: CheckChanges
    alerting: bool
    """Whether the alert routes changed."""


def snapshot(parts: RunningParts) -> Running:
    """What runs now (on the event loop: it reads the running parts)."""
    detector, service = parts.detector, parts.checks
    alerts = service.alerts if service is not None else None
    return Running(
        daemons={}
        if detector is None
        else {name: getattr(d, "config", None) for name, d in detector.daemons.items()},
        failed=frozenset(detector.failed) if detector is not None else frozenset(),
        checks=service.specs() if service is not None else {},
        alerting=alerts.alerting if alerts is not None else Alerting(),
        detector=detector is not None,
    )


def changes_of(plan: ReloadPlan, running: Running) -> Changes:
    """Compare ``plan`` with what runs. Blocking: call it in a worker thread."""
    return Changes(
        daemons=daemon_changes(running.daemons, running.failed, plan.daemons)
        if running.detector
        else DaemonChanges(),
        checks=check_changes(running.checks, plan.checks),
        alerting=not same_config(running.alerting, plan.alerting),
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class Applied:
    """What a reload did."""

    daemons: DaemonChanges
    checks: CheckChanges
    alerting_swapped: bool = False
    not_started: tuple[str, ...] = ()
    """Daemons that could not start (their components say why)."""
    needs_restart: tuple[str, ...] = ()
    """What changed but waits for a restart."""

    def describe(self) -> str:
        """One line for the log and the agent's component."""
        parts = [f"daemons: {self.daemons.describe()}", f"checks: {self.checks.describe()}"]
        if self.alerting_swapped:
            parts.append("alert routes replaced")
        if self.not_started:
            parts.append(f"not started: {', '.join(self.not_started)}")
        return "; ".join(parts)


async def apply_plan(plan: ReloadPlan, changes: Changes, parts: RunningParts) -> Applied:
    """Make the running agent what ``plan`` says, keeping everything that did not change.

    ``changes`` is :func:`changes_of` ``plan`` and a :func:`snapshot` of ``parts``
    taken since the last reload.
    """
    needs_restart = list(plan.needs_restart)
    not_started: tuple[str, ...] = ()
    if parts.detector is not None:
        not_started = await _apply_daemons(plan, changes.daemons, parts, parts.detector)
    elif plan.daemons:
        needs_restart.append("problem daemons (none ran at start)")
    swapped = False
    if parts.checks is not None:
        swapped = await _apply_checks(plan, changes, parts, parts.checks)
    return Applied(
        daemons=changes.daemons,
        checks=changes.checks if parts.checks is not None else CheckChanges(),
        alerting_swapped=swapped,
        not_started=not_started,
        needs_restart=tuple(needs_restart),
    )


async def _apply_daemons(
    plan: ReloadPlan, changes: DaemonChanges, parts: RunningParts, detector: Detector
) -> tuple[str, ...]:
    for name in changes.removed:
        await detector.remove(name, retire=True)
    again = (*changes.changed, *changes.retried)
    for wanted in again:
        await detector.remove(wanted.name, retire=False)
    config, registry = plan.config, parts.registry
    not_started: list[str] = []
    for wanted in (*again, *changes.added):
        component = f"daemon:{wanted.name}"
        if component in registry:  # a placeholder, or one whose construction failed before
            registry.deregister(component)
        try:
            daemon = plan.factories[wanted.kind](
                config=wanted.config,
                clock=parts.clock,
                host_root=config.host_root,
                state_dir=config.state_dir / "problems",
                boot_time=plan.boot_time,
            )
        except Exception as error:  # as a failure to start: reported, the reload goes on
            reason = str(error) or type(error).__name__
            _log.error("problem daemon %s could not be built: %s", wanted.name, reason)
            registry.register(component, groups=(PROBLEMS_GROUP,))
            registry.update(component, HealthStatus.DEGRADED, f"failed to start: {reason}")
            not_started.append(wanted.name)
            continue
        if not await detector.add(daemon):
            not_started.append(wanted.name)
    _kernel_placeholder(plan, registry, detector)
    return tuple(not_started)


def _kernel_placeholder(plan: ReloadPlan, registry: HealthRegistry, detector: Detector) -> None:
    """Show why there is no kernel monitor, as at start, or stop showing it."""
    component = f"daemon:{_KERNEL_PLACEHOLDER}"
    why = plan.decisions.get("kernel_log")
    wanted = why is not None and not any(p.kind == "logmonitor" for p in plan.daemons)
    if wanted and component not in registry:
        registry.register(component, groups=(PROBLEMS_GROUP,))
    if wanted and why is not None:
        registry.update(component, HealthStatus.DEGRADED, why)
    elif component in registry and _KERNEL_PLACEHOLDER not in detector.daemons:
        registry.deregister(component)


async def _apply_checks(
    plan: ReloadPlan, changes: Changes, parts: RunningParts, service: CheckService
) -> bool:
    kinds_before = {view.spec.kind for view in service.views.values()}
    await service.apply(plan.checks, changes=changes.checks)
    swapped = changes.alerting
    if swapped:
        alerts = AlertDispatcher(plan.alerting, clock=parts.clock) if plan.alerting.routes else None
        await service.set_alerts(alerts)
    registry = parts.registry
    kinds_after = {spec.kind for spec in plan.checks}
    for kind in sorted(kinds_before - kinds_after):
        registry.deregister(f"checks:{kind}")
    for kind in sorted(kinds_after - kinds_before):
        if f"checks:{kind}" not in registry:
            register_kind_health(registry, service, kind)
    return swapped
