"""The component table: every component's state, and how one observation is recorded.

Shared by the registry (pushed statuses, reports) and the check runner (pulled
results) so that both record through one path, under one lock: the status
settles through its thresholds, a pulled result is cached for its TTL, the
owner's hook runs (the registry latches startup there), and the transitions to
tell observers are returned, to be delivered once the lock is released.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass

from healthwatch.aio.clock import Clock
from healthwatch.health.checks import CheckOutcome
from healthwatch.health.observers import ObserverHub, Transition
from healthwatch.health.pulling import PulledCheck
from healthwatch.health.state import ComponentState
from healthwatch.model.health import ComponentStatus

__all__ = ["ComponentTable", "Delivery", "Entry"]

Delivery = tuple[list[Transition], bool]
"""Transitions to hand to observers, and whether anything changed for listeners."""


@dataclass(slots=True, kw_only=True)
class Entry:
    """One registered component."""

    state: ComponentState
    pulled: PulledCheck | None = None


class ComponentTable:
    """Components by name, with the lock that guards them and everything built on them."""

    def __init__(self, *, clock: Clock, hub: ObserverHub) -> None:
        self.clock = clock
        self.hub = hub
        self.lock = threading.RLock()
        self.entries: dict[str, Entry] = {}
        self.after_record: Callable[[], bool] = lambda: False
        """Called under the lock after each observation; True if it changed anything."""

    def record(
        self, entry: Entry, name: str, outcome: CheckOutcome, *, duration: float | None
    ) -> Delivery:
        """Under the lock: apply one observation; return what to deliver once it is released."""
        wall, mono = self.clock.time(), self.clock.monotonic()
        before = entry.state.observe(
            outcome.status,
            outcome.message,
            outcome.metadata,
            wall=wall,
            mono=mono,
            duration=duration,
        )
        if entry.pulled is not None:
            entry.pulled.cache(outcome.status, mono)
        transitions: list[Transition] = []
        if before is not None:
            snap = entry.state.snapshot()
            transitions.append(Transition(name, before, snap.status, snap))
        changed = self.after_record()
        return transitions, changed or bool(transitions)

    def observe(self, name: str, outcome: CheckOutcome, *, duration: float | None) -> None:
        """Record one observation of ``name`` (if still registered) and tell observers."""
        with self.lock:
            entry = self.entries.get(name)
            if entry is None:
                return
            transitions, changed = self.record(entry, name, outcome, duration=duration)
        self.hub.deliver(transitions, changed=changed)

    def expire(self, names: list[str] | None = None) -> list[Transition]:
        """Under the lock: turn stale statuses UNKNOWN; return the transitions."""
        wall, mono = self.clock.time(), self.clock.monotonic()
        transitions: list[Transition] = []
        for name in self.entries if names is None else names:
            entry = self.entries.get(name)
            if entry is None:
                continue
            before = entry.state.expire(wall=wall, mono=mono)
            if before is not None:
                snap = entry.state.snapshot()
                transitions.append(Transition(name, before, snap.status, snap))
        return transitions

    def snapshots(self, names: list[str] | None = None) -> dict[str, ComponentStatus]:
        """Under the lock: immutable copies of the named components (all when None)."""
        if names is None:
            return {name: entry.state.snapshot() for name, entry in self.entries.items()}
        return {n: self.entries[n].state.snapshot() for n in names if n in self.entries}
