"""When the agent reloads its config: on SIGHUP or a changed file, one reload at a time.

One named task owns every reload, so reloads never overlap: requests that
arrive during a reload (another SIGHUP, the file changing again) make one more
reload after it, never a queue of them. Between requests it polls the config
file (and the node-problem-detector files given by flags) every
``agent.reload_poll``. Reading and validating the new config runs in a worker
thread, so the event loop keeps serving; a rejected config changes nothing,
and its errors are logged one by one, counted, and shown on the agent's
component (degraded, ``reload rejected: …``) until a reload succeeds or
:data:`REJECTED_SHOWN_FOR` passes. Once shutdown begins, requests are ignored.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
from collections.abc import Callable
from dataclasses import dataclass

from healthwatch.agent_reload.apply import Applied, RunningParts, apply_plan, changes_of, snapshot
from healthwatch.agent_reload.plan import ReloadRejectedError, prepare
from healthwatch.agent_reload.watch import FileWatch
from healthwatch.config.agent import AgentConfig
from healthwatch.health.serializers import iso_time
from healthwatch.model.metrics import MetricFamily, MetricKind, Sample
from healthwatch.problems.base import DaemonKinds

__all__ = ["OUTCOMES", "REJECTED_SHOWN_FOR", "ReloadRecord", "Reloader"]

_log = logging.getLogger("healthwatch.agent")

REJECTED_SHOWN_FOR = 600.0
"""Seconds a rejected reload keeps the agent's component degraded (unless one succeeds)."""
OUTCOMES = ("applied", "rejected", "failed")
"""Reload outcomes: the config was applied, rejected as invalid, or applying it raised."""


@dataclass(frozen=True, slots=True, kw_only=True)
class ReloadRecord:
    """The latest reload, for the agent's component."""

    outcome: str
    """One of :data:`OUTCOMES`."""
    at: float
    """Wall time it ended."""
    trigger: str
    """What asked for it (``SIGHUP``, ``file changed: PATH``)."""
    summary: str
    """What it did, or the first error."""


