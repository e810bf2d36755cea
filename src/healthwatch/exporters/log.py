"""The log exporter: every problem event and condition as one structured log line.

The simplest way to see what the detector found, and the one that always works:
lines go to the ``healthwatch.problems`` logger, which ``--log-format json``
turns into JSON lines for a log collector.
"""

from __future__ import annotations

import logging

from healthwatch.model.problems import (
    Condition,
    ConditionStatus,
    ProblemDeclaration,
    Severity,
    Status,
)

__all__ = ["LogExporter"]

_log = logging.getLogger("healthwatch.problems")


class LogExporter:
    """Logs each event, and each condition when it changes."""

    name = "log"

    def __init__(self) -> None:
        self._last: dict[tuple[str, str], tuple[ConditionStatus, str]] = {}

    def declare(self, declarations: tuple[ProblemDeclaration, ...]) -> None:
        """Nothing to prepare."""
        del declarations

    async def export(self, status: Status) -> None:
        """One line per event; one per condition that changed since the last status."""
        for event in status.events:
            level = logging.WARNING if event.severity is Severity.WARN else logging.INFO
            labels = "".join(f" {k}={v}" for k, v in sorted(event.labels.items()))
            _log.log(level, "%s: %s: %s%s", status.source, event.reason, event.message, labels)
        for condition in status.conditions:
            self._condition(status.source, condition)

    def _condition(self, source: str, condition: Condition) -> None:
        key = (source, condition.type)
        state = (condition.status, condition.reason)
        if self._last.get(key) == state:
            return
        first = key not in self._last
        self._last[key] = state
        if first and condition.status is ConditionStatus.FALSE:
            return  # the healthy default at start is not news
        _log.warning(
            "%s: condition %s is %s (%s): %s",
            source,
            condition.type,
            condition.status,
            condition.reason,
            condition.message,
        )
