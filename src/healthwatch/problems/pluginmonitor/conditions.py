"""A plugin monitor's conditions: node-problem-detector's status mapping, kept across restarts.

A permanent rule's result sets its condition: OK → False, a problem → True,
Unknown → Unknown. The transitions are NPD's, case by case:

- True → False or Unknown: the default reason, and the default message (False)
  or the plugin's output (Unknown, where the output is what helps debugging);
- False or Unknown → True: the rule's reason and the output;
- False ↔ Unknown: the default reason, the default message or the output;
- True → True: updated only if the reason differs, or (``message_change_updates``)
  the output differs;
- anything else: no change.

Each change comes with an event ``Node condition <type> is now: <status>,
reason: <reason>, message: "<message>"`` (severity warn when True, info
otherwise). The log monitor's condition book has no Unknown and no
message-change rule, hence this one.

The current conditions are saved in the state directory on every change and
taken back on start, so a restart neither flaps a node's condition to False nor
forgets a problem; a saved condition whose type is no longer declared is
reported False once (``Retired``), then dropped.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping

from healthwatch.aio.processes import PluginStatus
from healthwatch.model.problems import Condition, ConditionStatus, Event, Severity
from healthwatch.problems.pluginmonitor.outcome import go_quote
from healthwatch.problems.pluginmonitor.specs import DefaultCondition

__all__ = ["PluginConditionBook", "change_event"]

_log = logging.getLogger("healthwatch.problems.pluginmonitor")
_STATE_VERSION = 1
_STATUS_OF = {
    PluginStatus.OK: ConditionStatus.FALSE,
    PluginStatus.FAILING: ConditionStatus.TRUE,
    PluginStatus.UNKNOWN: ConditionStatus.UNKNOWN,
}


def change_event(condition: Condition) -> Event:
    """The event that announces ``condition``'s new state, as NPD words it."""
    return Event(
        severity=Severity.WARN if condition.status is ConditionStatus.TRUE else Severity.INFO,
        timestamp=condition.transition,
        reason=condition.reason,
        message=(
            f"Node condition {condition.type} is now: {condition.status}, "
            f"reason: {condition.reason}, message: {go_quote(condition.message)}"
        ),
    )


class PluginConditionBook:
    """The current conditions of one plugin monitor, keyed by type, in declaration order."""

    def __init__(
        self,
        defaults: Iterable[DefaultCondition],
        *,
        now: float,
        message_change_updates: bool = False,
    ) -> None:
        self._defaults = {d.type: d for d in defaults}
        self._message_change = message_change_updates
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
        self._retiring: list[Condition] = []

    def conditions(self) -> tuple[Condition, ...]:
        """Every current condition (and, once, those being retired)."""
        retiring, self._retiring = self._retiring, []
        return (*self._current.values(), *retiring)

    def get(self, type_: str) -> Condition | None:
        """The current condition of ``type_``."""
        return self._current.get(type_)

    def apply(
        self, type_: str, *, status: PluginStatus, reason: str, message: str, at: float
    ) -> Event | None:
        """A permanent rule's result; the change event, or None when nothing changed."""
        current = self._current.get(type_)
        default = self._defaults.get(type_)
        if current is None or default is None:
            raise KeyError(f"condition {type_!r} is not declared")
        new = _STATUS_OF[status]
        old = current.status
        true = ConditionStatus.TRUE
        if old is true and new is not true:
            new_reason = default.reason
            new_message = default.message if new is ConditionStatus.FALSE else message
        elif old is not true and new is true:
            new_reason, new_message = reason, message
        elif old is not new:
            new_reason = default.reason
            new_message = default.message if new is ConditionStatus.FALSE else message
        elif old is true and (
            current.reason != reason or (self._message_change and current.message != message)
        ):
            new_reason, new_message = reason, message
        else:
            return None
        updated = Condition(
            type=type_, status=new, transition=at, reason=new_reason, message=new_message
        )
        self._current[type_] = updated
        return change_event(updated)

    # ------------------------------------------------------------ persistence
    def to_json(self) -> dict[str, object]:
        """What is saved: the current conditions."""
        return {
            "version": _STATE_VERSION,
            "conditions": [
                {
                    "type": c.type,
                    "status": str(c.status),
                    "transition": c.transition,
                    "reason": c.reason,
                    "message": c.message,
                }
                for c in self._current.values()
            ],
        }

    def restore(self, data: Mapping[str, object], *, now: float) -> None:
        """Take over saved conditions; retire saved types that are no longer declared.

        Raises ValueError (or KeyError, TypeError) on a malformed state, leaving the
        book unchanged.
        """
        items = data.get("conditions")
        if data.get("version") != _STATE_VERSION or not isinstance(items, list):
            raise ValueError("not a saved condition state of this version")
        restored: dict[str, Condition] = {}
        retiring: list[Condition] = []
        for item in items:
            if not isinstance(item, dict):
                raise TypeError("a saved condition is not an object")
            condition = Condition(
                type=str(item["type"]),
                status=ConditionStatus(item["status"]),
                transition=float(item["transition"]),
                reason=str(item["reason"]),
                message=str(item["message"]),
            )
            if condition.type in self._defaults:
                restored[condition.type] = condition
            elif condition.status is not ConditionStatus.FALSE:
                retiring.append(
                    Condition(
                        type=condition.type,
                        status=ConditionStatus.FALSE,
                        transition=now,
                        reason="Retired",
                        message="no rule sets this condition any more",
                    )
                )
        self._current.update(restored)
        self._retiring += retiring
