"""The mutable record behind one component, and the rules that turn observations into status.

Thresholds against flapping and staleness of pushed statuses live here, as
plain arithmetic over an injected clock, so they are tested without threads.
The registry owns the lock; nothing here is thread-safe on its own.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from healthwatch.model.health import ComponentStatus, HealthStatus

__all__ = ["ComponentState", "Thresholds"]

_NO_METADATA: Mapping[str, str] = MappingProxyType({})


@dataclass(frozen=True, slots=True, kw_only=True)
class Thresholds:
    """How many observations in a row it takes to change a settled status."""

    failures: int = 1
    """Consecutive UNHEALTHY observations before a HEALTHY/DEGRADED component turns UNHEALTHY."""
    successes: int = 1
    """Consecutive HEALTHY/DEGRADED observations before an UNHEALTHY component recovers."""

    def __post_init__(self) -> None:
        if self.failures < 1 or self.successes < 1:
            raise ValueError(
                f"thresholds must be at least 1, got failures={self.failures}, "
                f"successes={self.successes}"
            )


@dataclass(slots=True, kw_only=True)
class ComponentState:
    """Everything the registry remembers about one component between observations."""

    name: str
    thresholds: Thresholds = field(default_factory=Thresholds)
    stale_after: float | None = None
    """Seconds after the latest observation at which the status becomes UNKNOWN (None: never)."""
    status: HealthStatus = HealthStatus.UNKNOWN
    message: str = "not reported yet"
    metadata: Mapping[str, str] = field(default_factory=lambda: _NO_METADATA)
    observed_at: float | None = None
    observed_mono: float | None = None
    changed_at: float | None = None
    last_success_at: float | None = None
    last_failure_at: float | None = None
    consecutive_failures: int = 0
    consecutive_successes: int = 0
    duration: float | None = None
    stale: bool = False

    def observe(
        self,
        raw: HealthStatus,
        message: str,
        metadata: Mapping[str, str] | None,
        *,
        wall: float,
        mono: float,
        duration: float | None = None,
    ) -> HealthStatus | None:
        """Record one observation; return the previous status if the status changed."""
        before = self.status
        self.observed_at, self.observed_mono, self.duration = wall, mono, duration
        self.stale = False
        if metadata is not None:
            self.metadata = MappingProxyType(dict(metadata))
        if raw is HealthStatus.UNHEALTHY:
            self.consecutive_failures += 1
            self.consecutive_successes = 0
            self.last_failure_at = wall
        elif raw.is_up:
            self.consecutive_successes += 1
            self.consecutive_failures = 0
            self.last_success_at = wall
        self.status, self.message = self._settle(before, raw, message)
        if self.status is before:
            return None
        self.changed_at = wall
        return before

    def _settle(
        self, before: HealthStatus, raw: HealthStatus, message: str
    ) -> tuple[HealthStatus, str]:
        """Apply the thresholds: the status to show and the message that explains it."""
        if before is HealthStatus.UNKNOWN or raw is HealthStatus.UNKNOWN:
            return raw, message
        if raw is HealthStatus.UNHEALTHY and before.is_up:
            if self.consecutive_failures < self.thresholds.failures:
                count = f"{self.consecutive_failures}/{self.thresholds.failures}"
                return before, f"{message} (failure {count} tolerated)"
            return raw, message
        if raw.is_up and before is HealthStatus.UNHEALTHY:
            if self.consecutive_successes < self.thresholds.successes:
                count = f"{self.consecutive_successes}/{self.thresholds.successes}"
                return before, f"recovering ({count} successes): {message}"
            return raw, message
        return raw, message

    def expire(self, *, wall: float, mono: float) -> HealthStatus | None:
        """Turn the status UNKNOWN if the latest observation is too old; return the old status."""
        if self.stale or self.stale_after is None or self.observed_mono is None:
            return None
        age = mono - self.observed_mono
        if age <= self.stale_after:
            return None
        before = self.status
        self.stale = True
        self.status = HealthStatus.UNKNOWN
        self.message = f"stale: no report for {age:.1f}s (limit {self.stale_after:g}s)"
        if before is HealthStatus.UNKNOWN:
            return None
        self.changed_at = wall
        return before

    def snapshot(self) -> ComponentStatus:
        """An immutable copy for reports and observers."""
        return ComponentStatus(
            name=self.name,
            status=self.status,
            message=self.message,
            metadata=self.metadata,
            observed_at=self.observed_at,
            changed_at=self.changed_at,
            last_success_at=self.last_success_at,
            last_failure_at=self.last_failure_at,
            consecutive_failures=self.consecutive_failures,
            duration=self.duration,
        )
