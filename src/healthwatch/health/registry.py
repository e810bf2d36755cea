"""The health registry: components, probe groups, lifecycle and the report.

Components are either pushed (the application calls :meth:`HealthRegistry.update`)
or pulled (a check callable the registry runs on demand or in the background).
Probe groups turn component statuses into probe verdicts; the lifecycle
(starting → ready → draining → stopped), suppression windows and standby mode
shape those verdicts. A report is taken under one lock, so the components and
verdicts in it always agree; observers are called after the lock is released.
"""

from __future__ import annotations

import logging
import random
import re
from collections.abc import Callable, Collection, Iterable, Mapping

from healthwatch.aio.clock import Clock, SystemClock
from healthwatch.health.background import BackgroundChecks
from healthwatch.health.checks import CheckFunc, CheckPolicy
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
from healthwatch.health.runner import CheckRunner
from healthwatch.health.state import ComponentState, Thresholds
from healthwatch.health.suppression import Suppressions
from healthwatch.health.table import ComponentTable, Entry
from healthwatch.model.health import (
    ComponentStatus,
    HealthReport,
    HealthStatus,
    Lifecycle,
    ProbeVerdict,
    SuppressionWindow,
)

TYPE_CHECKING = False  # asyncio only for types: importing this stays cheap
if TYPE_CHECKING:
    import asyncio

__all__ = ["DEFAULT_GROUPS", "HealthRegistry", "UnknownComponentError"]

DEFAULT_GROUPS = (READINESS, STARTUP)
"""Groups a component joins unless told otherwise: never liveness (see docs/health.md)."""

_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:@/-]{0,127}")
_log = logging.getLogger("healthwatch.health")


class UnknownComponentError(KeyError):
    """Raised when a component name is not registered."""


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
        self.auto_register = auto_register
        self.started_at = self.clock.time()
        self._rng = rng or random.Random()  # noqa: S311 - jitter, not cryptography
        self._hub = ObserverHub()
        self._table = ComponentTable(clock=self.clock, hub=self._hub)
        self._table.after_record = self._settle_startup
        self._lock = self._table.lock
        self._entries = self._table.entries
        self._runner = CheckRunner(
            self._table, probe_timeout=probe_timeout, loop=loop, rng=self._rng
        )
        self._groups: dict[str, ProbeGroup] = {
            LIVENESS: ProbeGroup(name=LIVENESS, unknown_policy=UnknownPolicy.PASS),
            READINESS: ProbeGroup(name=READINESS),
            STARTUP: ProbeGroup(name=STARTUP),
        }
        self._lifecycle = Lifecycle.STARTING
        self._started = False
        self._standby = False
        self._suppressions = Suppressions()
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
            entry = Entry(state=state)
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
            self._group(name).unknown_policy = unknown_policy
        self._hub.deliver([], changed=True)

    def add_member(self, group: str, name: str, *, required: bool = True) -> None:
        """Put a registered component into a group (or change whether it is required)."""
        with self._lock:
            if name not in self._entries:
                raise UnknownComponentError(name)
            self._group(group).members[name] = required
        self._hub.deliver([], changed=True)

    def remove_member(self, group: str, name: str) -> None:
        """Take a component out of a group; it stays registered."""
        with self._lock:
            removed = self._group(group).members.pop(name, None) is not None
        self._hub.deliver([], changed=removed)

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
    @property
    def probe_timeout(self) -> float:
        """Longest a probe waits for pulled checks before answering with what it has."""
        return self._runner.probe_timeout

    def run_due_checks(self) -> None:
        """Start background checks that are due, time out overdue runs, expire stale pushes.

        The background thread calls this; tests call it after moving a manual clock.
        """
        self._runner.run_due()
        self.report(probes=())

    def next_due_in(self) -> float | None:
        """Seconds until the next background check is due, or None if there are none."""
        return self._runner.next_due_in()

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
        group = self._groups[STARTUP]
        statuses = self._table.snapshots(list(group.members))
        if not self._judge(group, statuses, exclude=()).passed:
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
            background, self._background = self._background, None
        if background is not None:
            background.stop()
        self._runner.close()

    # ------------------------------------------------------------ windows, standby, observers
    def suppress(
        self, probe: str, seconds: float, reason: str, *, replace: bool = False
    ) -> SuppressionWindow:
        """Let ``probe`` pass for ``seconds`` whatever its members say (see Suppressions)."""
        with self._lock:
            if probe not in self._groups:
                known = ", ".join(self._groups)
                raise ValueError(f"no probe group {probe!r} to suppress (groups: {known})")
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
        self._runner.evaluate(names)
        with self._lock:
            wall = self.clock.time()
            transitions = self._table.expire()
            changed = self._settle_startup()
            statuses = self._table.snapshots()
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
        self._runner.evaluate([name])
        with self._lock:
            if name not in self._entries:
                raise UnknownComponentError(name)
            transitions = self._table.expire([name])
            snapshot = self._entries[name].state.snapshot()
        self._hub.deliver(transitions, changed=bool(transitions))
        return snapshot

    def __contains__(self, name: object) -> bool:
        with self._lock:
            return name in self._entries
