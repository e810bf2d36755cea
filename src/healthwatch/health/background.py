"""The thread that runs background checks on their intervals.

Checks registered with an ``interval`` run here rather than on demand, so a
probe only reads their latest result. One daemon thread serves every check of
a registry; it sleeps until the next check is due (at most ``tick`` seconds)
and also expires stale pushed statuses, so observers hear of them promptly.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

__all__ = ["BackgroundChecks"]

_log = logging.getLogger("healthwatch.health")


class BackgroundChecks:
    """Calls ``run_due`` whenever ``next_due`` says a check is due, until stopped."""

    def __init__(
        self,
        run_due: Callable[[], None],
        next_due: Callable[[], float | None],
        *,
        tick: float = 1.0,
        name: str = "healthwatch-health-checks",
    ) -> None:
        self._run_due = run_due
        self._next_due = next_due
        self._tick = tick
        self._stop = threading.Event()
        self.thread = threading.Thread(target=self._loop, name=name, daemon=True)

    def start(self) -> None:
        """Start the thread (once)."""
        self.thread.start()

    def stop(self, timeout: float = 2.0) -> None:
        """Ask the thread to finish and wait up to ``timeout`` seconds."""
        self._stop.set()
        if self.thread.is_alive():
            self.thread.join(timeout)

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self._run_due()
                due = self._next_due()
            except Exception:  # the loop must outlive any one bad pass
                _log.exception("health: background check pass failed")
                due = None
            self._stop.wait(self._tick if due is None else min(max(due, 0.01), self._tick))
