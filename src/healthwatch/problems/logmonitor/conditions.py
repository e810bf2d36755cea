"""The conditions of one monitor: how matches set them, how they clear, how they survive restarts.

node-problem-detector sets a permanent condition True and never back: only a
restart clears it, and a restart also forgets a real problem. Here a condition
clears by a recovery rule (a pattern that sets it back to False) or after a
``clear_after`` period with no new match; the current conditions are saved in
the state directory and restored on start, so a restart neither flaps a node
nor forgets a problem; and a condition whose rules were removed from the config
is retired: reported False once, then dropped.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace

from healthwatch.model.problems import Condition, ConditionStatus, Event, Severity
from healthwatch.problems.logmonitor.specs import DefaultCondition

__all__ = ["ConditionBook", "Transition"]

_log = logging.getLogger("healthwatch.problems.logmonitor")
_STATE_VERSION = 1


@dataclass(frozen=True, slots=True, kw_only=True)
class Transition:
    """A condition changed; the event that says so is ``event``."""

    condition: Condition
    event: Event


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


class ConditionBook:
    """The current conditions of one monitor, keyed by type."""

    def __init__(self, defaults: Iterable[DefaultCondition], *, now: float) -> None:
        self._defaults = {d.type: d for d in defaults}
        self._current: dict[str, Condition] = {
            d.type: Condition(
                type=d.type,
                status=ConditionStatus.FALSE,
                transition=now,
                reason=d.reason,
                message=d.message,
            )
            for d in self._defaults.values()
        }
        self._last_match: dict[str, float] = {}
        self._clear_after: dict[str, float] = {}
        self._retiring: list[Condition] = []

    # ------------------------------------------------------------ reading
    def conditions(self) -> tuple[Condition, ...]:
        """Every current condition (and, once, the ones being retired), in declaration order."""
        retiring, self._retiring = self._retiring, []
        return (*self._current.values(), *retiring)

    def get(self, type_: str) -> Condition | None:
        """The current condition of ``type_``."""
        return self._current.get(type_)

    # ------------------------------------------------------------ changing
    def set_true(
        self,
        type_: str,
        *,
        reason: str,
        message: str,
        at: float,
        clear_after: float | None = None,
    ) -> Transition | None:
        """A permanent rule matched: the condition holds (a new reason is a change too)."""
        current = self._current.get(type_)
        if current is None:
            raise KeyError(f"condition {type_!r} is not declared")
        self._last_match[type_] = at
        if clear_after is not None:
            self._clear_after[type_] = clear_after
        else:
            self._clear_after.pop(type_, None)
        if current.status is ConditionStatus.TRUE and current.reason == reason:
            return None
        updated = Condition(
            type=type_, status=ConditionStatus.TRUE, transition=at, reason=reason, message=message
        )
        self._current[type_] = updated
        return Transition(condition=updated, event=_change_event(updated))

    def set_false(
        self, type_: str, *, at: float, reason: str | None = None, message: str | None = None
    ) -> Transition | None:
        """A recovery rule matched, or the condition timed out: back to its default."""
        current = self._current.get(type_)
        default = self._defaults.get(type_)
        if current is None or default is None or current.status is ConditionStatus.FALSE:
            return None
        updated = Condition(
            type=type_,
            status=ConditionStatus.FALSE,
            transition=at,
            reason=reason or default.reason,
            message=message or default.message,
        )
        self._current[type_] = updated
        self._last_match.pop(type_, None)
        self._clear_after.pop(type_, None)
        return Transition(condition=updated, event=_change_event(updated))

    def expire(self, now: float) -> list[Transition]:
        """Clear every condition whose ``clear_after`` passed without a new match."""
        changes: list[Transition] = []
        for type_, limit in list(self._clear_after.items()):
            last = self._last_match.get(type_)
            if last is None or now - last < limit:
                continue
            change = self.set_false(type_, at=now, message=f"cleared: no new match for {limit:g}s")
            if change is not None:
                changes.append(change)
        return changes

    def next_expiry(self) -> float | None:
        """Wall time at which the next ``clear_after`` runs out, if any."""
        times = [
            self._last_match[t] + limit
            for t, limit in self._clear_after.items()
            if t in self._last_match
        ]
        return min(times) if times else None

    # ------------------------------------------------------------ persistence
    def to_json(self) -> dict[str, object]:
        """What is saved: the conditions and when each last matched."""
        return {
            "version": _STATE_VERSION,
            "conditions": [
                {
                    "type": c.type,
                    "status": str(c.status),
                    "transition": c.transition,
                    "reason": c.reason,
                    "message": c.message,
                    "last_match": self._last_match.get(c.type),
                    "clear_after": self._clear_after.get(c.type),
                }
                for c in self._current.values()
            ],
        }

    def restore(self, data: Mapping[str, object], *, now: float) -> None:
        """Take over saved conditions; retire saved types that are no longer declared."""
        items = data.get("conditions")
        if data.get("version") != _STATE_VERSION or not isinstance(items, list):
            raise ValueError("not a saved condition state of this version")
        for item in items:
            if not isinstance(item, dict):
                raise ValueError("a saved condition is not an object")
            condition = Condition(
                type=str(item["type"]),
                status=ConditionStatus(item["status"]),
                transition=float(item["transition"]),
                reason=str(item["reason"]),
                message=str(item["message"]),
            )
            if condition.type not in self._defaults:
                if condition.status is ConditionStatus.TRUE:
                    self._retiring.append(
                        replace(
                            condition,
                            status=ConditionStatus.FALSE,
                            transition=now,
                            reason="Retired",
                            message="no rule sets this condition any more",
                        )
                    )
                continue
            self._current[condition.type] = condition
            if item.get("last_match") is not None:
                self._last_match[condition.type] = float(item["last_match"])
            if item.get("clear_after") is not None:
                self._clear_after[condition.type] = float(item["clear_after"])
