"""The alerting state of one check across runs: streaks, thresholds, firing and resolving.

A single failed run is often noise; a check alerts when ``failure_threshold``
runs in a row fail and resolves when ``success_threshold`` runs in a row pass.
:class:`CheckState` keeps those streaks. It round-trips through plain dicts so
the store can persist it and a restarted agent resumes a failing streak
without alerting a second time.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from healthwatch.model.checks import CheckResult

__all__ = ["CheckState", "Transition"]

Transition = Literal["firing", "resolved"]


@dataclass(slots=True, kw_only=True)
class CheckState:
    """Streaks and alert status of one check; changed only by :meth:`observe`."""

    consecutive_failures: int = 0
    consecutive_successes: int = 0
    alerting: bool = False
    last_ok: bool | None = None
    last_run: float | None = None
    """Wall time the last run started."""
    last_success: float | None = None
    """Wall time the last passing run started."""

    def observe(
        self, result: CheckResult, *, failure_threshold: int, success_threshold: int
    ) -> Transition | None:
        """Count ``result``; say when the check starts (``firing``) or stops alerting."""
        self.last_ok = result.ok
        self.last_run = result.started_at
        if result.ok:
            self.last_success = result.started_at
            self.consecutive_successes += 1
            self.consecutive_failures = 0
            if self.alerting and self.consecutive_successes >= success_threshold:
                self.alerting = False
                return "resolved"
            return None
        self.consecutive_failures += 1
        self.consecutive_successes = 0
        if not self.alerting and self.consecutive_failures >= failure_threshold:
            self.alerting = True
            return "firing"
        return None

    def to_dict(self) -> dict[str, object]:
        """A JSON-ready copy, for the store."""
        return {
            "consecutive_failures": self.consecutive_failures,
            "consecutive_successes": self.consecutive_successes,
            "alerting": self.alerting,
            "last_ok": self.last_ok,
            "last_run": self.last_run,
            "last_success": self.last_success,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, object]) -> CheckState:
        """The state :meth:`to_dict` saved; ValueError naming the field when it is malformed."""

        def count(key: str) -> int:
            value = data.get(key, 0)
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ValueError(f"check state: {key} must be a count, got {value!r}")
            return value

        def flag(key: str, *, optional: bool) -> bool | None:
            value = data.get(key, None if optional else False)
            if not (isinstance(value, bool) or (optional and value is None)):
                raise ValueError(f"check state: {key} must be a boolean, got {value!r}")
            return value

        def stamp(key: str) -> float | None:
            value = data.get(key)
            if value is None:
                return None
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise ValueError(f"check state: {key} must be a time, got {value!r}")
            return float(value)

        return cls(
            consecutive_failures=count("consecutive_failures"),
            consecutive_successes=count("consecutive_successes"),
            alerting=bool(flag("alerting", optional=False)),
            last_ok=flag("last_ok", optional=True),
            last_run=stamp("last_run"),
            last_success=stamp("last_success"),
        )
