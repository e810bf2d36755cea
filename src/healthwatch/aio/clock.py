"""Injected time.

Every part that judges time (staleness, TTLs, suppression windows, watchdogs)
asks a :class:`Clock` rather than the ``time`` module, so tests move time
forward by hand instead of sleeping, and a replay can run on the log's own time.
"""

from __future__ import annotations

import threading
import time
from typing import Protocol, runtime_checkable

__all__ = ["Clock", "ManualClock", "SystemClock"]


@runtime_checkable
class Clock(Protocol):
    """A source of time: monotonic for intervals, wall for timestamps shown to people."""

    def monotonic(self) -> float:
        """Seconds on a clock that never goes backwards; only differences mean anything."""

    def time(self) -> float:
        """Seconds since the epoch (wall time)."""


class SystemClock:
    """The real clocks of this process."""

    def monotonic(self) -> float:
        """``time.monotonic()``."""
        return time.monotonic()

    def time(self) -> float:
        """``time.time()``."""
        return time.time()


class ManualClock:
    """A clock that moves only when told to: for tests and replays.

    Monotonic and wall time advance together; ``set_wall`` jumps wall time alone,
    as a clock step on a real machine would.
    """

    def __init__(self, *, monotonic: float = 1000.0, wall: float = 1_700_000_000.0) -> None:
        self._lock = threading.Lock()
        self._monotonic = monotonic
        self._wall = wall

    def monotonic(self) -> float:
        """The current manual monotonic reading."""
        with self._lock:
            return self._monotonic

    def time(self) -> float:
        """The current manual wall time."""
        with self._lock:
            return self._wall

    def advance(self, seconds: float) -> None:
        """Move both clocks forward by ``seconds`` (which must not be negative)."""
        if seconds < 0:
            raise ValueError(f"a clock cannot advance by a negative amount: {seconds}")
        with self._lock:
            self._monotonic += seconds
            self._wall += seconds

    def set_wall(self, wall: float) -> None:
        """Step wall time to ``wall`` without touching monotonic time."""
        with self._lock:
            self._wall = wall
