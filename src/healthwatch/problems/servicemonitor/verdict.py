"""From what one poll saw to the component's condition: reasons, precedence, flapping.

Precedence, first match wins: systemctl could not tell (Unknown) → the unit is
not active → it is flapping → its health endpoint fails → the runtime does not
answer → a log pattern crossed its threshold → healthy. Every failure seen is
in the message; the reason names the first. Only the last three are repairable:
killing a unit that is down or being restarted by systemd helps nobody.

Flapping is judged across polls: systemd's ``NRestarts`` going up, or the start
time moving, counts as restarts; enough of them within the window makes the
unit flapping even if it happens to be up when polled. Restarts that follow
one of our own repairs are expected and not counted.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from enum import StrEnum
from typing import Final

from healthwatch.aio.clock import Clock
from healthwatch.model.problems import Condition, ConditionStatus, Event, Severity
from healthwatch.problems.servicemonitor.config import ServiceMonitorConfig
from healthwatch.problems.servicemonitor.journal import JournalReading
from healthwatch.problems.servicemonitor.probes import Probe
from healthwatch.problems.servicemonitor.systemd import UnitState

__all__ = [
    "CONDITION_REASONS",
    "EVENT_REASONS",
    "ConditionBook",
    "FlapTracker",
    "Observation",
    "Reason",
    "Verdict",
    "judge",
]

_MAX_RESTARTS_KEPT: Final = 1000


class Reason(StrEnum):
    """Reason suffixes; a reason is the component's prefix plus one (``KubeletNotActive``)."""

    HEALTHY = "IsHealthy"
    CHECK_FAILED = "CheckFailed"
    NOT_ACTIVE = "NotActive"
    FLAPPING = "Flapping"
    HEALTHZ_FAILED = "HealthzFailed"
    UNREACHABLE = "Unreachable"
    LOG_PATTERN = "LogPatternThreshold"
    RESTARTED = "Restarted"
    REPAIRED = "Repaired"
    REPAIR_FAILED = "RepairFailed"
    BUDGET_EXHAUSTED = "RepairBudgetExhausted"


CONDITION_REASONS: Final = (
    Reason.NOT_ACTIVE,
    Reason.FLAPPING,
    Reason.HEALTHZ_FAILED,
    Reason.UNREACHABLE,
    Reason.LOG_PATTERN,
)
"""Reasons with which the condition may be True."""
EVENT_REASONS: Final = (
    Reason.RESTARTED,
    Reason.REPAIRED,
    Reason.REPAIR_FAILED,
    Reason.BUDGET_EXHAUSTED,
)
"""Reasons of temporary events."""
_REPAIRABLE: Final = frozenset({Reason.HEALTHZ_FAILED, Reason.UNREACHABLE, Reason.LOG_PATTERN})


