"""The GPU daemon's node conditions, rebuilt from the per-GPU verdicts after every observation.

A condition is True while any GPU has a problem of its type; its reason is the
worst problem's, its message names every offending bus id (the first few, then
a count). Its transition time moves when its status or reason changes; a change
of status, reason or message is reported with an event, as the log monitor
reports its condition changes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from types import MappingProxyType

from healthwatch.model.problems import Condition, ConditionStatus, Event, Severity
from healthwatch.problems.gpu.book import CONDITIONS, Problem

__all__ = ["MAX_LISTED", "NodeConditions"]

MAX_LISTED = 8
"""GPUs named in a condition's message; the rest are counted."""


def _message(entries: Sequence[tuple[str, Problem]]) -> str:
    shown = [f"{bus_id}: {problem.message}" for bus_id, problem in entries[:MAX_LISTED]]
    if len(entries) > MAX_LISTED:
        shown.append(f"and {len(entries) - MAX_LISTED} more")
    return "; ".join(shown)


class NodeConditions:
    """The current ``GPUUnhealthy``, ``GPUMemoryError`` and ``GPUResetRequired``."""

    def __init__(self, *, now: float) -> None:
        self._current: dict[str, Condition] = {
            kind: Condition(
                type=kind,
                status=ConditionStatus.FALSE,
                transition=now,
                reason=reason,
                message=message,
            )
            for kind, (reason, message) in CONDITIONS.items()
        }

    def conditions(self) -> tuple[Condition, ...]:
        """Every condition, in a fixed order."""
        return tuple(self._current.values())

    def update(
        self, verdicts: Mapping[str, Sequence[tuple[str, Problem]]], *, at: float
    ) -> list[Event]:
        """Apply the verdicts (condition type → offending GPUs, worst first); events for changes."""
        events: list[Event] = []
        for kind, (healthy_reason, healthy_message) in CONDITIONS.items():
            entries = verdicts.get(kind, ())
            current = self._current[kind]
            if entries:
                status, reason = ConditionStatus.TRUE, entries[0][1].reason
                message = _message(entries)
            else:
                status, reason, message = ConditionStatus.FALSE, healthy_reason, healthy_message
            if (status, reason, message) == (current.status, current.reason, current.message):
                continue
            moved = status is not current.status or reason != current.reason
            updated = Condition(
                type=kind,
                status=status,
                transition=at if moved else current.transition,
                reason=reason,
                message=message,
            )
            self._current[kind] = updated
            labels = {"bus_id": entries[0][0]} if entries else {}
            events.append(
                Event(
                    severity=Severity.WARN if entries else Severity.INFO,
                    timestamp=at,
                    reason=reason,
                    message=(
                        f"Node condition {kind} is now: {status}, reason: {reason}, "
                        f'message: "{message}"'
                    ),
                    labels=MappingProxyType(labels),
                )
            )
        return events
