"""The recent-problems exporter: what the dashboard shows about node problems, kept in memory.

Metrics say how many times a reason was seen; a person looking at a problem
wants the evidence: the matched log lines, when it was first and last seen, the
rule that matched, and for a condition when it was raised and what it was
before. This exporter keeps exactly that, bounded: per reason a count, first
and last seen and the last few events with their messages (the matched lines);
per daemon its declarations and its current conditions with their latest
transitions; and one timeline of the latest events of every daemon. Messages
are capped, and reasons beyond ``max_reasons`` are counted but not kept.

It lives on the event loop (the detector's exporter worker writes, the web
handlers read), so it needs no lock; readers get immutable snapshots.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import Final

from healthwatch.model.problems import (
    Condition,
    ConditionStatus,
    Event,
    ProblemDeclaration,
    Severity,
    Status,
)

__all__ = ["ConditionRecord", "ProblemRecord", "RecentProblems", "SeenEvent"]

MAX_MESSAGE: Final = 4096
"""Characters of an event message kept; longer ones end in ``…``."""


@dataclass(frozen=True, slots=True, kw_only=True)
class SeenEvent:
    """One event as it was exported, with the daemon that reported it."""

    source: str
    """The reporting daemon."""
    reason: str
    """The event's reason."""
    severity: Severity
    """``info`` or ``warn``."""
    timestamp: float
    """When the problem was seen (the log line's time, when known)."""
    message: str
    """The matched log lines (capped at :data:`MAX_MESSAGE` characters)."""
    labels: tuple[tuple[str, str], ...] = ()
    """The rule's labels, sorted by name."""


@dataclass(frozen=True, slots=True, kw_only=True)
class ProblemRecord:
    """Everything kept about one reason of one daemon."""

    source: str
    reason: str
    condition: str | None = None
    """The condition type a permanent problem of this reason sets; None for temporary ones."""
    rules: tuple[str, ...] = ()
    """The declared rules (log patterns) that report this reason."""
    declared: bool = False
    """False for a reason the daemon reported without declaring it (a recovery, say)."""
    count: int = 0
    """Events seen since the agent started."""
    first_seen: float | None = None
    last_seen: float | None = None
    events: tuple[SeenEvent, ...] = ()
    """The latest events of this reason, newest first."""


@dataclass(frozen=True, slots=True, kw_only=True)
class ConditionRecord:
    """One daemon's condition now, and the states it was in before."""

    source: str
    current: Condition
    previous: tuple[Condition, ...] = ()
    """Earlier states (status or reason differed), newest first."""

    @property
    def raised(self) -> bool:
        """True while the problem holds."""
        return self.current.status is ConditionStatus.TRUE


@dataclass(slots=True)
class _Reason:
    condition: str | None = None
    rules: list[str] = field(default_factory=list)
    declared: bool = False
    count: int = 0
    first_seen: float | None = None
    last_seen: float | None = None
    events: deque[SeenEvent] = field(default_factory=deque)


def _capped(text: str) -> str:
    return text if len(text) <= MAX_MESSAGE else text[: MAX_MESSAGE - 1] + "…"


