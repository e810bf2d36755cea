"""The alert notification: one threshold crossing or recovery of one check, as a value.

A transition of :class:`~healthwatch.checks.state.CheckState` becomes a
:class:`Notification` once; every route (Alertmanager, Slack, webhook) renders
the same value its own way, and the outbox keeps it as a plain dict in the
check's saved state until each route has it, so the value must round-trip
through JSON exactly. Errors are capped here, so neither the store nor a
receiver ever sees an unbounded message.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from types import MappingProxyType
from typing import Final

__all__ = ["MAX_ERRORS", "AlertState", "Notification", "cap_errors", "rfc3339"]

MAX_ERRORS: Final = 10
MAX_ERROR_CHARS: Final = 500


class AlertState(StrEnum):
    """Whether the notification opens an alert or closes it."""

    FIRING = "firing"
    RESOLVED = "resolved"


def rfc3339(at: float) -> str:
    """``2026-12-01T02:00:00.123Z``: UTC with milliseconds, as Alertmanager and people read it."""
    stamp = datetime.fromtimestamp(at, UTC)
    return stamp.strftime("%Y-%m-%dT%H:%M:%S.") + f"{stamp.microsecond // 1000:03d}Z"


def cap_errors(errors: tuple[str, ...] | list[str]) -> tuple[str, ...]:
    """At most :data:`MAX_ERRORS` errors of at most :data:`MAX_ERROR_CHARS` characters each."""
    capped = [e if len(e) <= MAX_ERROR_CHARS else e[: MAX_ERROR_CHARS - 1] + "…" for e in errors]
    if len(capped) > MAX_ERRORS:
        capped = [*capped[: MAX_ERRORS - 1], f"… and {len(capped) - MAX_ERRORS + 1} more"]
    return tuple(capped)


@dataclass(frozen=True, slots=True, kw_only=True)
class Notification:
    """What a route is told about one transition of one check."""

    check_id: str
    """``namespace/name``."""
    namespace: str
    name: str
    state: AlertState
    sequence: int
    """The check's transition number: a firing and its resolve have consecutive numbers."""
    errors: tuple[str, ...] = ()
    """Why the check failed (for a resolve: empty)."""
    labels: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    """The check's labels."""
    started_at: float
    """Wall time the alert started firing."""
    ended_at: float | None = None
    """Wall time it resolved; None while firing."""
    url: str | None = None
    """Where people see the check (the dashboard); None when unknown."""

    @property
    def firing(self) -> bool:
        """True for a firing notification, False for a resolve."""
        return self.state is AlertState.FIRING

    def summary(self) -> str:
        """One line for people: ``check default/web is failing``."""
        verb = "is failing" if self.firing else "recovered"
        return f"check {self.check_id} {verb}"

    def description(self) -> str:
        """The errors, one per line, or what a resolve means."""
        if self.errors:
            return "\n".join(self.errors)
        return "failing" if self.firing else "the check passes again"

    def values(self) -> dict[str, str]:
        """Every field as text, for templates."""
        return {
            "check": self.check_id,
            "namespace": self.namespace,
            "name": self.name,
            "state": self.state.value,
            "errors": "; ".join(self.errors),
            "summary": self.summary(),
            "description": self.description(),
            "started_at": rfc3339(self.started_at),
            "ended_at": "" if self.ended_at is None else rfc3339(self.ended_at),
            "url": self.url or "",
            "sequence": str(self.sequence),
        }

    def to_dict(self) -> dict[str, object]:
        """A JSON-ready copy (for the outbox and the generic webhook body)."""
        return {
            "check": self.check_id,
            "namespace": self.namespace,
            "name": self.name,
            "state": self.state.value,
            "sequence": self.sequence,
            "errors": list(self.errors),
            "labels": dict(self.labels),
            "started_at": self.started_at,
            "ended_at": self.ended_at,
            "url": self.url,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, object]) -> Notification:
        """The notification :meth:`to_dict` wrote; ValueError naming the field when malformed."""

        def text(key: str, *, optional: bool = False) -> str | None:
            value = data.get(key)
            if value is None and optional:
                return None
            if not isinstance(value, str):
                raise ValueError(f"notification: {key} must be text, got {value!r:.80}")
            return value

        def stamp(key: str, *, optional: bool = False) -> float | None:
            value = data.get(key)
            if value is None and optional:
                return None
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise ValueError(f"notification: {key} must be a time, got {value!r:.80}")
            return float(value)

        errors, labels, sequence = (
            data.get("errors", []),
            data.get("labels", {}),
            data.get("sequence"),
        )
        if not isinstance(errors, list) or not all(isinstance(e, str) for e in errors):
            raise ValueError(f"notification: errors must be a list of text, got {errors!r:.80}")
        if not isinstance(labels, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in labels.items()
        ):
            raise ValueError(f"notification: labels must map text to text, got {labels!r:.80}")
        if isinstance(sequence, bool) or not isinstance(sequence, int) or sequence < 1:
            raise ValueError(f"notification: sequence must be a positive count, got {sequence!r}")
        try:
            state = AlertState(str(text("state")))
        except ValueError:
            raise ValueError(
                f"notification: state must be firing or resolved, got {data.get('state')!r:.40}"
            ) from None
        return cls(
            check_id=str(text("check")),
            namespace=str(text("namespace")),
            name=str(text("name")),
            state=state,
            sequence=sequence,
            errors=cap_errors(errors),
            labels=MappingProxyType(dict(labels)),
            started_at=float(stamp("started_at") or 0.0),
            ended_at=stamp("ended_at", optional=True),
            url=text("url", optional=True),
        )