@dataclass(frozen=True, slots=True, kw_only=True)
class Observation:
    """What one poll saw."""

    state: UnitState | None
    """The unit's state; None when systemctl failed."""
    error: str = ""
    """Why systemctl failed."""
    restarts: int = 0
    """Restarts within the flap window."""
    health: Probe | None = None
    """The health endpoint's answer, when there is one and the unit is up."""
    runtime: Probe | None = None
    """The container runtime's answer, when it is a runtime and up."""
    journal: JournalReading | None = None
    """Log pattern counts, when patterns are configured and the unit is up."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Verdict:
    """The condition a poll leads to."""

    status: ConditionStatus
    """True: unhealthy; False: healthy; Unknown: could not tell."""
    reason: Reason
    """Why (without the component prefix)."""
    message: str
    """Every failure seen, or what healthy looks like."""

    @property
    def repairable(self) -> bool:
        """Killing the main process might help."""
        return self.status is ConditionStatus.TRUE and self.reason in _REPAIRABLE


def _pattern_failures(config: ServiceMonitorConfig, journal: JournalReading) -> list[str]:
    return [
        f"{count} log lines match {pattern.text!r} (threshold {pattern.count})"
        for pattern, count in zip(config.log_patterns, journal.counts, strict=True)
        if count >= pattern.count
    ]


def judge(config: ServiceMonitorConfig, seen: Observation) -> Verdict:
    """The verdict on one poll."""
    unit = config.unit
    state = seen.state
    if state is None:
        return Verdict(
            status=ConditionStatus.UNKNOWN,
            reason=Reason.CHECK_FAILED,
            message=f"cannot read the state of {unit}: {seen.error}",
        )
    failures: list[tuple[Reason, str]] = []
    flapping = config.flap_restarts > 0 and seen.restarts >= config.flap_restarts
    flap_text = f"{unit} restarted {seen.restarts} times within {config.flap_window:g}s"
    if not state.active:
        failures.append((Reason.NOT_ACTIVE, f"{unit} is {state.describe()}"))
    if flapping:
        failures.append((Reason.FLAPPING, flap_text))
    if seen.health is not None and not seen.health.ok:
        failures.append((Reason.HEALTHZ_FAILED, f"health check failed: {seen.health.detail}"))
    if seen.runtime is not None and not seen.runtime.ok:
        failures.append((Reason.UNREACHABLE, f"runtime unreachable: {seen.runtime.detail}"))
    if seen.journal is not None:
        failures += [(Reason.LOG_PATTERN, text) for text in _pattern_failures(config, seen.journal)]
    if failures:
        return Verdict(
            status=ConditionStatus.TRUE,
            reason=failures[0][0],
            message="; ".join(text for _, text in failures),
        )
    return Verdict(
        status=ConditionStatus.FALSE,
        reason=Reason.HEALTHY,
        message=f"{unit} is {state.describe()} and healthy",
    )


class FlapTracker:
    """Restarts observed between polls, within a sliding window on the injected clock."""

    def __init__(self, window: float, *, clock: Clock) -> None:
        self.window = window
        self.clock = clock
        self.total = 0
        """Restarts observed since the monitor started (expected ones included)."""
        self._times: deque[float] = deque(maxlen=_MAX_RESTARTS_KEPT)
        self._last: UnitState | None = None
        self._expected = 0

    def expect_restart(self) -> None:
        """The next observed restart is our own repair's doing: do not count it as flapping."""
        self._expected = 1

    def observe(self, state: UnitState) -> int:
        """Restarts since the previous poll (0 on the first)."""
        last, self._last = self._last, state
        if last is None:
            return 0
        restarts = 0
        if last.restarts is not None and state.restarts is not None:
            restarts = max(state.restarts - last.restarts, 0)
        moved = None not in (state.started_at, last.started_at) and (
            state.started_at != last.started_at
        )
        if moved and restarts == 0:
            restarts = 1
        if restarts:
            self.total += restarts
            counted = restarts - min(self._expected, restarts)
            self._expected = 0
            now = self.clock.monotonic()
            self._times.extend([now] * counted)
        return restarts

    def recent(self) -> int:
        """Restarts (not expected) within the window."""
        now = self.clock.monotonic()
        while self._times and now - self._times[0] > self.window:
            self._times.popleft()
        return len(self._times)


class ConditionBook:
    """The monitor's one condition; a change of status or reason is an event."""

    def __init__(self, condition_type: str, *, unit: str, prefix: str) -> None:
        self.type = condition_type
        self.unit = unit
        self.prefix = prefix
        self.condition: Condition | None = None
        """The condition after the latest poll (None before the first)."""

    def reason(self, reason: Reason) -> str:
        """The full reason (``Kubelet`` + ``NotActive``)."""
        return f"{self.prefix}{reason}"

    def apply(self, verdict: Verdict, now: float) -> tuple[bool, Event | None]:
        """Hold ``verdict``: (changed, the event saying so). A first healthy verdict is no event."""
        reason = self.reason(verdict.reason)
        old = self.condition
        if old is not None and (old.status, old.reason) == (verdict.status, reason):
            return False, None
        status, message = verdict.status, verdict.message
        self.condition = Condition(
            type=self.type, status=status, transition=now, reason=reason, message=message
        )
        if old is None and status is ConditionStatus.FALSE:
            return True, None
        severity = Severity.INFO if status is ConditionStatus.FALSE else Severity.WARN
        return True, Event(severity=severity, timestamp=now, reason=reason, message=message)

    def restarted(self, state: UnitState, restarts: int, now: float) -> Event:
        """The event for restarts observed between two polls."""
        return Event(
            severity=Severity.WARN,
            timestamp=now,
            reason=self.reason(Reason.RESTARTED),
            message=f"{self.unit} restarted {restarts} time(s) since the previous poll; "
            f"now {state.describe()}",
        )
