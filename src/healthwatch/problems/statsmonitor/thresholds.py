"""Pressure conditions from thresholds, with hysteresis.

A threshold sets its condition when a figure crosses the high mark (``above``,
or ``below`` for memory available) on ``samples`` consecutive rounds, and
clears it only when the figure is back past the low mark for as many rounds:
a figure hovering at the mark does not flap a node condition. Disk thresholds
hold per mount. A condition holds while any of its thresholds does; its reason
is the first such threshold's, its message names what was observed when it
was set. When a collector fails, its thresholds keep their state.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Literal

from healthwatch.model.problems import Condition, ConditionStatus, Event, Severity
from healthwatch.problems.statsmonitor.samples import Snapshot

__all__ = [
    "DEFAULT_CONDITIONS",
    "THRESHOLD_KINDS",
    "ConditionDefault",
    "Threshold",
    "ThresholdBook",
    "ThresholdKind",
    "observe",
]

Direction = Literal["above", "below"]


@dataclass(frozen=True, slots=True, kw_only=True)
class ConditionDefault:
    """A condition type with its healthy (False) reason and message."""

    type: str
    reason: str
    message: str


@dataclass(frozen=True, slots=True, kw_only=True)
class ThresholdKind:
    """What a threshold key watches, and its defaults."""

    collector: str
    direction: Direction
    condition: str
    reason: str
    set_at: float
    clear_at: float
    what: str
    """How the figure reads in a message (``of space used``)."""
    per_mount: bool = False


THRESHOLD_KINDS: Mapping[str, ThresholdKind] = {
    "memory_available_percent": ThresholdKind(
        collector="memory", direction="below", condition="MemoryPressure",
        reason="MemoryAvailableLow", set_at=10, clear_at=15, what="of memory available",
    ),
    "disk_used_percent": ThresholdKind(
        collector="disk", direction="above", condition="DiskPressure", reason="DiskSpaceLow",
        set_at=90, clear_at=85, what="of space used", per_mount=True,
    ),
    "inodes_used_percent": ThresholdKind(
        collector="disk", direction="above", condition="DiskPressure", reason="InodesLow",
        set_at=90, clear_at=85, what="of inodes used", per_mount=True,
    ),
    "pids_used_percent": ThresholdKind(
        collector="pids", direction="above", condition="PIDPressure", reason="PIDsLow",
        set_at=90, clear_at=85, what="of PIDs used",
    ),
    "conntrack_used_percent": ThresholdKind(
        collector="conntrack", direction="above", condition="ConntrackFull",
        reason="ConntrackTableFull", set_at=90, clear_at=80, what="of conntrack entries used",
    ),
}  # fmt: skip
"""Every threshold key, in the order conditions are declared."""

DEFAULT_CONDITIONS: Mapping[str, ConditionDefault] = {
    c.type: c
    for c in (
        ConditionDefault(
            type="MemoryPressure", reason="NoMemoryPressure",
            message="memory available is above its low mark",
        ),
        ConditionDefault(
            type="DiskPressure", reason="NoDiskPressure",
            message="filesystems have space and inodes left",
        ),
        ConditionDefault(type="PIDPressure", reason="NoPIDPressure", message="PIDs are available"),
        ConditionDefault(
            type="ConntrackFull", reason="ConntrackAvailable",
            message="the conntrack table has room",
        ),
    )
}  # fmt: skip
"""The healthy state of each built-in condition type."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Threshold:
    """One configured threshold."""

    key: str
    """A :data:`THRESHOLD_KINDS` key."""
    condition: str
    reason: str
    direction: Direction
    set_at: float
    """The high mark (for ``below``, the low one) that sets the condition."""
    clear_at: float
    """The mark the figure must be back past to clear it."""
    samples: int = 1
    """Consecutive rounds needed to set and to clear."""
    mounts: tuple[str, ...] | None = None
    """Host paths whose filesystems are watched (None: every block-device mount)."""

    def crossed(self, value: float) -> bool:
        """Past the setting mark."""
        return value > self.set_at if self.direction == "above" else value < self.set_at

    def recovered(self, value: float) -> bool:
        """Back past the clearing mark."""
        return value < self.clear_at if self.direction == "above" else value > self.clear_at

    def describe(self, subject: str, value: float) -> str:
        """``/var: 93.1% of space used (above 90%)``."""
        what = THRESHOLD_KINDS[self.key].what
        head = f"{subject}: " if subject else ""
        return f"{head}{value:.1f}% {what} ({self.direction} {self.set_at:g}%)"


