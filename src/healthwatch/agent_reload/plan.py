"""A reload's plan: the new config read and judged in full before anything running changes.

The file is read again with the command line's flags and node-problem-detector
files (:func:`healthwatch.config.agent.reload_config`) and validated as
``healthwatch validate`` does: problem daemons, checks, alert routes, history.
Any error rejects the reload as a whole, with every error found (each part is
validated even when an earlier one failed). What can change in a running agent
is planned; what cannot (listeners, state directory, node name ...) is named,
and keeps its running value until a restart. Everything here blocks (it reads
files, compiles rules): it runs in a worker thread, never on the event loop.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass

import msgspec

from healthwatch.agent_checks import configured_alerting, configured_checks, configured_history
from healthwatch.agent_problems import DaemonPlan, configured_daemons, embedded_daemons
from healthwatch.aio.clock import Clock
from healthwatch.checks.alertspec import Alerting
from healthwatch.checks.spec import CheckSpec
from healthwatch.config.agent import AgentConfig, reload_config
from healthwatch.config.compare import same_config
from healthwatch.model.errors import HealthwatchError
from healthwatch.problems.base import DaemonFactory, DaemonKinds
from healthwatch.problems.logmonitor.kmsg import boot_time_of

__all__ = [
    "RESTART_FIELDS",
    "DaemonChanges",
    "ReloadPlan",
    "ReloadRejectedError",
    "daemon_changes",
    "prepare",
    "restart_fields",
]

RESTART_FIELDS: Mapping[str, str] = {
    "listen": "agent.listen",
    "health_listen": "agent.health_listen",
    "metrics_listen": "agent.metrics_listen",
    "state_dir": "agent.state_dir",
    "node_name": "agent.node_name",
    "host_root": "agent.host_root",
    "log_format": "agent.log_format",
    "log_level": "agent.log_level",
    "details": "health.details",
    "token": "health.token_env",
    "loop_stall_seconds": "health.loop_stall",
    "heartbeat": "heartbeat",
    "heartbeat_interval": "heartbeat",
    "heartbeat_timeout": "heartbeat",
    "history": "history",
}
"""Settings a running agent keeps until it restarts (``AgentConfig`` field → config key)."""

_PROVENANCE = ("origin", "warnings")
"""Daemon config fields saying where it was read from, not what it does."""


class ReloadRejectedError(HealthwatchError):
    """The new config is not valid; nothing was changed."""

    def __init__(self, errors: Sequence[str]) -> None:
        self.errors = tuple(errors)
        """Every error found, each naming file, line, field and value where known."""
        super().__init__("; ".join(self.errors))


@dataclass(frozen=True, slots=True, kw_only=True)
class DaemonChanges:
    """Problem daemons by what a reload does to them (names, or the plans to start)."""

    added: tuple[DaemonPlan, ...] = ()
    """New names: started."""
    changed: tuple[DaemonPlan, ...] = ()
    """Same name, new config: stopped, its conditions kept, and started anew."""
    retried: tuple[DaemonPlan, ...] = ()
    """Same config, but it could not start before: started again."""
    removed: tuple[str, ...] = ()
    """Names no longer configured: stopped, and the conditions they hold retired."""
    unchanged: tuple[str, ...] = ()
    """Same name and config, running: left alone."""

    def describe(self) -> str:
        """``1 added, 1 changed, 2 unchanged`` (zero counts left out)."""
        counts = (
            ("added", len(self.added)),
            ("changed", len(self.changed)),
            ("retried", len(self.retried)),
            ("removed", len(self.removed)),
            ("unchanged", len(self.unchanged)),
        )
        return ", ".join(f"{n} {what}" for what, n in counts if n) or "none"


def daemon_changes(
    current: Mapping[str, object], failed: Collection[str], plans: Sequence[DaemonPlan]
) -> DaemonChanges:
    """Compare the daemons there are (name → their config; None if unknown) with ``plans``.

    ``failed`` names the daemons that could not start. A daemon whose config is
    unknown counts as changed: restarting it is the safe side.
    """
    added: list[DaemonPlan] = []
    changed: list[DaemonPlan] = []
    retried: list[DaemonPlan] = []
    unchanged: list[str] = []
    for plan in plans:
        if plan.name not in current:
            added.append(plan)
        elif not same_config(current[plan.name], plan.config, ignore=_PROVENANCE):
            changed.append(plan)
        elif plan.name in failed:
            retried.append(plan)
        else:
            unchanged.append(plan.name)
    wanted = {plan.name for plan in plans}
    return DaemonChanges(
        added=tuple(added),
        changed=tuple(changed),
        retried=tuple(retried),
        removed=tuple(name for name in current if name not in wanted),
        unchanged=tuple(unchanged),
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class ReloadPlan:
    """A validated new config and what it asks of the running agent."""

    config: AgentConfig
    """The new config, with every restart-only setting kept at its running value."""
    daemons: tuple[DaemonPlan, ...]
    """Every problem daemon wanted, the embedded defaults included."""
    factories: Mapping[str, DaemonFactory]
    """The factory of each daemon kind wanted."""
    decisions: Mapping[str, str]
    """What the agent chose by itself for this config, and why."""
    checks: tuple[CheckSpec, ...]
    """Every check wanted (the embedded self check when none is configured)."""
    alerting: Alerting
    """The alert routes."""
    needs_restart: tuple[str, ...] = ()
    """Config keys that changed but keep their running value until a restart."""
    boot_time: float | None = None
    """Wall time of boot, for log monitors that start now."""


def restart_fields(running: AgentConfig, new: AgentConfig) -> tuple[str, ...]:
    """Config keys of restart-only settings that differ between ``running`` and ``new``."""
    keys = [
        key
        for name, key in RESTART_FIELDS.items()
        if name != "history" and getattr(running, name) != getattr(new, name)
    ]
    if configured_history(running) != configured_history(new):
        keys.append(RESTART_FIELDS["history"])
    return tuple(dict.fromkeys(keys))


def prepare(
    running: AgentConfig, *, kinds: DaemonKinds, clock: Clock, health_url: str | None
) -> ReloadPlan:
    """Read and validate the config again; raises :class:`ReloadRejectedError` with every error.

    Blocking: call it in a worker thread.
    """
    try:
        new = reload_config(running)
    except HealthwatchError as error:
        raise ReloadRejectedError([str(error)]) from None
    errors: list[str] = []
    daemons: list[DaemonPlan] = []
    checks: list[CheckSpec] = []
    alerting = Alerting()
    try:
        daemons = configured_daemons(new)
    except HealthwatchError as error:
        errors.append(str(error))
    try:
        checks = configured_checks(new, health_url=health_url)
        alerting = configured_alerting(new)
    except HealthwatchError as error:
        errors.append(str(error))
    if errors:
        raise ReloadRejectedError(errors)
    needs_restart = restart_fields(running, new)
    kept = {name: getattr(running, name) for name in RESTART_FIELDS}
    config = msgspec.structs.replace(new, **kept)
    decisions: dict[str, str] = {}
    daemons += embedded_daemons(config, daemons, decisions)
    try:
        factories = {plan.kind: kinds.factory(plan.kind) for plan in daemons}
    except KeyError as error:
        raise ReloadRejectedError([str(error.args[0])]) from None
    try:
        boot_time: float | None = boot_time_of(config.host_root, clock)
    except HealthwatchError:
        boot_time = None
    return ReloadPlan(
        config=config,
        daemons=tuple(daemons),
        factories=factories,
        decisions=decisions,
        checks=tuple(checks),
        alerting=alerting,
        needs_restart=needs_restart,
        boot_time=boot_time,
    )
