"""The health registry: components, probe groups, lifecycle and the report.

Components are either pushed (the application calls :meth:`HealthRegistry.update`)
or pulled (a check callable the registry runs on demand or in the background).
Probe groups turn component statuses into probe verdicts; the lifecycle
(starting → ready → draining → stopped), suppression windows and standby mode
shape those verdicts. A report is taken under one lock, so the components and
verdicts in it always agree; observers are called after the lock is released.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import functools
import logging
import random
import re
import threading
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass

from healthwatch.aio.clock import Clock, SystemClock
from healthwatch.health.background import BackgroundChecks
from healthwatch.health.checks import (
    CheckFunc,
    CheckOutcome,
    CheckPolicy,
    CheckRun,
    LoopThread,
    interpret_error,
)
from healthwatch.health.groups import (
    LIVENESS,
    READINESS,
    STARTUP,
    ProbeGroup,
    UnknownPolicy,
    judge,
    overall_status,
)
from healthwatch.health.observers import Observer, ObserverHub, Transition
from healthwatch.health.pulling import PulledCheck
from healthwatch.health.state import ComponentState, Thresholds
from healthwatch.health.suppression import Suppressions
from healthwatch.model.health import (
    ComponentStatus,
    HealthReport,
    HealthStatus,
    Lifecycle,
    ProbeVerdict,
    SuppressionWindow,
)

__all__ = ["DEFAULT_GROUPS", "HealthRegistry", "UnknownComponentError"]

DEFAULT_GROUPS = (READINESS, STARTUP)
"""Groups a component joins unless told otherwise: never liveness (see docs/health.md)."""

_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:@/-]{0,127}")
_log = logging.getLogger("healthwatch.health")


class UnknownComponentError(KeyError):
    """Raised when a component name is not registered."""


@dataclass(slots=True, kw_only=True)
class _Entry:
    state: ComponentState
    pulled: PulledCheck | None = None


class HealthRegistry:
    """Every component of one process and the probes built on them. Thread-safe."""

    def __init__(
        self,
        *,
        clock: Clock | None = None,
        stale_after: float | None = None,
        probe_timeout: float = 5.0,
        loop: asyncio.AbstractEventLoop | None = None,
        auto_register: bool = True,
        rng: random.Random | None = None,
    ) -> None:
        self.clock: Clock = clock or SystemClock()
        self.stale_after = stale_after
        self.probe_timeout = probe_timeout
        self.auto_register = auto_register
        self.started_at = self.clock.time()
        self._loop = loop
        self._loop_thread: LoopThread | None = None
        self._rng = rng or random.Random()  # noqa: S311 - jitter, not cryptography
        self._lock = threading.RLock()
        self._entries: dict[str, _Entry] = {}
        self._groups: dict[str, ProbeGroup] = {
            LIVENESS: ProbeGroup(name=LIVENESS, unknown_policy=UnknownPolicy.PASS),
            READINESS: ProbeGroup(name=READINESS),
            STARTUP: ProbeGroup(name=STARTUP),
        }
        self._lifecycle = Lifecycle.STARTING
        self._started = False
        self._standby = False
        self._suppressions = Suppressions()
        self._hub = ObserverHub()
        self._background: BackgroundChecks | None = None

    # ------------------------------------------------------------ registration
    def register(
        self,
        name: str,
        check: CheckFunc | None = None,
        *,
        groups: Iterable[str] = DEFAULT_GROUPS,
        required: bool = True,
        policy: CheckPolicy | None = None,
        thresholds: Thresholds | None = None,
        stale_after: float | None = None,
    ) -> None:
        """Add a component: pulled when ``check`` is given, pushed otherwise.

        Pushed components go UNKNOWN ``stale_after`` seconds after their latest
        update (default: the registry's). Background checks (``policy.interval``)
        go UNKNOWN when three intervals pass without a result.
        """
        if not _NAME.fullmatch(name) or ".." in name:
            raise ValueError(
                f"invalid component name {name!r}: use 1-128 letters, digits and . _ : @ / -"
            )
        policy = policy or (CheckPolicy() if check else None)
        if stale_after is None:
            if check is None:
                stale_after = self.stale_after
            elif policy is not None and policy.interval is not None:
                stale_after = 3 * policy.interval + policy.timeout
        state = ComponentState(
            name=name, thresholds=thresholds or Thresholds(), stale_after=stale_after
        )
        with self._lock:
            if name in self._entries:
                raise ValueError(f"component {name!r} is already registered")
            entry = _Entry(state=state)
            if check is not None and policy is not None:
                entry.pulled = PulledCheck(name=name, func=check, policy=policy)
                entry.pulled.schedule_first(self.clock.monotonic(), self._rng)
            self._entries[name] = entry
            for group in groups:
                self._group(group).members[name] = required
        self._hub.deliver([], changed=True)

    def deregister(self, name: str) -> bool:
        """Remove a component from the registry and every group; False if it was not there."""
        with self._lock:
            if self._entries.pop(name, None) is None:
                return False
            for group in self._groups.values():
                group.members.pop(name, None)
        self._hub.deliver([], changed=True)
        return True

    def add_group(self, name: str, *, unknown_policy: UnknownPolicy = UnknownPolicy.FAIL) -> None:
        """Declare a named probe group (built-in groups exist already)."""
        with self._lock:
            if name not in self._groups:
                self._groups[name] = ProbeGroup(name=name, unknown_policy=unknown_policy)
            else:
                self._groups[name].unknown_policy = unknown_policy

    def add_member(self, group: str, name: str, *, required: bool = True) -> None:
        """Put a registered component into a group (or change whether it is required)."""
        with self._lock:
            if name not in self._entries:
                raise UnknownComponentError(name)
            self._group(group).members[name] = required

    def remove_member(self, group: str, name: str) -> None:
        """Take a component out of a group; it stays registered."""
        with self._lock:
            self._group(group).members.pop(name, None)

    def _group(self, name: str) -> ProbeGroup:
        group = self._groups.get(name)
        if group is None:
            if not _NAME.fullmatch(name):
                raise ValueError(f"invalid group name {name!r}")
            group = self._groups[name] = ProbeGroup(name=name)
        return group

    @property
    def groups(self) -> tuple[str, ...]:
        """Names of every probe group."""
        with self._lock:
            return tuple(self._groups)

    def members(self, group: str) -> Mapping[str, bool]:
        """A copy of a group's members (name → required)."""
        with self._lock:
            if group not in self._groups:
                raise UnknownComponentError(group)
            return dict(self._groups[group].members)

    # ------------------------------------------------------------ pushing
    def update(
        self,
        name: str,
        status: HealthStatus | str,
        message: str | None = None,
        metadata: Mapping[str, str] | None = None,
    ) -> ComponentStatus:
        """Push a component's status. Unknown names are registered on the fly
        (with the default groups) unless the registry was built with
        ``auto_register=False``, in which case :class:`UnknownComponentError` is raised."""
        status = HealthStatus(status)
        with self._lock:
            entry = self._entries.get(name)
        if entry is None:
            if not self.auto_register:
                raise UnknownComponentError(name)
            _log.warning("health: %r updated before it was registered; registering it", name)
            try:
                self.register(name)
            except ValueError:  # another thread registered it meanwhile
                if name not in self._entries:
                    raise
        transitions: list[Transition] = []
        with self._lock:
            entry = self._entries.get(name)
            if entry is None:
                raise UnknownComponentError(name)
            before = entry.state.observe(
                status,
                message or "",
                metadata,
                wall=self.clock.time(),
                mono=self.clock.monotonic(),
            )
            snapshot = entry.state.snapshot()
            if before is not None:
                transitions.append(Transition(name, before, snapshot.status, snapshot))
            changed = self._settle_startup()
        self._hub.deliver(transitions, changed=changed or bool(transitions))
        return snapshot

    # ------------------------------------------------------------ pulling
    def _loop_for_checks(self) -> asyncio.AbstractEventLoop:
        if self._loop is not None and not self._loop.is_closed():
            return self._loop
        with self._lock:
            if self._loop_thread is None:
                self._loop_thread = LoopThread()
            return self._loop_thread.loop

    def _poll(self, names: Iterable[str], *, background: bool) -> list[tuple[str, CheckRun]]:
        """Start due runs of the named checks; record hung ones. Returns the runs to wait for."""
        runs: list[tuple[str, CheckRun]] = []
        started: list[tuple[str, CheckRun]] = []
        hung: list[tuple[str, CheckOutcome]] = []
        with self._lock:
            now = self.clock.monotonic()
            for name in names:
                entry = self._entries.get(name)
                pulled = entry.pulled if entry else None
                if pulled is None or pulled.background != background:
                    continue
                fresh = pulled.run is None
                run, outcome = pulled.poll(
                    now, clock=self.clock, loop=self._loop_for_checks, rng=self._rng
                )
                if outcome is not None:
                    hung.append((name, outcome))
                if run is not None:
                    if fresh:
                        started.append((name, run))
                    runs.append((name, run))
        # Outside the lock: a run that is done already (inline, or just quick) calls back
        # at once, in this thread, and observers must never be called under the lock.
        for name, run in started:
            run.future.add_done_callback(functools.partial(self._on_done, name, run))
        for name, outcome in hung:
            self._observe(name, outcome, duration=None)
        return runs

    def _on_done(self, name: str, run: CheckRun, _future: object) -> None:
        self._finished(name, run)

    def _finished(self, name: str, run: CheckRun) -> None:
        """A run's future completed: record it unless it timed out (or was recorded already).

        Called from the run's done-callback (in whatever thread) and by the probe that
        waited for it, since ``concurrent.futures`` wakes waiters before it runs callbacks;
        whichever comes first records the outcome, under the same lock as the settling.
        """
        with self._lock:
            entry = self._entries.get(name)
            if entry is None or entry.pulled is None:
                return
            if not entry.pulled.settle(run, timed_out=False):
                if entry.pulled.finish(run) and not run.future.cancelled():
                    _log.info("health check %s finished after its timeout; result dropped", name)
                return
            outcome = _outcome_of(run)
            transitions, changed = self._record(
                entry, name, outcome, duration=self.clock.monotonic() - run.started_mono
            )
        self._hub.deliver(transitions, changed=changed)

    def _expire(self, runs: list[tuple[str, CheckRun]], *, waited_full: bool) -> None:
        """Settle as failed every run past its deadline (or still running after a full wait)."""
        now = self.clock.monotonic()
        for name, run in runs:
            if run.future.done() or not (waited_full or now >= run.deadline):
                continue
            with self._lock:
                entry = self._entries.get(name)
                if entry is None or entry.pulled is None or run.future.done():
                    continue
                if not entry.pulled.settle(run, timed_out=True):
                    continue
                outcome = CheckOutcome(
                    status=HealthStatus.UNHEALTHY,
                    message=f"timed out after {entry.pulled.policy.timeout:g}s",
                )
                transitions, changed = self._record(
                    entry, name, outcome, duration=now - run.started_mono
                )
            run.future.cancel()  # stops an async run; a thread finishes on its own
            self._hub.deliver(transitions, changed=changed)

    def _observe(self, name: str, outcome: CheckOutcome, *, duration: float | None) -> None:
        with self._lock:
            entry = self._entries.get(name)
            if entry is None:
                return
            transitions, changed = self._record(entry, name, outcome, duration=duration)
        self._hub.deliver(transitions, changed=changed)

    def _record(
        self, entry: _Entry, name: str, outcome: CheckOutcome, *, duration: float | None
    ) -> tuple[list[Transition], bool]:
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
        changed = self._settle_startup()
        return transitions, changed or bool(transitions)

    def _evaluate(self, names: Iterable[str]) -> None:
        """Run on-demand checks that are due and wait for them within the probe deadline."""
        runs = self._poll(names, background=False)
        if not runs:
            return
        check_wait = max(max(run.deadline for _, run in runs) - self.clock.monotonic(), 0.0)
        wait = min(check_wait, self.probe_timeout)
        pending = [run.future for _, run in runs if not run.future.done()]
        if pending and wait > 0:
            concurrent.futures.wait(pending, timeout=wait)
        for name, run in runs:
            if run.future.done():
                self._finished(name, run)  # do not leave it to a callback that may lag
        self._expire(runs, waited_full=check_wait <= self.probe_timeout)

    def run_due_checks(self) -> None:
        """Start background checks that are due, time out overdue runs, expire stale pushes.

        The background thread calls this; tests call it after moving a manual clock.
        """
        with self._lock:
            names = list(self._entries)
        self._poll(names, background=True)
        with self._lock:
            in_flight = [
                (name, entry.pulled.run)
                for name, entry in self._entries.items()
                if entry.pulled is not None and entry.pulled.run is not None
            ]
        self._expire([(n, r) for n, r in in_flight if r is not None], waited_full=False)
        self.report(probes=())

    def next_due_in(self) -> float | None:
        """Seconds until the next background check is due, or None if there are none."""
        with self._lock:
            now = self.clock.monotonic()
            dues = [
                e.pulled.next_due
                for e in self._entries.values()
                if e.pulled is not None and e.pulled.next_due is not None
            ]
        return max(min(dues) - now, 0.0) if dues else None

    # ------------------------------------------------------------ lifecycle
    @property
    def lifecycle(self) -> Lifecycle:
        """Where the process stands: starting, ready, draining or stopped."""
        with self._lock:
            return self._lifecycle

    def _set_lifecycle(self, new: Lifecycle) -> None:
        with self._lock:
            changed = self._lifecycle is not new and self._lifecycle is not Lifecycle.STOPPED
            if changed:
                _log.info("health: lifecycle %s -> %s", self._lifecycle, new)
                self._lifecycle = new
        self._hub.deliver([], changed=changed)

    def mark_started(self) -> None:
        """Pass startup now, whatever its members say (it stays passed)."""
        with self._lock:
            self._started = True
            if self._lifecycle is Lifecycle.STARTING:
                self._lifecycle = Lifecycle.READY
        self._hub.deliver([], changed=True)

    def _settle_startup(self) -> bool:
        """Under the lock: latch startup once all its required members are up; True if it did."""
        if self._started:
            return False
        if not self._judge(self._groups[STARTUP], self._statuses(), exclude=()).passed:
            return False
        self._started = True
        if self._lifecycle is Lifecycle.STARTING:
            self._lifecycle = Lifecycle.READY
        _log.info("health: startup passed")
        return True

    def drain(self) -> None:
        """Begin shutting down: readiness fails from now on, liveness stays up."""
        self._set_lifecycle(Lifecycle.DRAINING)

    def stop(self) -> None:
        """Mark the process stopped: every probe fails."""
        self._set_lifecycle(Lifecycle.STOPPED)

    def start_background(self, *, tick: float = 1.0) -> BackgroundChecks:
        """Start the thread that runs background checks and expires stale statuses (once)."""
        with self._lock:
            if self._background is None:
                self._background = BackgroundChecks(
                    self.run_due_checks, self.next_due_in, tick=tick
                )
                self._background.start()
            return self._background

    def close(self) -> None:
        """Stop the background thread and the private loop used for async checks, if any."""
        with self._lock:
            loop_thread, self._loop_thread = self._loop_thread, None
            background, self._background = self._background, None
        if background is not None:
            background.stop()
        if loop_thread is not None:
            loop_thread.close()

    # ------------------------------------------------------------ windows, standby, observers
    def suppress(
        self, probe: str, seconds: float, reason: str, *, replace: bool = False
    ) -> SuppressionWindow:
        """Let ``probe`` pass for ``seconds`` whatever its members say (see Suppressions)."""
        with self._lock:
            self._group(probe)
            window = self._suppressions.add(
                probe,
                seconds=seconds,
                reason=reason,
                replace=replace,
                wall=self.clock.time(),
                mono=self.clock.monotonic(),
            )
        self._hub.deliver([], changed=True)
        return window

    def clear_suppression(self, probe: str | None = None) -> int:
        """Close the windows of ``probe`` (or all); return how many were closed."""
        with self._lock:
            count = self._suppressions.clear(probe, mono=self.clock.monotonic())
        self._hub.deliver([], changed=count > 0)
        return count

    def set_standby(self, standby: bool) -> None:
        """Standby (not leader): readiness passes regardless of the components."""
        with self._lock:
            changed, self._standby = self._standby != standby, standby
        self._hub.deliver([], changed=changed)

    @property
    def standby(self) -> bool:
        """Whether the process is in standby mode."""
        with self._lock:
            return self._standby

    def add_observer(self, observer: Observer) -> Callable[[], None]:
        """Call ``observer(name, old, new, snapshot)`` on every status change; returns a remover."""
        return self._hub.add_observer(observer)

    def add_listener(self, listener: Callable[[], object]) -> Callable[[], None]:
        """Call ``listener()`` after any change that may alter a verdict; returns a remover."""
        return self._hub.add_listener(listener)

    # ------------------------------------------------------------ reading
    def _statuses(self) -> dict[str, ComponentStatus]:
        return {name: entry.state.snapshot() for name, entry in self._entries.items()}

    def _judge(
        self,
        group: ProbeGroup,
        statuses: Mapping[str, ComponentStatus],
        *,
        exclude: Collection[str],
    ) -> ProbeVerdict:
        return judge(
            group,
            statuses,
            lifecycle=self._lifecycle,
            started=self._started,
            standby=self._standby,
            suppressed=self._suppressions.active(group.name, mono=self.clock.monotonic()),
            exclude=exclude,
        )

    def report(
        self, *, probes: Iterable[str] | None = None, exclude: Collection[str] = ()
    ) -> HealthReport:
        """Evaluate what ``probes`` need (all components when None) and snapshot everything.

        Only the members of the named probes are checked, so ``/livez`` never
        runs a readiness check. ``exclude`` drops members from the verdicts, as
        Kubernetes' ``?exclude=`` does.
        """
        with self._lock:
            if probes is None:
                names: list[str] = list(self._entries)
            else:
                wanted = [self._groups[p] for p in probes if p in self._groups]
                names = list(dict.fromkeys(m for g in wanted for m in g.members))
        names = [n for n in names if n not in exclude]
        self._evaluate(names)
        transitions: list[Transition] = []
        with self._lock:
            wall, mono = self.clock.time(), self.clock.monotonic()
            for name, entry in self._entries.items():
                before = entry.state.expire(wall=wall, mono=mono)
                if before is not None:
                    snap = entry.state.snapshot()
                    transitions.append(Transition(name, before, snap.status, snap))
            changed = self._settle_startup()
            statuses = self._statuses()
            verdicts = {
                name: self._judge(group, statuses, exclude=exclude)
                for name, group in self._groups.items()
            }
            report = HealthReport(
                status=overall_status(self._lifecycle, self._started, verdicts, statuses.values()),
                lifecycle=self._lifecycle,
                standby=self._standby,
                components=tuple(statuses.values()),
                probes=verdicts,
                generated_at=wall,
                started_at=self.started_at,
            )
        self._hub.deliver(transitions, changed=changed or bool(transitions))
        return report

    def status(self, name: str) -> ComponentStatus:
        """One component's current status, running its check first if it is due."""
        if name not in self:
            raise UnknownComponentError(name)
        self._evaluate([name])
        transitions: list[Transition] = []
        with self._lock:
            entry = self._entries.get(name)
            if entry is None:
                raise UnknownComponentError(name)
            before = entry.state.expire(wall=self.clock.time(), mono=self.clock.monotonic())
            snapshot = entry.state.snapshot()
            if before is not None:
                transitions.append(Transition(name, before, snapshot.status, snapshot))
        self._hub.deliver(transitions, changed=bool(transitions))
        return snapshot

    def __contains__(self, name: object) -> bool:
        with self._lock:
            return name in self._entries


def _outcome_of(run: CheckRun) -> CheckOutcome:
    """The outcome of a completed run, whatever became of its future."""
    if run.future.cancelled():
        return CheckOutcome(status=HealthStatus.UNHEALTHY, message="check run was cancelled")
    error = run.future.exception()
    if error is not None:
        return interpret_error(error)
    return run.future.result()
