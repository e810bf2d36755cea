"""The health status model every part of healthwatch speaks.

A component (a database pool, a log monitor, a check scheduler) has one
:class:`HealthStatus` at a time; a :class:`ComponentStatus` is an immutable
snapshot of it with the history a verdict needs. Probe verdicts and whole
reports are here too, so that exporters and adapters can consume them without
importing the health library itself.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType

__all__ = [
    "ComponentStatus",
    "HealthReport",
    "HealthStatus",
    "Lifecycle",
    "OverallStatus",
    "ProbeVerdict",
    "SuppressionWindow",
]

_EMPTY: Mapping[str, str] = MappingProxyType({})


class HealthStatus(StrEnum):
    """The state of one component.

    Severity runs HEALTHY < DEGRADED < UNHEALTHY. UNKNOWN is not a severity:
    it means "not reported yet, or the last report is stale", and every verdict
    states what it does with it.
    """

    UNKNOWN = "unknown"
    HEALTHY = "healthy"
    DEGRADED = "degraded"
    UNHEALTHY = "unhealthy"

    @property
    def severity(self) -> int:
        """Rank for "worst of": UNKNOWN ranks with UNHEALTHY unless a policy says otherwise."""
        return _SEVERITY[self]

    @property
    def is_up(self) -> bool:
        """True for the states a probe passes on: HEALTHY and DEGRADED."""
        return self in (HealthStatus.HEALTHY, HealthStatus.DEGRADED)


_SEVERITY = {
    HealthStatus.HEALTHY: 0,
    HealthStatus.DEGRADED: 1,
    HealthStatus.UNKNOWN: 2,
    HealthStatus.UNHEALTHY: 3,
}


class Lifecycle(StrEnum):
    """Where a process stands in its life, as its probes must tell it."""

    STARTING = "starting"
    """Startup has not passed yet: /startupz and /readyz answer 503."""
    READY = "ready"
    """Started and serving; probes follow the components."""
    DRAINING = "draining"
    """Shutting down: readiness fails at once, liveness stays up."""
    STOPPED = "stopped"
    """Stopped: every probe fails."""


class OverallStatus(StrEnum):
    """The one word ``/health`` answers with."""

    STARTING = "starting"
    OK = "ok"
    DEGRADED = "degraded"
    UNHEALTHY = "unhealthy"
    DRAINING = "draining"
    STOPPED = "stopped"

    @property
    def http_code(self) -> int:
        """200 for ok and degraded (a degraded service must not be restarted), 503 otherwise."""
        return 200 if self in (OverallStatus.OK, OverallStatus.DEGRADED) else 503


@dataclass(frozen=True, slots=True, kw_only=True)
class ComponentStatus:
    """An immutable snapshot of one component's health."""

    name: str
    """Unique name of the component within its registry."""
    status: HealthStatus
    """Current state, after thresholds and staleness are applied."""
    message: str = ""
    """Human-readable reason for the state; may be withheld from remote callers."""
    metadata: Mapping[str, str] = field(default_factory=lambda: _EMPTY)
    """Free-form key/value detail (versions, counts, endpoints)."""
    observed_at: float | None = None
    """Wall time of the latest observation (push or check run), or None if never observed."""
    changed_at: float | None = None
    """Wall time at which ``status`` last changed."""
    last_success_at: float | None = None
    """Wall time of the latest HEALTHY or DEGRADED observation."""
    last_failure_at: float | None = None
    """Wall time of the latest UNHEALTHY observation (timeouts and errors included)."""
    consecutive_failures: int = 0
    """Failed observations since the last success."""
    duration: float | None = None
    """Seconds the latest check run took (None for pushed statuses)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class SuppressionWindow:
    """A period during which a probe passes whatever its members say."""

    probe: str
    """The probe group it applies to (``liveness``, ``readiness``, ...)."""
    until: float
    """Wall time at which the window expires."""
    reason: str
    """Why it was opened; shown in every report while it lasts."""


@dataclass(frozen=True, slots=True, kw_only=True)
class ProbeVerdict:
    """The outcome of one probe group at one instant."""

    probe: str
    """Group name: ``liveness``, ``readiness``, ``startup`` or a named group."""
    passed: bool
    """What the probe answers: True → 200, False → 503."""
    status: HealthStatus
    """Worst state among the group's members, after the UNKNOWN policy."""
    reason: str
    """Why it passed or failed, in a few words (``ok``, ``draining``, ``db unhealthy``)."""
    members: tuple[str, ...] = ()
    """Members that took part, in registration order."""
    failing: tuple[str, ...] = ()
    """Required members that made the probe fail."""
    suppressed: tuple[SuppressionWindow, ...] = ()
    """Active suppression windows; when non-empty the probe passes."""


@dataclass(frozen=True, slots=True, kw_only=True)
class HealthReport:
    """Everything a health endpoint tells, taken under one lock so it is consistent."""

    status: OverallStatus
    """The overall word; its ``http_code`` is what ``/health`` answers."""
    lifecycle: Lifecycle
    """Where the process stands in its life."""
    standby: bool
    """True while the process is a standby (not leader): readiness passes regardless."""
    components: tuple[ComponentStatus, ...]
    """Every registered component, in registration order."""
    probes: Mapping[str, ProbeVerdict]
    """Verdict per probe group."""
    generated_at: float
    """Wall time of the snapshot."""
    started_at: float
    """Wall time the registry was created (process start, for most users)."""

    def component(self, name: str) -> ComponentStatus | None:
        """The named component's snapshot, or None."""
        for item in self.components:
            if item.name == name:
                return item
        return None