def observe(threshold: Threshold, snapshot: Snapshot) -> dict[str, float] | None:
    """The figures a threshold judges (subject → percent); None when its collector has none."""
    key = threshold.key
    if key == "memory_available_percent":
        memory = snapshot.memory
        return None if memory is None else {"": memory.available_percent}
    if key == "pids_used_percent":
        pids = snapshot.pids
        return None if pids is None else {"": pids.used_percent}
    if key == "conntrack_used_percent":
        track = snapshot.conntrack
        return None if track is None else {"": track.used_percent}
    disk = snapshot.disk
    if disk is None:
        return None
    if threshold.mounts is None:
        usages = list(disk.mounts)
    else:
        usages = [disk.watched[p] for p in threshold.mounts if p in disk.watched]
    if key == "inodes_used_percent":
        return {u.mountpoint: u.inodes_used_percent for u in usages if u.inodes > 0}
    return {u.mountpoint: u.used_percent for u in usages}


@dataclass(slots=True)
class _State:
    active: bool = False
    streak: int = 0
    value: float = 0.0
    """The figure when the state last changed (shown in the message)."""


@dataclass(slots=True)
class _Tracked:
    threshold: Threshold
    subjects: dict[str, _State] = field(default_factory=dict)

    def step(self, observed: Mapping[str, float]) -> None:
        for gone in set(self.subjects) - set(observed):
            del self.subjects[gone]
        need = self.threshold.samples
        for subject, value in observed.items():
            state = self.subjects.setdefault(subject, _State())
            moving = (
                self.threshold.recovered(value) if state.active else self.threshold.crossed(value)
            )
            state.streak = state.streak + 1 if moving else 0
            if state.streak >= need:
                state.active, state.streak, state.value = not state.active, 0, value


def _change_event(condition: Condition) -> Event:
    return Event(
        severity=Severity.WARN if condition.status is ConditionStatus.TRUE else Severity.INFO,
        timestamp=condition.transition,
        reason=condition.reason,
        message=(
            f"Node condition {condition.type} is now: {condition.status}, "
            f'reason: {condition.reason}, message: "{condition.message}"'
        ),
    )


class ThresholdBook:
    """The thresholds' states and the conditions they come to."""

    def __init__(
        self,
        thresholds: Iterable[Threshold],
        defaults: Iterable[ConditionDefault],
        *,
        now: float,
    ) -> None:
        self._tracked = [_Tracked(threshold=t) for t in thresholds]
        self._defaults = {d.type: d for d in defaults}
        self._current = {
            d.type: Condition(
                type=d.type,
                status=ConditionStatus.FALSE,
                transition=now,
                reason=d.reason,
                message=d.message,
            )
            for d in self._defaults.values()
        }

    def conditions(self) -> tuple[Condition, ...]:
        """Every condition, in declaration order."""
        return tuple(self._current.values())

    def update(self, snapshot: Snapshot, *, now: float) -> tuple[bool, list[Event]]:
        """Judge one snapshot: (whether any condition changed, the change events)."""
        for tracked in self._tracked:
            observed = observe(tracked.threshold, snapshot)
            if observed is not None:
                tracked.step(observed)
        changed = False
        events: list[Event] = []
        for type_, default in self._defaults.items():
            active = [
                (t.threshold, subject, state.value)
                for t in self._tracked
                if t.threshold.condition == type_
                for subject, state in sorted(t.subjects.items())
                if state.active
            ]
            if active:
                status, reason = ConditionStatus.TRUE, active[0][0].reason
                message = "; ".join(t.describe(s, v) for t, s, v in active)
            else:
                status, reason, message = ConditionStatus.FALSE, default.reason, default.message
            old = self._current[type_]
            if (old.status, old.reason, old.message) == (status, reason, message):
                continue
            flipped = (old.status, old.reason) != (status, reason)
            new = Condition(
                type=type_,
                status=status,
                transition=now if flipped else old.transition,
                reason=reason,
                message=message,
            )
            self._current[type_] = new
            changed = True
            if flipped:
                events.append(_change_event(new))
        return changed, events