class RecentProblems:
    """A :class:`~healthwatch.model.problems.StatusExporter` that remembers, within bounds."""

    name = "recent"

    def __init__(
        self,
        *,
        events_per_reason: int = 20,
        timeline: int = 100,
        max_reasons: int = 2000,
        history_per_condition: int = 20,
        max_conditions: int = 1000,
    ) -> None:
        for label, value in (
            ("events_per_reason", events_per_reason),
            ("timeline", timeline),
            ("max_reasons", max_reasons),
            ("history_per_condition", history_per_condition),
            ("max_conditions", max_conditions),
        ):
            if value < 1:
                raise ValueError(f"{label} must be at least 1, not {value}")
        self._per_reason = events_per_reason
        self._max_reasons = max_reasons
        self._per_condition = history_per_condition
        self._max_conditions = max_conditions
        self._reasons: dict[tuple[str, str], _Reason] = {}
        self._conditions: dict[tuple[str, str], deque[Condition]] = {}
        self._timeline: deque[SeenEvent] = deque(maxlen=timeline)
        self.overflow = 0
        """Events and conditions not kept because the limits were reached (still counted here)."""
        self.version = 0
        """Grows with every exported status that changed something; cheap change detection."""

    # ------------------------------------------------------------ exporter protocol
    def declare(self, declarations: tuple[ProblemDeclaration, ...]) -> None:
        """Remember every declared reason (at zero) with its rule, per daemon."""
        for item in declarations:
            record = self._reason(item.source, item.reason)
            if record is None:
                continue
            record.declared = True
            record.condition = record.condition or item.condition
            if item.rule and item.rule not in record.rules:
                record.rules.append(item.rule)

    async def export(self, status: Status) -> None:
        """Keep the events and follow the conditions of one status."""
        changed = False
        for event in status.events:
            changed = self._event(status.source, event) or changed
        for condition in status.conditions:
            changed = self._condition(status.source, condition) or changed
        if changed:
            self.version += 1

    def _reason(self, source: str, reason: str) -> _Reason | None:
        key = (source, reason)
        record = self._reasons.get(key)
        if record is None:
            if len(self._reasons) >= self._max_reasons:
                self.overflow += 1
                return None
            record = self._reasons[key] = _Reason(events=deque(maxlen=self._per_reason))
        return record

    def _event(self, source: str, event: Event) -> bool:
        seen = SeenEvent(
            source=source,
            reason=event.reason,
            severity=event.severity,
            timestamp=event.timestamp,
            message=_capped(event.message),
            labels=tuple(sorted(event.labels.items())),
        )
        self._timeline.append(seen)
        record = self._reason(source, event.reason)
        if record is None:
            return True
        record.count += 1
        at = event.timestamp
        record.first_seen = at if record.first_seen is None else min(record.first_seen, at)
        record.last_seen = at if record.last_seen is None else max(record.last_seen, at)
        record.events.append(seen)
        return True

    def _condition(self, source: str, condition: Condition) -> bool:
        key = (source, condition.type)
        states = self._conditions.get(key)
        if states is None:
            if len(self._conditions) >= self._max_conditions:
                self.overflow += 1
                return False
            states = self._conditions[key] = deque(maxlen=self._per_condition + 1)
        latest = states[-1] if states else None
        if latest is not None and (latest.status, latest.reason) == (
            condition.status,
            condition.reason,
        ):
            if latest == condition:
                return False
            states[-1] = condition  # same state, newer message or time: keep the latest words
            return True
        states.append(condition)
        return True

    # ------------------------------------------------------------ reading
    def problems(self) -> list[ProblemRecord]:
        """Every reason kept, most recently seen first, then never-seen ones by daemon."""
        records = [self._record(key, r) for key, r in self._reasons.items()]
        return sorted(
            records,
            key=lambda p: (p.last_seen is None, -(p.last_seen or 0.0), p.source, p.reason),
        )

    def problem(self, source: str, reason: str) -> ProblemRecord | None:
        """One reason of one daemon, or None when nothing is known of it."""
        record = self._reasons.get((source, reason))
        return None if record is None else self._record((source, reason), record)

    def conditions(self) -> list[ConditionRecord]:
        """Every daemon's conditions now: raised ones first, then by daemon and type."""
        records = [
            ConditionRecord(source=source, current=states[-1], previous=tuple(states)[-2::-1])
            for (source, _), states in self._conditions.items()
        ]
        return sorted(records, key=lambda c: (not c.raised, c.source, c.current.type))

    def timeline(self, limit: int = 50) -> list[SeenEvent]:
        """The latest events of every daemon, newest first."""
        return list(self._timeline)[: -limit - 1 : -1] if limit > 0 else []

    def sources(self) -> list[str]:
        """Daemons that declared or reported anything, sorted."""
        return sorted({s for s, _ in self._reasons} | {s for s, _ in self._conditions})

    def declarations(self, source: str) -> list[ProblemRecord]:
        """What one daemon declared it may report, by reason."""
        return sorted(
            (
                self._record(key, r)
                for key, r in self._reasons.items()
                if key[0] == source and r.declared
            ),
            key=lambda p: p.reason,
        )

    @staticmethod
    def _record(key: tuple[str, str], record: _Reason) -> ProblemRecord:
        return ProblemRecord(
            source=key[0],
            reason=key[1],
            condition=record.condition,
            rules=tuple(record.rules),
            declared=record.declared,
            count=record.count,
            first_seen=record.first_seen,
            last_seen=record.last_seen,
            events=tuple(reversed(record.events)),
        )
