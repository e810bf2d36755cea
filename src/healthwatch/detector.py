"""The detector: starts the problem daemons and fans their statuses out to the exporters.

A daemon that cannot start is logged, counted and shown as a degraded component
while the others run; when none starts, the agent stops with a message naming
each failure. A daemon whose run fails is restarted with backoff: it is never a
dead task. Each exporter has its own bounded queue and worker, so a slow or
failing exporter stalls nobody; what it could not take is counted as dropped.

A config reload adds and removes daemons while the rest run (:meth:`Detector.add`,
:meth:`Detector.remove`). A removed daemon's conditions that hold are retired as
a removed rule's are: reported False once (reason ``Retired``), so no exporter
keeps showing a problem nothing watches any more.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import functools
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from healthwatch.aio.backoff import Backoff
from healthwatch.health.checks import CheckOutcome, CheckPolicy
from healthwatch.health.registry import HealthRegistry
from healthwatch.model.errors import HealthwatchError
from healthwatch.model.health import HealthStatus
from healthwatch.model.metrics import MetricFamily, MetricKind, Sample
from healthwatch.model.problems import (
    Condition,
    ConditionStatus,
    ProblemDeclaration,
    Status,
    StatusExporter,
)
from healthwatch.problems.base import ProblemDaemon

__all__ = ["PROBLEMS_GROUP", "Detector", "NoDaemonStartedError"]

PROBLEMS_GROUP = "problems"
"""The named health group holding every daemon and exporter component."""

_log = logging.getLogger("healthwatch.detector")
_INLINE = CheckPolicy(inline=True, success_ttl=0, failure_ttl=0)


class NoDaemonStartedError(HealthwatchError):
    """Every configured problem daemon failed to start."""


@dataclass(slots=True)
class _Outlet:
    exporter: StatusExporter
    queue: asyncio.Queue[Status]
    exported: int = 0
    dropped: int = 0
    failed: int = 0
    last_error: str = ""
    task: asyncio.Task[None] | None = None


@dataclass(slots=True)
class _Running:
    daemon: ProblemDaemon
    task: asyncio.Task[None] | None = None
    restarts: int = 0
    last_error: str = ""
    statuses: int = 0
    backoff: Backoff = field(default_factory=Backoff)


def _component(kind: str, name: str) -> str:
    return f"{kind}:{name}"


class Detector:
    """Owns the daemons and the exporter outlets of one agent."""

    def __init__(
        self,
        daemons: Sequence[ProblemDaemon],
        exporters: Sequence[StatusExporter],
        *,
        registry: HealthRegistry,
        queue_size: int = 1000,
        restart_delay: float = 1.0,
    ) -> None:
        self.registry = registry
        self._restart_delay = restart_delay
        self._daemons = list(daemons)
        self._outlets = [_Outlet(e, asyncio.Queue(maxsize=queue_size)) for e in exporters]
        self._running: list[_Running] = []  # replaced, never changed in place: scrapes read it
        self._conditions: dict[str, tuple[Condition, ...]] = {}  # latest of each source
        self.failed: dict[str, str] = {}
        """Daemons that could not start, with the reason."""

    @property
    def daemons(self) -> Mapping[str, ProblemDaemon]:
        """Every daemon by name, whether it runs or could not start (see ``failed``)."""
        return {daemon.name: daemon for daemon in self._daemons}

    # ------------------------------------------------------------ start
    async def start(self) -> None:
        """Start every daemon and exporter worker; raise if daemons exist but none starts."""
        self.registry.add_group(PROBLEMS_GROUP)
        declarations: list[ProblemDeclaration] = []
        for daemon in self._daemons:
            declarations += await self._start_daemon(daemon)
        if self._daemons and not self._running:
            details = "; ".join(f"{name}: {reason}" for name, reason in self.failed.items())
            raise NoDaemonStartedError(f"no problem daemon could start ({details})")
        for outlet in self._outlets:
            outlet.exporter.declare(tuple(declarations))
            outlet.task = asyncio.create_task(
                self._drain(outlet), name=f"healthwatch-exporter-{outlet.exporter.name}"
            )
            self.registry.register(
                _component("exporter", outlet.exporter.name),
                functools.partial(self._outlet_health, outlet),
                groups=(PROBLEMS_GROUP,),
                policy=_INLINE,
            )
        for running in self._running:
            self._launch(running)

    async def _start_daemon(self, daemon: ProblemDaemon) -> tuple[ProblemDeclaration, ...]:
        """Start one daemon and register its component; what it declares (none if it failed)."""
        name = _component("daemon", daemon.name)
        self.registry.register(name, groups=(PROBLEMS_GROUP,))
        try:
            await daemon.start()
        except Exception as error:  # any failure to start is reported, never fatal alone
            reason = str(error) or type(error).__name__
            _log.error("problem daemon %s failed to start: %s", daemon.name, reason)
            self.failed[daemon.name] = reason
            self.registry.update(name, HealthStatus.DEGRADED, f"failed to start: {reason}")
            return ()
        self.registry.deregister(name)
        self.registry.register(
            name,
            functools.partial(self._daemon_health, daemon),
            groups=(PROBLEMS_GROUP,),
            policy=_INLINE,
        )
        backoff = Backoff(initial=self._restart_delay, maximum=max(60.0, self._restart_delay))
        self._running = [*self._running, _Running(daemon, backoff=backoff)]
        return tuple(
            d if d.source else dataclasses.replace(d, source=daemon.name)
            for d in daemon.declarations()
        )

    def _launch(self, running: _Running) -> None:
        running.task = asyncio.create_task(
            self._supervise(running), name=f"healthwatch-daemon-{running.daemon.name}"
        )

    # ------------------------------------------------------------ reload
    async def add(self, daemon: ProblemDaemon) -> bool:
        """Start one more daemon next to the running ones; False if it could not start.

        A daemon that cannot start is reported as at start: a degraded component.
        """
        if daemon.name in self.daemons:
            raise ValueError(f"problem daemon {daemon.name!r} is already here; remove it first")
        self._daemons = [*self._daemons, daemon]
        declarations = await self._start_daemon(daemon)
        running = next((r for r in self._running if r.daemon is daemon), None)
        if running is None:
            return False
        for outlet in self._outlets:
            outlet.exporter.declare(declarations)
        self._launch(running)
        return True

    async def remove(self, name: str, *, retire: bool = True) -> bool:
        """Stop the daemon ``name`` and drop its component; False if there is none.

        With ``retire``, each condition it last reported True is reported once more,
        False with reason ``Retired``. A daemon replaced by a new version of itself is
        removed without: the new one takes its conditions over from the state directory.
        """
        daemon = self.daemons.get(name)
        if daemon is None:
            return False
        self._daemons = [d for d in self._daemons if d is not daemon]
        self.failed.pop(name, None)
        running = next((r for r in self._running if r.daemon is daemon), None)
        if running is not None:
            self._running = [r for r in self._running if r is not running]
            if running.task is not None:
                running.task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await running.task
            try:
                await daemon.stop()
            except Exception:  # stopping one daemon must not stop a reload
                _log.exception("problem daemon %s failed to stop cleanly", name)
        self.registry.deregister(_component("daemon", name))
        held = [c for c in self._conditions.pop(name, ()) if c.status is ConditionStatus.TRUE]
        if retire and held:
            now = self.registry.clock.time()
            retired = tuple(
                Condition(
                    type=c.type,
                    status=ConditionStatus.FALSE,
                    transition=now,
                    reason="Retired",
                    message="the problem daemon that set this condition was removed",
                )
                for c in held
            )
            self.report(Status(source=name, conditions=retired))
        return True

    def _daemon_health(self, daemon: ProblemDaemon) -> CheckOutcome:
        running = next((r for r in self._running if r.daemon is daemon), None)
        if running is not None and running.last_error and running.task is not None:
            return CheckOutcome(
                status=HealthStatus.DEGRADED,
                message=f"restarted {running.restarts} times; last error: {running.last_error}",
            )
        status, message = daemon.health()
        return CheckOutcome(status=status, message=message)

    def _outlet_health(self, outlet: _Outlet) -> CheckOutcome:
        if outlet.last_error:
            return CheckOutcome(
                status=HealthStatus.DEGRADED,
                message=f"{outlet.failed} failed, {outlet.dropped} dropped; "
                f"last error: {outlet.last_error}",
            )
        if outlet.dropped:
            return CheckOutcome(
                status=HealthStatus.DEGRADED, message=f"{outlet.dropped} statuses dropped"
            )
        return CheckOutcome(status=HealthStatus.HEALTHY, message=f"{outlet.exported} exported")

    # ------------------------------------------------------------ running
    def report(self, status: Status) -> None:
        """The sink every daemon reports to: one queue per exporter, never blocking."""
        if status.conditions:
            self._conditions[status.source] = status.conditions
        for outlet in self._outlets:
            try:
                outlet.queue.put_nowait(status)
            except asyncio.QueueFull:
                outlet.dropped += 1

    async def _supervise(self, running: _Running) -> None:
        daemon = running.daemon
        while True:
            try:
                await daemon.run(self)
                return
            except asyncio.CancelledError:
                raise
            except Exception as error:  # restarted with backoff: never a dead task
                running.restarts += 1
                running.last_error = f"{type(error).__name__}: {error}"
                delay = running.backoff.failure()
                _log.exception("problem daemon %s failed; restarting in %.1fs", daemon.name, delay)
                await asyncio.sleep(delay)

    async def _drain(self, outlet: _Outlet) -> None:
        while True:
            status = await outlet.queue.get()
            try:
                await outlet.exporter.export(status)
                outlet.exported += 1
            except asyncio.CancelledError:
                raise
            except Exception as error:  # one exporter's failure stays its own
                outlet.failed += 1
                outlet.last_error = f"{type(error).__name__}: {error}"
                _log.warning("exporter %s failed: %s", outlet.exporter.name, outlet.last_error)
            finally:
                outlet.queue.task_done()

    # ------------------------------------------------------------ stop
    async def stop(self, *, flush_timeout: float = 2.0) -> None:
        """Stop the daemons, give exporters a moment to flush, then stop the workers."""
        for running in self._running:
            if running.task is not None:
                running.task.cancel()
        for running in self._running:
            if running.task is not None:
                with contextlib.suppress(asyncio.CancelledError):
                    await running.task
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(
                asyncio.gather(*(o.queue.join() for o in self._outlets)), flush_timeout
            )
        for outlet in self._outlets:
            if outlet.task is not None:
                outlet.task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await outlet.task
        for running in self._running:
            with contextlib.suppress(Exception):
                await running.daemon.stop()

    # ------------------------------------------------------------ metrics
    def metric_families(self, node: str | None = None) -> list[MetricFamily]:
        """Exporter queue figures, and every running daemon's own metrics."""
        base = {"node": node} if node else {}
        families = [
            MetricFamily(
                name="healthwatch_exporter_statuses",
                kind=MetricKind.COUNTER,
                help="Statuses handed to each exporter, by outcome.",
                samples=tuple(
                    Sample(
                        labels={**base, "exporter": o.exporter.name, "outcome": outcome},
                        value=float(value),
                    )
                    for o in self._outlets
                    for outcome, value in (
                        ("exported", o.exported),
                        ("dropped", o.dropped),
                        ("failed", o.failed),
                    )
                ),
            ),
            MetricFamily(
                name="healthwatch_daemon_restarts",
                kind=MetricKind.COUNTER,
                help="Times a problem daemon was restarted after failing.",
                samples=tuple(
                    Sample(labels={**base, "daemon": r.daemon.name}, value=float(r.restarts))
                    for r in self._running
                ),
            ),
        ]
        for running in self._running:
            families += running.daemon.metric_families(node)
        return families
