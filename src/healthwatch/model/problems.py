"""Node problems, in node-problem-detector's vocabulary.

A problem daemon reports a :class:`Status`: the temporary problems it saw
(:class:`Event`) and the full current set of permanent problems
(:class:`Condition`). Exporters turn these into metrics, node conditions,
Kubernetes events, log lines and webhooks.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

__all__ = ["Condition", "ConditionStatus", "Event", "Severity", "Status"]


class Severity(StrEnum):
    """How bad a temporary problem is (node-problem-detector's ``info``/``warn``)."""

    INFO = "info"
    WARN = "warn"


class ConditionStatus(StrEnum):
    """A node condition's status, spelled as Kubernetes spells it."""

    TRUE = "True"
    FALSE = "False"
    UNKNOWN = "Unknown"


@dataclass(frozen=True, slots=True, kw_only=True)
class Event:
    """A temporary problem: it happened, it is reported once, nothing stays set."""

    severity: Severity
    """Severity of the event."""
    timestamp: float
    """Wall time at which the problem was seen (the log line's time, when known)."""
    reason: str
    """Short CamelCase reason (``OOMKilling``, ``TaskHung``)."""
    message: str
    """Human-readable detail, usually the matched log text."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Condition:
    """A permanent problem: a state of the node that holds until something clears it."""

    type: str
    """Condition type (``KernelDeadlock``, ``ReadonlyFilesystem``)."""
    status: ConditionStatus
    """True while the problem holds; False is the healthy default."""
    transition: float
    """Wall time of the latest change of ``status`` or ``reason``."""
    reason: str
    """Short CamelCase reason for the current status."""
    message: str
    """Human-readable detail for the current status."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Status:
    """What one problem daemon reports at once."""

    source: str
    """Name of the reporting daemon (``kernel-monitor``); the event source component."""
    events: tuple[Event, ...] = ()
    """Temporary problems seen since the previous status."""
    conditions: tuple[Condition, ...] = ()
    """The daemon's full current set of conditions, changed or not."""
