"""The alerting state of one check across runs: streaks, thresholds, firing, resolving, outbox.

A single failed run is often noise; a check alerts when ``failure_threshold``
runs in a row fail and resolves when ``success_threshold`` runs in a row pass.
:class:`CheckState` keeps those streaks, and the outbox of notifications that
some route has not received yet (:attr:`CheckState.pending`), so that each
transition is sent once even across restarts: a notification is recorded here
and saved before it is sent, and settled (per route) once delivered. The state
round-trips through plain dicts so the store can persist it and a restarted
agent resumes a failing streak, and its undelivered notifications, without
alerting a second time. Dicts saved by older versions, without the alert
fields, load with empty defaults.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Final, Literal

from healthwatch.checks.alerts.notification import AlertState, Notification
from healthwatch.model.checks import CheckResult

__all__ = ["MAX_PENDING", "CheckState", "PendingAlert", "Transition"]

Transition = Literal["firing", "resolved"]
MAX_PENDING: Final = 16
"""Undelivered notifications kept per check; beyond it the oldest are dropped."""


@dataclass(slots=True, kw_only=True)
class PendingAlert:
    """A notification some routes have not received yet (the outbox entry)."""

    notification: Notification
    routes: list[str]
    """Names of the routes still to deliver to."""

    def to_dict(self) -> dict[str, object]:
        """A JSON-ready copy."""
        return {"notification": self.notification.to_dict(), "routes": list(self.routes)}

    @classmethod
    def from_dict(cls, data: object) -> PendingAlert:
        """The entry :meth:`to_dict` wrote; ValueError when it is malformed."""
        if not isinstance(data, dict):
            raise ValueError(f"check state: a pending alert must be a mapping, got {data!r:.80}")
        notification, routes = data.get("notification"), data.get("routes")
        if not isinstance(notification, dict):
            raise ValueError("check state: a pending alert needs its notification")
        if not isinstance(routes, list) or not all(isinstance(r, str) for r in routes):
            raise ValueError(f"check state: pending routes must be names, got {routes!r:.80}")
        return cls(notification=Notification.from_dict(notification), routes=list(routes))


@dataclass(slots=True, kw_only=True)
class CheckState:
    """Streaks, alert status and outbox of one check; streaks change only by :meth:`observe`."""

    consecutive_failures: int = 0
    consecutive_successes: int = 0
    alerting: bool = False
    last_ok: bool | None = None
    last_run: float | None = None
    """Wall time the last run started."""
    last_success: float | None = None
    """Wall time the last passing run started."""
    transitions: int = 0
    """Firings and resolves so far: the sequence number of the latest."""
    alert_started_at: float | None = None
    """Wall time the current (or latest) alert started firing."""
    pending: list[PendingAlert] = field(default_factory=list)
    """The outbox: notifications not yet delivered to every route, oldest first."""
    notified: Notification | None = None
    """The latest notification every route has settled."""

    def observe(
        self,
        result: CheckResult,
        *,
        failure_threshold: int,
        success_threshold: int,
        hold: bool = False,
    ) -> Transition | None:
        """Count ``result``; say when the check starts (``firing``) or stops alerting.

        With ``hold`` (a maintenance window) the streaks are counted but nothing
        fires or resolves; the first run after the window does what is due.
        """
        self.last_ok = result.ok
        self.last_run = result.started_at
        if result.ok:
            self.last_success = result.started_at
            self.consecutive_successes += 1
            self.consecutive_failures = 0
            if not hold and self.alerting and self.consecutive_successes >= success_threshold:
                self.alerting = False
                self.transitions += 1
                return "resolved"
            return None
        self.consecutive_failures += 1
        self.consecutive_successes = 0
        if not hold and not self.alerting and self.consecutive_failures >= failure_threshold:
            self.alerting = True
            self.transitions += 1
            self.alert_started_at = result.started_at
            return "firing"
        return None

    # ------------------------------------------------------------ outbox
    def record(self, notification: Notification, routes: list[str]) -> list[PendingAlert]:
        """Put ``notification`` in the outbox for ``routes``; returns entries dropped for room."""
        if not routes:
            self.notified = notification
            return []
        self.pending.append(PendingAlert(notification=notification, routes=list(routes)))
        dropped = self.pending[:-MAX_PENDING]
        del self.pending[:-MAX_PENDING]
        return dropped

    def settle(self, sequence: int, route: str) -> bool:
        """``route`` has had (or given up on) notification ``sequence``; False if not pending."""
        for index, entry in enumerate(self.pending):
            if entry.notification.sequence == sequence and route in entry.routes:
                entry.routes.remove(route)
                if not entry.routes:
                    del self.pending[index]
                    if self.notified is None or self.notified.sequence < sequence:
                        self.notified = entry.notification
                return True
        return False

    def open_alert(self) -> Notification | None:
        """The firing notification of the alert now open, once it is out of the outbox."""
        notified = self.notified
        if not self.alerting or notified is None or notified.state is not AlertState.FIRING:
            return None
        return notified if notified.sequence == self.transitions else None

    # ------------------------------------------------------------ persistence
    def to_dict(self) -> dict[str, object]:
        """A JSON-ready copy, for the store."""
        return {
            "consecutive_failures": self.consecutive_failures,
            "consecutive_successes": self.consecutive_successes,
            "alerting": self.alerting,
            "last_ok": self.last_ok,
            "last_run": self.last_run,
            "last_success": self.last_success,
            "transitions": self.transitions,
            "alert_started_at": self.alert_started_at,
            "pending": [entry.to_dict() for entry in self.pending],
            "notified": None if self.notified is None else self.notified.to_dict(),
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

        pending = data.get("pending", [])
        if not isinstance(pending, list):
            raise ValueError(f"check state: pending must be a list, got {pending!r:.80}")
        notified = data.get("notified")
        if notified is not None and not isinstance(notified, dict):
            raise ValueError(f"check state: notified must be a mapping, got {notified!r:.80}")
        return cls(
            consecutive_failures=count("consecutive_failures"),
            consecutive_successes=count("consecutive_successes"),
            alerting=bool(flag("alerting", optional=False)),
            last_ok=flag("last_ok", optional=True),
            last_run=stamp("last_run"),
            last_success=stamp("last_success"),
            transitions=count("transitions"),
            alert_started_at=stamp("alert_started_at"),
            pending=[PendingAlert.from_dict(entry) for entry in pending][-MAX_PENDING:],
            notified=None if notified is None else Notification.from_dict(notified),
        )
