"""Delivering status transitions to observers, safely.

Observers are called outside the registry's lock, in the order transitions
happened. An observer may call back into the registry (even causing another
transition): nested transitions are queued and delivered after the current one
rather than recursively, so ordering holds and the stack cannot grow without
bound. An observer that raises is logged and the others still run.
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from healthwatch.model.health import ComponentStatus, HealthStatus

__all__ = ["Observer", "ObserverHub", "Transition"]

Observer = Callable[[str, HealthStatus, HealthStatus, ComponentStatus], object]
"""Called with (component name, old status, new status, snapshot after the change)."""

_log = logging.getLogger("healthwatch.health")


@dataclass(frozen=True, slots=True)
class Transition:
    """One component changed status."""

    name: str
    old: HealthStatus
    new: HealthStatus
    snapshot: ComponentStatus


class ObserverHub:
    """Holds observers and change listeners and delivers to them."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._observers: tuple[Observer, ...] = ()
        self._listeners: tuple[Callable[[], object], ...] = ()
        self._local = threading.local()

    def add_observer(self, observer: Observer) -> Callable[[], None]:
        """Register ``observer``; return a function that unregisters it."""
        with self._lock:
            self._observers = (*self._observers, observer)

        def remove() -> None:
            with self._lock:
                self._observers = tuple(o for o in self._observers if o is not observer)

        return remove

    def add_listener(self, listener: Callable[[], object]) -> Callable[[], None]:
        """Register a callable told of any change at all (status, lifecycle, windows, standby)."""
        with self._lock:
            self._listeners = (*self._listeners, listener)

        def remove() -> None:
            with self._lock:
                self._listeners = tuple(x for x in self._listeners if x is not listener)

        return remove

    def deliver(self, transitions: list[Transition], *, changed: bool) -> None:
        """Call observers for each transition, then listeners once if anything changed."""
        if not transitions and not changed:
            return
        pending: deque[tuple[Transition | None, bool]] | None = getattr(
            self._local, "pending", None
        )
        if pending is not None:  # re-entered from an observer: queue, the outer loop delivers
            pending.extend((t, False) for t in transitions)
            pending.append((None, changed or bool(transitions)))
            return
        queue: deque[tuple[Transition | None, bool]] = deque((t, False) for t in transitions)
        queue.append((None, changed or bool(transitions)))
        self._local.pending = queue
        try:
            while queue:
                transition, notify = queue.popleft()
                if transition is not None:
                    for observer in self._observers:
                        self._call(observer, transition)
                elif notify:
                    for listener in self._listeners:
                        self._call_listener(listener)
        finally:
            self._local.pending = None

    @staticmethod
    def _call(observer: Observer, t: Transition) -> None:
        try:
            observer(t.name, t.old, t.new, t.snapshot)
        except Exception:
            _log.exception(
                "health observer %r failed on %s: %s -> %s", observer, t.name, t.old, t.new
            )

    @staticmethod
    def _call_listener(listener: Callable[[], object]) -> None:
        try:
            listener()
        except Exception:
            _log.exception("health change listener %r failed", listener)