class Reloader:
    """Reloads the agent's config on request or when its files change."""

    def __init__(
        self,
        config: AgentConfig,
        parts: RunningParts,
        *,
        kinds: DaemonKinds,
        health_url: str | None,
        on_change: Callable[[], None],
    ) -> None:
        self.config = config
        """The config the agent runs with now (restart-only settings as started)."""
        self.parts = parts
        self.kinds = kinds
        self.health_url = health_url
        self.on_change = on_change
        """Called after each reload, and when a rejection stops being shown."""
        self.latest: ReloadRecord | None = None
        self._problem = ""
        self._problem_until = -math.inf
        self.decisions: dict[str, str] | None = None
        """What the agent chose by itself for the latest applied config (None: none yet)."""
        self.counts = dict.fromkeys(OUTCOMES, 0)
        self._wanted: list[str] = []
        self._wake = asyncio.Event()
        self._closing = False
        self._task: asyncio.Task[None] | None = None
        self._watch: FileWatch | None = None

    # ------------------------------------------------------------ control
    def start(self) -> None:
        """Start the task that reloads and polls."""
        self._task = asyncio.create_task(self._loop(), name="healthwatch-reload")
        self._task.add_done_callback(self._ended)

    def request(self, trigger: str = "SIGHUP") -> None:
        """Ask for a reload (a signal handler may call this); ignored once shutdown began."""
        if self._closing:
            _log.info("config reload (%s) ignored: shutting down", trigger)
            return
        self._wanted.append(trigger)
        self._wake.set()

    def close(self) -> None:
        """Shutdown began: no reload starts from now on."""
        self._closing = True
        self._wake.set()

    async def stop(self) -> None:
        """Stop the task, cancelling a reload in progress (the agent is stopping anyway)."""
        self.close()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    @property
    def problem(self) -> str | None:
        """``reload rejected: …`` (or ``failed``) while shown; None when none is recent."""
        if self.parts.clock.monotonic() < self._problem_until:
            return self._problem
        return None

    def metadata(self) -> dict[str, str]:
        """The latest reload for the agent's component: ``{"reload": "applied at …: …"}``."""
        latest = self.latest
        if latest is None:
            return {}
        when = iso_time(latest.at)
        return {"reload": f"{latest.outcome} at {when} ({latest.trigger}): {latest.summary}"}

    def _ended(self, task: asyncio.Task[None]) -> None:
        if not task.cancelled() and task.exception() is not None:
            _log.error("config reloads stopped: %r", task.exception())

    # ------------------------------------------------------------ the loop
    async def _loop(self) -> None:
        paths = [
            p
            for p in (
                self.config.path,
                *self.config.system_log_monitors,
                *self.config.custom_plugin_monitors,
                *self.config.system_stats_monitors,
            )
            if p
        ]
        self._watch = await asyncio.to_thread(FileWatch, paths)
        while True:
            if not self._wanted:
                await self._pause()
            if self._closing:
                return
            try:
                await self._poll(self._watch)
                if self._wanted:
                    triggers, self._wanted = self._wanted, []
                    await self._reload(", ".join(dict.fromkeys(triggers)))
            except Exception:  # never a dead loop: the next request or poll tries again
                _log.exception("config reload: unexpected error; reloads go on")
            self._expire_rejection()

    async def _poll(self, watch: FileWatch) -> None:
        if not self._wanted and self.config.reload_poll_seconds and watch.paths:
            changed = await asyncio.to_thread(watch.changed)
            if changed:
                self._wanted.append(f"file changed: {', '.join(map(str, changed))}")

    async def _pause(self) -> None:
        """Until a request, the next poll or the end of a shown rejection, whichever is first."""
        waits = [self.config.reload_poll_seconds or math.inf]
        if self.problem is not None:
            waits.append(self._problem_until - self.parts.clock.monotonic())
        delay = max(0.0, min(waits))
        self._wake.clear()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), None if math.isinf(delay) else delay)

    def _expire_rejection(self) -> None:
        if self._problem_until > -math.inf and self.problem is None:
            self._problem_until = -math.inf
            self.on_change()

    async def _reload(self, trigger: str) -> None:
        _log.info("config reload (%s): reading %s", trigger, self.config.source)
        watch = self._watch
        if watch is not None:
            await asyncio.to_thread(watch.mark)  # later edits are new changes
        try:
            plan = await asyncio.to_thread(
                prepare,
                self.config,
                kinds=self.kinds,
                clock=self.parts.clock,
                health_url=self.health_url,
            )
        except ReloadRejectedError as error:
            for message in error.errors:
                _log.error("config reload rejected: %s", message)
            _log.error("config reload rejected; the running config stays in force")
            self._record("rejected", trigger, error.errors[0])
            return
        except Exception as error:  # a bug while reading: the running config stays
            _log.exception("config reload failed while reading the config")
            self._record("failed", trigger, f"{type(error).__name__}: {error}")
            return
        try:
            changes = await asyncio.to_thread(changes_of, plan, snapshot(self.parts))
            applied = await apply_plan(plan, changes, self.parts)
        except Exception as error:  # half applied: say so loudly, keep running
            _log.exception("config reload failed while applying it; the agent runs on")
            self.config = plan.config
            self._record("failed", trigger, f"{type(error).__name__}: {error}")
            return
        self.config = plan.config
        self.decisions = dict(plan.decisions)
        self._applied(trigger, applied)

    def _applied(self, trigger: str, applied: Applied) -> None:
        summary = applied.describe()
        _log.info("config reloaded (%s): %s", trigger, summary)
        if applied.needs_restart:
            _log.warning(
                "config reload: changes to %s were not applied; they need a restart",
                ", ".join(applied.needs_restart),
            )
            summary += f"; needs a restart: {', '.join(applied.needs_restart)}"
        self._record("applied", trigger, summary)

    def _record(self, outcome: str, trigger: str, summary: str) -> None:
        self.counts[outcome] += 1
        self._problem_until = -math.inf
        if outcome != "applied":
            self._problem = f"reload {outcome}: {summary}"
            self._problem_until = self.parts.clock.monotonic() + REJECTED_SHOWN_FOR
        self.latest = ReloadRecord(
            outcome=outcome, at=self.parts.clock.time(), trigger=trigger, summary=summary
        )
        self.on_change()

    # ------------------------------------------------------------ metrics
    def metric_families(self, node: str | None = None) -> list[MetricFamily]:
        """``healthwatch_config_reloads_total{outcome}`` and whether the latest one applied."""
        base = {"node": node} if node else {}
        latest_ok = self.latest is None or self.latest.outcome == "applied"
        return [
            MetricFamily(
                name="healthwatch_config_reloads",
                kind=MetricKind.COUNTER,
                help="Config reloads by outcome: applied, rejected (invalid config), failed.",
                samples=tuple(
                    Sample(labels={**base, "outcome": outcome}, value=float(count))
                    for outcome, count in self.counts.items()
                ),
            ),
            MetricFamily(
                name="healthwatch_config_last_reload_successful",
                kind=MetricKind.GAUGE,
                help="1 if the latest config reload was applied (or none was tried), else 0.",
                samples=(Sample(labels=base, value=1.0 if latest_ok else 0.0),),
            ),
        ]
