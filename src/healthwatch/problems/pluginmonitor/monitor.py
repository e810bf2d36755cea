"""The plugin monitor daemon: plugins run on schedule, each result reported as a status.

Each invocation runs the plugin through ``aio.processes.run_command``: no shell,
a minimal environment, its own process group killed at the timeout (and
whatever it left behind killed when it exits), 4096 bytes of stdout and of
stderr kept. The result becomes node-problem-detector's status: a temporary
rule reports an event when the result is a problem or Unknown; a permanent rule
drives its condition (``conditions``). Every result is reported with the full
set of conditions, as NPD does. Stderr goes to the log (debug level after an
OK result, info otherwise). A plugin that hangs, crashes, floods its output or
disappears from disk is one Unknown result and a line in the monitor's health:
the monitor itself keeps running.

Plugins get ``PATH`` and ``LANG``, plus the variables node-problem-detector's
health checker reads when the agent has them (:data:`PASSED_ENVIRONMENT`).
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

from healthwatch.aio.clock import Clock, SystemClock
from healthwatch.aio.processes import Command, CommandResult, PluginStatus, run_command
from healthwatch.model.health import HealthStatus
from healthwatch.model.metrics import MetricFamily
from healthwatch.model.problems import (
    Condition,
    Event,
    ProblemDeclaration,
    Severity,
    Status,
)
from healthwatch.problems.base import StatusSink
from healthwatch.problems.pluginmonitor.conditions import PluginConditionBook
from healthwatch.problems.pluginmonitor.outcome import READ_CAP, Outcome, outcome_of
from healthwatch.problems.pluginmonitor.schedule import PluginScheduler
from healthwatch.problems.pluginmonitor.specs import PluginMonitorConfig, PluginRule
from healthwatch.problems.pluginmonitor.stats import MonitorStats
from healthwatch.problems.statefile import load_state, save_state

__all__ = ["PASSED_ENVIRONMENT", "Invocation", "PluginMonitor"]

_log = logging.getLogger("healthwatch.problems.pluginmonitor")
PASSED_ENVIRONMENT = ("HOST_ADDRESS", "KUBELET_PORT", "KUBEPROXY_PORT", "NODE_NAME", "TZ")
"""Variables passed on to plugins when the agent has them (NPD's health checker reads the
first three to find the kubelet and kube-proxy)."""
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]")


@dataclass(frozen=True, slots=True, kw_only=True)
class Invocation:
    """One finished run of a plugin, for observers (benchmarks, replays)."""

    rule: PluginRule
    """The rule that ran."""
    tick: float
    """Monotonic time it was scheduled for."""
    lateness: float
    """Seconds it started after ``tick``."""
    duration: float
    """Seconds it ran."""
    outcome: Outcome
    """What it came to."""


class PluginMonitor:
    """One configured plugin monitor."""

    def __init__(
        self,
        config: PluginMonitorConfig,
        *,
        clock: Clock | None = None,
        state_dir: Path | None = None,
        sleep: Callable[[float], Awaitable[None]] | None = None,
    ) -> None:
        self.config = config
        self.clock: Clock = clock or SystemClock()
        self.state_dir = state_dir
        self._sleep = sleep
        self._book = PluginConditionBook(
            config.conditions,
            now=self.clock.time(),
            message_change_updates=config.message_change_updates,
        )
        self._stats = MonitorStats(config.rules)
        self._scheduler: PluginScheduler[PluginRule] | None = None
        self._started = False
        self._env = {k: os.environ[k] for k in PASSED_ENVIRONMENT if k in os.environ}
        self.on_invocation: Callable[[Invocation], None] | None = None
        """Called after every invocation (benchmarks use it to record lateness)."""

    @classmethod
    def from_options(
        cls,
        *,
        config: PluginMonitorConfig,
        clock: Clock,
        host_root: str = "/",
        state_dir: Path | None = None,
        **_: object,
    ) -> PluginMonitor:
        """Factory for the daemon-kind registry.

        ``host_root`` is not used: plugins run in the agent's own filesystem, as
        node-problem-detector runs them in its container.
        """
        del host_root
        return cls(config, clock=clock, state_dir=state_dir)

    @property
    def name(self) -> str:
        """The monitor's name: node-problem-detector's ``source``."""
        return self.config.name

    def declarations(self) -> tuple[ProblemDeclaration, ...]:
        """Every reason this monitor may report."""
        return tuple(
            ProblemDeclaration(reason=d.reason, condition=d.condition, source=self.name)
            for d in self.config.declarations()
        )

    def _state_file(self) -> Path | None:
        if self.state_dir is None:
            return None
        key = _UNSAFE.sub("_", self.config.state_key or self.name)
        return self.state_dir / "pluginmonitor" / f"{key}.json"

    async def start(self) -> None:
        """Take back saved conditions; a missing plugin is reported, not fatal."""
        path = self._state_file()
        saved = load_state(path) if path else None
        if saved is not None:
            try:
                self._book.restore(saved, now=self.clock.time())
            except (ValueError, KeyError, TypeError) as error:
                _log.warning("%s: ignoring saved conditions: %s", path, error)
        for rule in self.config.rules:
            if not os.path.exists(rule.program):  # noqa: ASYNC240 - one stat per plugin at start
                _log.warning(
                    "%s: plugin %s is missing; its results will be Unknown", self.name, rule.path
                )
        self._started = True

    async def stop(self) -> None:
        """Nothing to release: runs end with ``run``; conditions are saved as they change."""

    def initial_conditions(self) -> tuple[Condition, ...]:
        """The conditions before any result (restored ones after a restart)."""
        return self._book.conditions()

    async def run(self, sink: StatusSink) -> None:
        """Report the conditions (unless told not to), then run the plugins until cancelled."""
        if not self.config.skip_initial_status:
            sink.report(Status(source=self.name, conditions=self._book.conditions()))

        async def invoke(rule: PluginRule, tick: float) -> None:
            await self._invoke(rule, tick, sink)

        self._scheduler = PluginScheduler(
            self.config.rules,
            interval_of=lambda rule: rule.interval,
            invoke=invoke,
            concurrency=self.config.concurrency,
            clock=self.clock,
            sleep=self._sleep,
            label=lambda rule: rule.name,
            name=self.name,
        )
        await self._scheduler.run()

    async def _invoke(self, rule: PluginRule, tick: float, sink: StatusSink) -> None:
        lateness = max(0.0, self.clock.monotonic() - tick)
        result = await run_command(
            Command(argv=rule.argv, env=self._env, output_cap=READ_CAP), timeout=rule.timeout
        )
        outcome = outcome_of(
            result, path=rule.path, max_output_length=self.config.max_output_length
        )
        self._log_run(rule, outcome, result)
        self._stats.record(
            rule,
            outcome,
            seconds=result.duration,
            lateness=lateness,
            stdout_cut=result.stdout_truncated,
            stderr_cut=result.stderr_truncated,
        )
        self.report(rule, outcome, sink)
        if self.on_invocation is not None:
            self.on_invocation(
                Invocation(
                    rule=rule,
                    tick=tick,
                    lateness=lateness,
                    duration=result.duration,
                    outcome=outcome,
                )
            )

    def _log_run(self, rule: PluginRule, outcome: Outcome, result: CommandResult) -> None:
        if outcome.error:
            _log.warning("%s: plugin %s cannot start: %s", self.name, rule.path, outcome.error)
        elif result.timed_out:
            _log.warning(
                "%s: plugin %s timed out after %gs; its process group was killed",
                self.name,
                rule.path,
                rule.timeout,
            )
        if outcome.stderr:
            level = logging.DEBUG if outcome.status is PluginStatus.OK else logging.INFO
            cut = " [cut at 4096 bytes]" if result.stderr_truncated else ""
            _log.log(level, "%s: plugin %s stderr%s: %s", self.name, rule.path, cut, outcome.stderr)

    def report(self, rule: PluginRule, outcome: Outcome, sink: StatusSink) -> None:
        """Turn one result into a status (NPD's mapping) and hand it to ``sink``."""
        at = self.clock.time()
        events: list[Event] = []
        if rule.kind == "temporary":
            if outcome.status is not PluginStatus.OK:
                events.append(
                    Event(
                        severity=Severity.WARN,
                        timestamp=at,
                        reason=rule.reason,
                        message=outcome.message,
                    )
                )
        elif rule.condition is not None:
            change = self._book.apply(
                rule.condition,
                status=outcome.status,
                reason=rule.reason,
                message=outcome.message,
                at=at,
            )
            if change is not None:
                events.append(change)
                self._save()
        sink.report(
            Status(source=self.name, events=tuple(events), conditions=self._book.conditions())
        )

    def _save(self) -> None:
        path = self._state_file()
        if path is None:
            return
        try:
            save_state(path, self._book.to_json())
        except OSError as error:
            _log.warning("%s: cannot save conditions: %s", path, error)

    # ------------------------------------------------------------ own health and metrics
    def health(self) -> tuple[HealthStatus, str]:
        """Degraded while plugins are missing, unstartable, timing out or unknown."""
        if not self._started:
            return HealthStatus.UNKNOWN, "not started"
        status, message = self._stats.health()
        failures = self._scheduler.failures if self._scheduler is not None else 0
        if failures:
            return HealthStatus.DEGRADED, f"{failures} invocations failed internally; {message}"
        return status, message

    def metric_families(self, node: str | None) -> list[MetricFamily]:
        """``healthwatch_pluginmonitor_*``: invocations, durations, truncations, lateness."""
        scheduler = self._scheduler
        return self._stats.families(
            self.name,
            node,
            running=scheduler.running if scheduler is not None else 0,
            skipped=scheduler.skipped_ticks if scheduler is not None else 0,
        )
