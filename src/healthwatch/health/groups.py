"""Probe groups and the verdict each one gives.

A probe group (``liveness``, ``readiness``, ``startup`` or any named group)
lists member components, each required or optional, and says what it does
with a member whose status is UNKNOWN. :func:`judge` turns the members'
statuses, the process lifecycle, suppression windows and standby mode into one
:class:`ProbeVerdict`; it is a pure function so every rule is tested directly.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from healthwatch.model.health import (
    ComponentStatus,
    HealthStatus,
    Lifecycle,
    OverallStatus,
    ProbeVerdict,
    SuppressionWindow,
)

__all__ = [
    "LIVENESS",
    "READINESS",
    "STARTUP",
    "ProbeGroup",
    "UnknownPolicy",
    "judge",
    "overall_status",
]

LIVENESS = "liveness"
READINESS = "readiness"
STARTUP = "startup"


class UnknownPolicy(StrEnum):
    """What a group does with a required member whose status is UNKNOWN."""

    FAIL = "fail"
    """UNKNOWN fails the probe (default for readiness, startup and named groups)."""
    PASS = "pass"  # noqa: S105 - a policy name, not a password
    """UNKNOWN counts as HEALTHY (default for liveness: never restart what has not reported)."""
    DEGRADED = "degraded"
    """UNKNOWN counts as DEGRADED: the probe passes, the report says degraded."""


@dataclass(slots=True, kw_only=True)
class ProbeGroup:
    """A named set of components a probe looks at."""

    name: str
    unknown_policy: UnknownPolicy = UnknownPolicy.FAIL
    members: dict[str, bool] = field(default_factory=dict)
    """Member name → required. Insertion order is report order."""


def _effective(status: HealthStatus, policy: UnknownPolicy) -> HealthStatus:
    if status is not HealthStatus.UNKNOWN:
        return status
    if policy is UnknownPolicy.PASS:
        return HealthStatus.HEALTHY
    if policy is UnknownPolicy.DEGRADED:
        return HealthStatus.DEGRADED
    return HealthStatus.UNKNOWN


def _lifecycle_blocks(probe: str, lifecycle: Lifecycle, started: bool) -> str | None:
    """The reason the lifecycle alone fails this probe, or None."""
    if lifecycle is Lifecycle.STOPPED:
        return "stopped"
    if probe == READINESS:
        if lifecycle is Lifecycle.DRAINING:
            return "draining"
        if not started:
            return "starting"
    return None


def judge(
    group: ProbeGroup,
    statuses: Mapping[str, ComponentStatus],
    *,
    lifecycle: Lifecycle,
    started: bool,
    standby: bool = False,
    suppressed: tuple[SuppressionWindow, ...] = (),
    exclude: Collection[str] = (),
) -> ProbeVerdict:
    """Decide one probe.

    Order of precedence: the lifecycle (stopped fails everything; draining and
    starting fail readiness), then the startup latch, then standby (readiness
    passes while not leader), then the members, then suppression windows, which
    turn a failing verdict into a passing one and say so.
    """
    members = tuple(m for m in group.members if m not in exclude)
    worst = HealthStatus.HEALTHY
    failing: list[str] = []
    for member in members:
        snapshot = statuses.get(member)
        raw = snapshot.status if snapshot else HealthStatus.UNKNOWN
        status = _effective(raw, group.unknown_policy)
        if group.members[member]:
            if not status.is_up:
                failing.append(member)
            if status.severity > worst.severity:
                worst = status
        elif status is not HealthStatus.HEALTHY:
            worst = max(worst, HealthStatus.DEGRADED, key=lambda s: s.severity)

    def verdict(passed: bool, reason: str) -> ProbeVerdict:
        return ProbeVerdict(
            probe=group.name,
            passed=passed,
            status=worst,
            reason=reason,
            members=members,
            failing=tuple(failing),
            suppressed=suppressed,
        )

    blocked = _lifecycle_blocks(group.name, lifecycle, started)
    if blocked is not None:
        return verdict(False, blocked)
    if group.name == STARTUP and started:
        return verdict(True, "started")
    if group.name == READINESS and standby:
        return verdict(True, "standby")
    if not failing:
        return verdict(True, "ok" if worst is HealthStatus.HEALTHY else "degraded")
    reason = ", ".join(
        f"{name} {statuses[name].status if name in statuses else 'missing'}" for name in failing
    )
    if suppressed:
        return verdict(True, f"suppressed ({suppressed[0].reason}): {reason}")
    return verdict(False, reason)


def overall_status(
    lifecycle: Lifecycle,
    started: bool,
    verdicts: Mapping[str, ProbeVerdict],
    components: Iterable[ComponentStatus],
) -> OverallStatus:
    """The one word of ``/health``.

    stopped / draining / starting follow the lifecycle; unhealthy when liveness
    or readiness fails; degraded (still 200) when they pass but any component
    is not HEALTHY; ok otherwise.
    """
    if lifecycle is Lifecycle.STOPPED:
        return OverallStatus.STOPPED
    if lifecycle is Lifecycle.DRAINING:
        return OverallStatus.DRAINING
    if not started:
        return OverallStatus.STARTING
    probes = [verdicts[name] for name in (LIVENESS, READINESS) if name in verdicts]
    if not all(v.passed for v in probes):
        return OverallStatus.UNHEALTHY
    if any(v.status is not HealthStatus.HEALTHY for v in probes) or any(
        c.status is not HealthStatus.HEALTHY for c in components
    ):
        return OverallStatus.DEGRADED
    return OverallStatus.OK
