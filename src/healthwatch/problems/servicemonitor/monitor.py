"""The service monitor daemon: poll a unit, hold its condition, repair it when allowed.

Each poll asks systemd for the unit's state, then (while it is up) runs its
health request, runtime check and journal count side by side, each within the
per-call timeout. The verdict becomes the component's condition; a change of
status or reason is reported with an event, as node-problem-detector does. When
repair is on, a running unit that stays unhealthy is repaired once it has been up
longer than the cool-down, within the hourly budget; each repair, failed repair
and the budget running out is an event and a metric.
"""

from __future__ import annotations

import asyncio
import logging
import os
import shutil
from pathlib import Path

from healthwatch.aio.clock import Clock, SystemClock
from healthwatch.aio.processes import DEFAULT_PATH
from healthwatch.model.errors import HealthwatchError
from healthwatch.model.health import HealthStatus
from healthwatch.model.metrics import MetricFamily
from healthwatch.model.problems import Event, Severity, Status
from healthwatch.problems.base import ProblemDeclaration, StatusSink
from healthwatch.problems.servicemonitor.components import Component, RuntimeKind
from healthwatch.problems.servicemonitor.config import ServiceMonitorConfig
from healthwatch.problems.servicemonitor.figures import Figures, families
from healthwatch.problems.servicemonitor.journal import JournalCounter, JournalReading
from healthwatch.problems.servicemonitor.probes import Probe, http_probe, runtime_probe
from healthwatch.problems.servicemonitor.repair import RepairBudget, kill_main
from healthwatch.problems.servicemonitor.systemd import Systemctl, UnitState
from healthwatch.problems.servicemonitor.verdict import (
    CONDITION_REASONS,
    EVENT_REASONS,
    ConditionBook,
    FlapTracker,
    Observation,
    Reason,
    Verdict,
    judge,
)

__all__ = ["ServiceMonitor"]

_log = logging.getLogger("healthwatch.problems.servicemonitor")


