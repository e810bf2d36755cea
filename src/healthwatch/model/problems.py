"""Node problems, in node-problem-detector's vocabulary.

A problem daemon reports a :class:`Status`: the temporary problems it saw
(:class:`Event`) and the full current set of permanent problems
(:class:`Condition`). Exporters turn these into metrics, node conditions,
Kubernetes events, log lines and webhooks.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType
from typing import Protocol, runtime_checkable

__all__ = [
    "Condition",
    "ConditionStatus",
    "Event",
    "ProblemDeclaration",
    "Severity",
    "Status",
    "StatusExporter",
]


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
    labels: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    """Extra detail from the rule (a GPU's bus id, an error code); never free-form text."""


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


@dataclass(frozen=True, slots=True, kw_only=True)
class ProblemDeclaration:
    """A problem a daemon may report, declared up front so metrics start at zero."""

    reason: str
    """Reason of the events (and of the condition, for permanent problems)."""
    condition: str | None = None
    """Condition type a permanent problem sets; None for temporary problems."""
    source: str = ""
    """The daemon that may report it (filled in by the detector when empty)."""
    rule: str = ""
    """What the daemon looks for, for people (a log rule's pattern); empty when it has none."""


@runtime_checkable
class StatusExporter(Protocol):
    """Where the detector sends statuses: metrics, node conditions, logs, webhooks."""

    @property
    def name(self) -> str:
        """Short name for logs, metrics and the health component (``prometheus``)."""

    def declare(self, declarations: tuple[ProblemDeclaration, ...]) -> None:
        """Learn every problem that may be reported, before the first status."""

    async def export(self, status: Status) -> None:
        """Deliver one status; may be slow: the detector gives each exporter its own queue."""
