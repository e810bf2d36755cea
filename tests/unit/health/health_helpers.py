"""Helpers shared by the health core tests (imported as ``health_helpers``)."""

from __future__ import annotations

from dataclasses import dataclass, field

from healthwatch.model.health import ComponentStatus, HealthStatus


@dataclass
class TransitionLog:
    """An observer that records what it was told: (name, old, new) and the snapshot."""

    calls: list[tuple[str, HealthStatus, HealthStatus]] = field(default_factory=list)
    snapshots: list[ComponentStatus] = field(default_factory=list)

    def __call__(
        self, name: str, old: HealthStatus, new: HealthStatus, snapshot: ComponentStatus
    ) -> None:
        self.calls.append((name, old, new))
        self.snapshots.append(snapshot)