class ServiceMonitor:
    """One monitored service."""

    def __init__(
        self,
        config: ServiceMonitorConfig,
        *,
        clock: Clock | None = None,
        host_root: str = "/",
        state_dir: Path | None = None,
    ) -> None:
        self.config = config
        self.clock: Clock = clock or SystemClock()
        self.host_root = host_root
        self.state_dir = state_dir
        path = state_dir / "servicemonitor" / f"{config.name}.json" if state_dir else None
        self.budget = RepairBudget(config.max_repairs_per_hour, clock=self.clock, path=path)
        self.flaps = FlapTracker(config.flap_window, clock=self.clock)
        self.journal = JournalCounter(config.unit, config.log_patterns, loopback=config.loopback)
        self.figures = Figures(patterns=len(config.log_patterns))
        self.book = ConditionBook(config.condition, unit=config.unit, prefix=config.reason_prefix)
        self.state: UnitState | None = None
        """The unit's state at the latest poll (None when systemctl could not tell)."""
        self.systemctl = Systemctl(config.unit, timeout=config.timeout)
        self._budget_reported = False

    @classmethod
    def from_options(
        cls,
        *,
        config: ServiceMonitorConfig,
        clock: Clock,
        host_root: str = "/",
        state_dir: Path | None = None,
        **_: object,
    ) -> ServiceMonitor:
        """Factory for the daemon-kind registry (extra options of other kinds are ignored).

        ``host_root`` is kept but not used to find programs: ``systemctl`` and
        ``journalctl`` are found on the agent's ``PATH`` and reach the host's systemd
        through its bus and journal, which a containerised agent must mount.
        """
        return cls(config, clock=clock, host_root=host_root, state_dir=state_dir)

    @property
    def name(self) -> str:
        """The monitor's name: its component and the status source."""
        return self.config.name

    def _reason(self, reason: Reason) -> str:
        return self.book.reason(reason)

    def declarations(self) -> tuple[ProblemDeclaration, ...]:
        """The condition's reasons (True and healthy) and the events' reasons."""
        condition = self.config.condition
        held = [Reason.HEALTHY, Reason.CHECK_FAILED, *CONDITION_REASONS]
        return (
            *(ProblemDeclaration(reason=self._reason(r), condition=condition) for r in held),
            *(ProblemDeclaration(reason=self._reason(r)) for r in EVENT_REASONS),
        )

    def programs(self) -> list[str]:
        """The programs this monitor runs."""
        needed = ["systemctl"]
        if self.config.log_patterns:
            needed.append("journalctl")
        if self.config.runtime is RuntimeKind.CRI:
            needed.append("crictl")
        elif self.config.runtime is RuntimeKind.DOCKER:
            needed.append("docker")
        return needed

    async def start(self) -> None:
        """Check that the programs are on ``PATH``, and restore the repair history."""
        path = os.environ.get("PATH") or DEFAULT_PATH
        missing = [p for p in self.programs() if shutil.which(p, path=path) is None]
        if missing:
            raise HealthwatchError(
                f"service monitor {self.name}: {', '.join(missing)} not found on PATH"
            )
        self.budget.load()

    async def stop(self) -> None:
        """Nothing to release: commands end with each poll, repairs are saved as made."""

    async def run(self, sink: StatusSink) -> None:
        """Poll every interval until cancelled; report each change with its events."""
        due = self.clock.monotonic()
        while True:
            status = await self.poll()
            if status is not None:
                sink.report(status)
            due += self.config.interval
            now = self.clock.monotonic()
            due = max(due, now)  # after an overrun, skip what was missed
            await asyncio.sleep(due - now)

    # ------------------------------------------------------------ one poll
    async def _probe(
        self, state: UnitState, now: float
    ) -> tuple[Probe | None, Probe | None, JournalReading | None]:
        config = self.config
        async with asyncio.TaskGroup() as group:
            health = runtime = journal = None
            if config.health_url:
                health = group.create_task(
                    http_probe(config.health_url, timeout=config.timeout), name=f"{self.name}-http"
                )
            if config.runtime is not None:
                runtime = group.create_task(
                    runtime_probe(
                        config.runtime,
                        endpoint=config.runtime_endpoint,
                        runtime_timeout=config.runtime_timeout,
                        timeout=config.timeout,
                    ),
                    name=f"{self.name}-runtime",
                )
            if config.log_patterns and state.started_at is not None:
                journal = group.create_task(
                    self.journal.read(started_at=state.started_at, now=now, timeout=config.timeout),
                    name=f"{self.name}-journal",
                )
        return (
            health.result() if health else None,
            runtime.result() if runtime else None,
            journal.result() if journal else None,
        )

    async def poll(self) -> Status | None:
        """One round: observe, judge, maybe repair. A status when something changed."""
        now = self.clock.time()
        state, error = await self.systemctl.show()
        events: list[Event] = []
        seen = Observation(state=None, error=error)
        self.figures.polls += 1
        self.figures.last_error = f"systemctl: {error}" if error else ""
        if error:
            self.figures.check_errors["systemctl"] += 1
        self.state = state
        if state is not None:
            restarts = self.flaps.observe(state)
            if restarts:
                events.append(self.book.restarted(state, restarts, now))
            health, runtime, journal = (None, None, None)
            if state.active:
                health, runtime, journal = await self._probe(state, now)
            if journal is not None:
                self.figures.counts = journal.counts
                self.figures.journal_backlog = journal.partial
                if journal.error:
                    self.figures.check_errors["journalctl"] += 1
                    self.figures.last_error = journal.error
            seen = Observation(
                state=state,
                restarts=self.flaps.recent(),
                health=health,
                runtime=runtime,
                journal=journal,
            )
        verdict = judge(self.config, seen)
        changed, event = self.book.apply(verdict, now)
        events += [event] if event is not None else []
        if self.config.enable_repair:
            events += await self._repair(verdict, state, now)
        condition = self.book.condition
        if condition is None or not (changed or events or self.figures.polls == 1):
            return None
        return Status(source=self.name, events=tuple(events), conditions=(condition,))

    # ------------------------------------------------------------ repair
    def uptime(self, state: UnitState | None, now: float) -> float | None:
        """Seconds since the unit last left the inactive state (None while down or unknown)."""
        if state is None or not state.active or state.started_at is None:
            return None
        return max(now - state.started_at, 0.0)

    async def _repair(self, verdict: Verdict, state: UnitState | None, now: float) -> list[Event]:
        config, figures = self.config, self.figures
        if not self.budget.exhausted():
            self._budget_reported = False
            figures.budget_blocked = False
        if not verdict.repairable or state is None:
            figures.budget_blocked = False
            return []
        uptime = self.uptime(state, now)
        if state.main_pid <= 0 or uptime is None:
            return []  # nothing to kill, or no start time to judge the cool-down by
        if uptime <= config.cooldown:
            figures.skipped["cooldown"] += 1
            return []
        if self.budget.exhausted():
            figures.skipped["budget"] += 1
            figures.budget_blocked = True
            if self._budget_reported:
                return []
            self._budget_reported = True
            message = (
                f"not repairing {config.unit}: {self.budget.used()} repairs within the last "
                f"hour (max {config.max_repairs_per_hour}); next allowed in "
                f"{self.budget.refills_in():.0f}s; {verdict.message}"
            )
            _log.warning("%s: %s", self.name, message)
            reason = self._reason(Reason.BUDGET_EXHAUSTED)
            return [Event(severity=Severity.WARN, timestamp=now, reason=reason, message=message)]
        done, detail = await kill_main(
            config.unit, dump_stacks=config.component is Component.DOCKER, timeout=config.timeout
        )
        self.budget.spend()
        figures.repairs["succeeded" if done else "failed"] += 1
        what = f"main process (pid {state.main_pid}) of {config.unit}, up {uptime:.0f}s"
        if done:
            self.flaps.expect_restart()
            message, reason = f"killed the {what}: {verdict.message}", Reason.REPAIRED
        else:
            message, reason = f"could not kill the {what}: {detail}", Reason.REPAIR_FAILED
        _log.warning("%s: %s", self.name, message)
        return [
            Event(
                severity=Severity.WARN, timestamp=now, reason=self._reason(reason), message=message
            )
        ]

    # ------------------------------------------------------------ own health and metrics
    def health(self) -> tuple[HealthStatus, str]:
        """Degraded while its commands fail or the repair budget holds a repair back."""
        if self.figures.polls == 0:
            return HealthStatus.UNKNOWN, "not polled yet"
        unit = self.config.unit
        if self.figures.last_error:
            return HealthStatus.DEGRADED, f"{unit}: {self.figures.last_error}"
        if self.figures.budget_blocked:
            return HealthStatus.DEGRADED, (
                f"{unit}: repair budget exhausted ({self.config.max_repairs_per_hour} per hour)"
            )
        condition = self.book.condition
        shown = f"{condition.type}={condition.status} ({condition.reason})" if condition else ""
        backlog = "; journal backlog still being counted" if self.figures.journal_backlog else ""
        return HealthStatus.HEALTHY, f"{unit}: {shown}; {self.figures.polls} polls{backlog}"

    def metric_families(self, node: str | None) -> list[MetricFamily]:
        """``healthwatch_service_*``: up, healthy, uptime, restarts, repairs, log pattern counts."""
        return families(
            self.config,
            self.figures,
            state=self.state,
            condition=self.book.condition,
            uptime=self.uptime(self.state, self.clock.time()),
            restarts=self.flaps.total,
            node=node,
        )
