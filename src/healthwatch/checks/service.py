"""The checks service: runs every configured check on the scheduler and keeps the outcome.

It ties the parts together: the scheduler decides when, the engine runs a check
(retries, conditions), the threshold state decides when a failing streak becomes
an alert and when it resolves, and the history store keeps every result and the
state, so a restart resumes a streak instead of alerting again. The latest result
of each check is kept in memory for the API, the status page and the metrics;
the store is optional (a store that cannot open leaves the checks running in
memory, reported as a degraded component).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import aiohttp

from healthwatch.aio.clock import Clock
from healthwatch.checks.engine import CheckState, run_check
from healthwatch.checks.reports import RunRegistry
from healthwatch.checks.runners.http import timing_trace_config
from healthwatch.checks.scheduler import ScheduledCheck, Scheduler
from healthwatch.checks.spec import CheckSpec
from healthwatch.model.checks import CheckHistory, CheckResult
from healthwatch.model.health import HealthStatus
from healthwatch.model.metrics import MetricFamily, MetricKind, Sample

__all__ = ["CheckService", "CheckView"]

_log = logging.getLogger("healthwatch.checks")
_DEFAULT_CONCURRENCY = {"http": 256, "tcp": 256, "tls": 64, "exec": 8}


@dataclass(slots=True)
class CheckView:
    """One check as the API and the status page see it."""

    spec: CheckSpec
    state: CheckState = field(default_factory=CheckState)
    latest: CheckResult | None = None
    runs: int = 0
    failures: int = 0


class CheckService:
    """Owns the scheduler, the HTTP session and the per-check state."""

    def __init__(
        self,
        specs: Sequence[CheckSpec],
        *,
        clock: Clock,
        store: CheckHistory | None = None,
        concurrency: Mapping[str, int] | None = None,
    ) -> None:
        self.clock = clock
        self.store = store
        self.views: dict[str, CheckView] = {spec.id: CheckView(spec) for spec in specs}
        self.scheduler = Scheduler(
            clock=clock, run=self._run, concurrency=concurrency or _DEFAULT_CONCURRENCY
        )
        self.store_error = ""
        self.runs = RunRegistry(clock=clock)
        """Open runs of external checks, answered by the report endpoints."""
        self.reporting_url: str | None = None
        """Base URL external checks report to (the web listener); set before ``start``."""
        self._session: aiohttp.ClientSession | None = None
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Resume saved states, then schedule every check."""
        if self.store is not None:
            try:
                saved = await self.store.load_states()
            except Exception as error:  # the checks run on without history
                self.store_error = str(error)
                _log.error("check history unavailable: %s", error)
                saved = {}
            for check_id, data in saved.items():
                view = self.views.get(check_id)
                if view is not None:
                    with contextlib.suppress(KeyError, TypeError, ValueError):
                        view.state = CheckState.from_dict(data)
        self._session = aiohttp.ClientSession(trace_configs=[timing_trace_config()])
        for view in self.views.values():
            spec = view.spec
            self.scheduler.add(
                ScheduledCheck(
                    id=spec.id, kind=spec.kind, interval=spec.interval, timeout=spec.timeout
                )
            )
        self._task = asyncio.create_task(self.scheduler.run_forever(), name="healthwatch-checks")

    async def stop(self) -> None:
        """Stop scheduling, let runs end (bounded), close the session."""
        await self.scheduler.stop(grace=2.0)
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._session is not None:
            await self._session.close()

    async def _run(self, scheduled: ScheduledCheck) -> None:
        view = self.views.get(scheduled.id)
        if view is None:
            return
        spec = view.spec
        reporting = (self.runs, self.reporting_url) if self.reporting_url else None
        result = await run_check(spec, clock=self.clock, session=self._session, reporting=reporting)
        view.latest = result
        view.runs += 1
        view.failures += 0 if result.ok else 1
        transition = view.state.observe(
            result,
            failure_threshold=spec.failure_threshold,
            success_threshold=spec.success_threshold,
        )
        if transition is not None:
            level = logging.WARNING if transition == "firing" else logging.INFO
            _log.log(
                level,
                "check %s alert %s: %s",
                spec.id,
                transition,
                "; ".join(result.errors) or "ok",
            )
        if self.store is not None and not self.store_error:
            try:
                await self.store.add_result(result, wait=False)
                if transition is not None:
                    await self.store.save_state(spec.id, view.state.to_dict())
            except Exception as error:  # history is lost, the checks go on
                self.store_error = str(error)
                _log.error("check history write failed: %s", error)

    # ------------------------------------------------------------ health and metrics
    def health(self) -> tuple[HealthStatus, str]:
        """Degraded when runs are late (p99 over 1 s) or the history store failed."""
        stats = self.scheduler.stats()
        summary = (
            f"{len(self.views)} checks, {stats.started} runs, "
            f"{sum(1 for v in self.views.values() if v.latest and not v.latest.ok)} failing"
        )
        if self.store_error:
            return HealthStatus.DEGRADED, f"history store: {self.store_error}; {summary}"
        if stats.lateness_p99 is not None and stats.lateness_p99 > 1.0:
            return HealthStatus.DEGRADED, f"runs late (p99 {stats.lateness_p99:.2f}s); {summary}"
        return HealthStatus.HEALTHY, summary

    def metric_families(self, node: str | None = None) -> list[MetricFamily]:
        """Kuberhealthy's check metrics (v2 names) and ``healthwatch_check_*``."""
        base = {"node": node} if node else {}
        status: list[Sample] = []
        duration: list[Sample] = []
        failures: list[Sample] = []
        runs: list[Sample] = []
        since: list[Sample] = []
        now = self.clock.time()
        for view in self.views.values():
            spec, latest = view.spec, view.latest
            labels = {**base, "check": spec.id, "namespace": spec.namespace}
            runs += [
                Sample(labels={**labels, "outcome": "ok"}, value=view.runs - view.failures),
                Sample(labels={**labels, "outcome": "failed"}, value=view.failures),
            ]
            failures.append(Sample(labels=labels, value=view.state.consecutive_failures))
            last_ok = view.state.last_success
            since.append(Sample(labels=labels, value=-1.0 if last_ok is None else now - last_ok))
            if latest is None:
                continue  # never run: hidden, as Kuberhealthy hides it
            status.append(
                Sample(
                    labels={**labels, "status": "1" if latest.ok else "0"},
                    value=1.0 if latest.ok else 0.0,
                )
            )
            duration.append(Sample(labels=labels, value=latest.duration))
        stats = self.scheduler.stats()
        all_ok = all(v.latest.ok for v in self.views.values() if v.latest is not None)
        lateness = tuple(
            Sample(labels={**base, "quantile": q}, value=v)
            for q, v in (("0.5", stats.lateness_p50), ("0.99", stats.lateness_p99))
            if v is not None
        )
        gauge, counter = MetricKind.GAUGE, MetricKind.COUNTER
        table: list[tuple[str, MetricKind, str, Sequence[Sample]]] = [
            (
                "kuberhealthy_running",
                gauge,
                "1 while the checks service runs.",
                (Sample(labels={"current_master": node or ""}, value=1.0),),
            ),
            (
                "kuberhealthy_cluster_state",
                gauge,
                "1 when every check that has run passed its latest run.",
                (Sample(value=1.0 if all_ok else 0.0),),
            ),
            (
                "kuberhealthy_check",
                gauge,
                "1 when the check's latest run passed, 0 when it failed.",
                status,
            ),
            (
                "kuberhealthy_check_duration_seconds",
                gauge,
                "Seconds the check's latest run took.",
                duration,
            ),
            ("healthwatch_check_runs", counter, "Check runs by outcome.", runs),
            (
                "healthwatch_check_consecutive_failures",
                gauge,
                "Failed runs of the check since its last success.",
                failures,
            ),
            (
                "healthwatch_check_seconds_since_success",
                gauge,
                "Seconds since the check last passed; -1 if it never has.",
                since,
            ),
            (
                "healthwatch_check_schedule_lateness_seconds",
                gauge,
                "How late runs start, over the latest runs, by quantile.",
                lateness,
            ),
        ]
        return [
            MetricFamily(name=name, kind=kind, help=help_, samples=tuple(samples))
            for name, kind, help_, samples in table
        ]
