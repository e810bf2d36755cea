"""Running pulled checks for probes and for the background thread.

A probe asks :meth:`CheckRunner.evaluate` for the checks it needs: due ones
start (inline ones run right here), runs in flight are joined, and the probe
waits for them no longer than the earlier of the checks' deadlines and its own
``probe_timeout``. A run that misses its deadline is settled as a timeout
exactly once, whoever notices first (the waiting probe, the background thread,
or the run's own completion callback), under the table's lock; observers are
told only after that lock is released.
"""

from __future__ import annotations

import concurrent.futures
import functools
import logging
import random
from collections.abc import Iterable

from healthwatch.aio.clock import Clock
from healthwatch.health.checks import (
    CheckOutcome,
    CheckRun,
    LoopThread,
    interpret_error,
    run_inline,
)
from healthwatch.health.table import ComponentTable
from healthwatch.model.health import HealthStatus

TYPE_CHECKING = False
if TYPE_CHECKING:
    import asyncio

__all__ = ["CheckRunner"]

_log = logging.getLogger("healthwatch.health")


class CheckRunner:
    """Starts, waits for, times out and records the runs of pulled checks."""

    def __init__(
        self,
        table: ComponentTable,
        *,
        probe_timeout: float,
        loop: asyncio.AbstractEventLoop | None,
        rng: random.Random,
    ) -> None:
        self.table = table
        self.probe_timeout = probe_timeout
        self._loop = loop
        self._loop_thread: LoopThread | None = None
        self._rng = rng

    @property
    def clock(self) -> Clock:
        """The table's clock."""
        return self.table.clock

    def _loop_for_checks(self) -> asyncio.AbstractEventLoop:
        if self._loop is not None and not self._loop.is_closed():
            return self._loop
        with self.table.lock:
            if self._loop_thread is None:
                self._loop_thread = LoopThread()
            return self._loop_thread.loop

    def close(self) -> None:
        """Stop the private loop thread used for async checks, if one was started."""
        with self.table.lock:
            loop_thread, self._loop_thread = self._loop_thread, None
        if loop_thread is not None:
            loop_thread.close()

    def poll(self, names: Iterable[str], *, background: bool) -> list[tuple[str, CheckRun]]:
        """Start due runs of the named checks; record hung ones. Returns the runs to wait for."""
        runs: list[tuple[str, CheckRun]] = []
        started: list[tuple[str, CheckRun]] = []
        immediate: list[tuple[str, CheckOutcome | None]] = []
        with self.table.lock:
            now = self.clock.monotonic()
            for name in names:
                entry = self.table.entries.get(name)
                pulled = entry.pulled if entry else None
                if pulled is None or pulled.background != background:
                    continue
                if pulled.policy.inline:
                    if pulled.claim_inline(now, self._rng):
                        immediate.append((name, None))
                    continue
                fresh = pulled.run is None
                run, outcome = pulled.poll(
                    now, clock=self.clock, loop=self._loop_for_checks, rng=self._rng
                )
                if outcome is not None:
                    immediate.append((name, outcome))
                if run is not None:
                    if fresh:
                        started.append((name, run))
                    runs.append((name, run))
        # Outside the lock: a run that is done already calls back at once, in this
        # thread, and observers (and inline checks) must never run under the lock.
        for name, run in started:
            run.future.add_done_callback(functools.partial(self._on_done, name, run))
        for name, hung in immediate:
            if hung is not None:
                self.table.observe(name, hung, duration=None)
                continue
            entry = self.table.entries.get(name)  # an inline check: cheap, run it right here
            if entry is not None and entry.pulled is not None:
                began = self.clock.monotonic()
                outcome = run_inline(entry.pulled.func)
                self.table.observe(name, outcome, duration=self.clock.monotonic() - began)
        return runs

    def _on_done(self, name: str, run: CheckRun, _future: object) -> None:
        self.finished(name, run)

    def finished(self, name: str, run: CheckRun) -> None:
        """A run's future completed: record it unless it timed out (or was recorded already).

        Called from the run's done-callback (in whatever thread) and by the probe that
        waited for it, since ``concurrent.futures`` wakes waiters before it runs callbacks;
        whichever comes first records the outcome, under the same lock as the settling.
        """
        with self.table.lock:
            entry = self.table.entries.get(name)
            if entry is None or entry.pulled is None:
                return
            if not entry.pulled.settle(run, timed_out=False):
                if entry.pulled.finish(run) and not run.future.cancelled():
                    _log.info("health check %s finished after its timeout; result dropped", name)
                return
            transitions, changed = self.table.record(
                entry, name, _outcome_of(run), duration=self.clock.monotonic() - run.started_mono
            )
        self.table.hub.deliver(transitions, changed=changed)

    def expire(self, runs: list[tuple[str, CheckRun]], *, waited_full: bool) -> None:
        """Settle as failed every run past its deadline (or still running after a full wait)."""
        now = self.clock.monotonic()
        for name, run in runs:
            if run.future.done() or not (waited_full or now >= run.deadline):
                continue
            with self.table.lock:
                entry = self.table.entries.get(name)
                if entry is None or entry.pulled is None or run.future.done():
                    continue
                if not entry.pulled.settle(run, timed_out=True):
                    continue
                outcome = CheckOutcome(
                    status=HealthStatus.UNHEALTHY,
                    message=f"timed out after {entry.pulled.policy.timeout:g}s",
                )
                transitions, changed = self.table.record(
                    entry, name, outcome, duration=now - run.started_mono
                )
            run.future.cancel()  # stops an async run; a thread finishes on its own
            self.table.hub.deliver(transitions, changed=changed)

    def evaluate(self, names: Iterable[str]) -> None:
        """Run on-demand checks that are due and wait for them within the probe deadline."""
        runs = self.poll(names, background=False)
        if not runs:
            return
        check_wait = max(max(run.deadline for _, run in runs) - self.clock.monotonic(), 0.0)
        wait = min(check_wait, self.probe_timeout)
        pending = [run.future for _, run in runs if not run.future.done()]
        if pending and wait > 0:
            concurrent.futures.wait(pending, timeout=wait)
        for name, run in runs:
            if run.future.done():
                self.finished(name, run)  # do not leave it to a callback that may lag
        self.expire(runs, waited_full=check_wait <= self.probe_timeout)

    def run_due(self) -> None:
        """Start background checks that are due and time out overdue runs of any check."""
        with self.table.lock:
            names = list(self.table.entries)
        self.poll(names, background=True)
        with self.table.lock:
            in_flight = [
                (name, entry.pulled.run)
                for name, entry in self.table.entries.items()
                if entry.pulled is not None and entry.pulled.run is not None
            ]
        self.expire([(n, r) for n, r in in_flight if r is not None], waited_full=False)

    def next_due_in(self) -> float | None:
        """Seconds until the next background check is due, or None if there are none."""
        with self.table.lock:
            now = self.clock.monotonic()
            dues = [
                e.pulled.next_due
                for e in self.table.entries.values()
                if e.pulled is not None and e.pulled.next_due is not None
            ]
        return max(min(dues) - now, 0.0) if dues else None


def _outcome_of(run: CheckRun) -> CheckOutcome:
    """The outcome of a completed run, whatever became of its future."""
    if run.future.cancelled():
        return CheckOutcome(status=HealthStatus.UNHEALTHY, message="check run was cancelled")
    error = run.future.exception()
    if error is not None:
        return interpret_error(error)
    return run.future.result()
