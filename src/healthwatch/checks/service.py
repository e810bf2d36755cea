"""The checks service: runs every configured check on the scheduler and keeps the outcome.

It ties the parts together: the scheduler decides when, the engine runs a check
(retries, conditions), the threshold state decides when a failing streak becomes
an alert and when it resolves, and the history store keeps every result and the
state, so a restart resumes a streak instead of alerting again. The latest result
of each check is kept in memory for the API, the status page and the metrics;
the store is optional (a store that cannot open leaves the checks running in
memory, reported as a degraded component). With an alert dispatcher, each
transition goes out through the check's outbox (:mod:`healthwatch.checks.alerts.outbox`);
inside a maintenance window a check runs and keeps history but does not alert.
A reload hands the service a new set of specs (:meth:`CheckService.apply`): what
is unchanged is left alone, and a changed check keeps its state and history.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import aiohttp

from healthwatch.aio.clock import Clock
from healthwatch.checks.alerts.dispatcher import AlertDispatcher
from healthwatch.checks.alerts.outbox import AlertOutbox
from healthwatch.checks.changes import CheckChanges, check_changes
from healthwatch.checks.engine import CheckState, run_check
from healthwatch.checks.reports import RunRegistry
from healthwatch.checks.runfigures import RunFigures
from healthwatch.checks.runners.http import timing_trace_config
from healthwatch.checks.scheduler import ScheduledCheck, Scheduler
from healthwatch.checks.spec import CheckSpec
from healthwatch.model.checks import CheckHistory, CheckResult
from healthwatch.model.health import HealthStatus
from healthwatch.model.metrics import MetricFamily, MetricKind, Sample

__all__ = ["CheckService", "CheckView"]

_log = logging.getLogger("healthwatch.checks")
_DEFAULT_CONCURRENCY = {"http": 256, "tcp": 256, "dns": 256, "tls": 64, "exec": 8}


@dataclass(slots=True)
class CheckView:
    """One check as the API and the status page see it."""

    spec: CheckSpec
    state: CheckState = field(default_factory=CheckState)
    latest: CheckResult | None = None
    runs: int = 0
    failures: int = 0
    maintenance: str | None = None
    """The maintenance window the latest run fell in (``sun 02:00-04:00 UTC``), else None."""

    @property
    def alert_status(self) -> str:
        """``in maintenance``, ``firing`` or ``ok``, for people."""
        if self.maintenance is not None:
            return "in maintenance"
        return "firing" if self.state.alerting else "ok"


@dataclass(slots=True, kw_only=True)
class _CheckSamples:
    """One check's label sets and latest metric samples, kept across scrapes.

    With tens of thousands of checks a scrape builds several samples per check; the
    label sets never change and most values (failure counts, streaks, status) rarely
    do, so those samples are built once and reused while their value holds.
    """

    labels: Mapping[str, str]
    ok: Mapping[str, str]
    failed: Mapping[str, str]
    passing: Sample
    failing: Sample
    latest: dict[str, Sample] = field(default_factory=dict)

    @classmethod
    def of(cls, spec: CheckSpec, base: Mapping[str, str]) -> _CheckSamples:
        labels = {**base, "check": spec.id, "namespace": spec.namespace}
        return cls(
            labels=labels,
            ok={**labels, "outcome": "ok"},
            failed={**labels, "outcome": "failed"},
            passing=Sample(labels={**labels, "status": "1"}, value=1.0),
            failing=Sample(labels={**labels, "status": "0"}, value=0.0),
        )

    def sample(self, key: str, labels: Mapping[str, str], value: float) -> Sample:
        """The sample ``key`` with ``value``: the previous one if its value is the same."""
        found = self.latest.get(key)
        if found is None or found.value != value:
            found = self.latest[key] = Sample(labels=labels, value=value)
        return found


def _scheduled(spec: CheckSpec) -> ScheduledCheck:
    return ScheduledCheck(id=spec.id, kind=spec.kind, interval=spec.interval, timeout=spec.timeout)


def _alerted(view: CheckView) -> bool:
    """Whether the check has an open alert or notifications not yet delivered."""
    return bool(view.state.pending) or view.state.open_alert() is not None


class CheckService:
    """Owns the scheduler, the HTTP session and the per-check state."""

    def __init__(
        self,
        specs: Sequence[CheckSpec],
        *,
        clock: Clock,
        store: CheckHistory | None = None,
        concurrency: Mapping[str, int] | None = None,
        alerts: AlertDispatcher | None = None,
    ) -> None:
        self.clock = clock
        self.store = store
        self.alerts = alerts
        """Delivers notifications to the alert routes; None: transitions are only logged."""
        self._outbox = (
            None
            if alerts is None
            else AlertOutbox(alerts, state_of=self._state_of, save=self._save_state)
        )
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
        self._samples: dict[str, _CheckSamples] = {}
        self._figures = RunFigures()
        self._samples_node: str | None = None

    async def start(self) -> None:
        """Resume saved states, then schedule every check."""
        await self._resume(self.views)
        if self._outbox is not None:
            await self._outbox.start((v.spec, v.state) for v in self.views.values())
        # No cookie jar: one check's cookies must not reach another check of the same host
        # (and parsing them costs every run). As many pooled connections as http runs may
        # be in flight, so a run never waits for a connection inside its own timeout.
        self._session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=self.scheduler.limit("http")),
            cookie_jar=aiohttp.DummyCookieJar(),
            trace_configs=[timing_trace_config()],
        )
        for view in self.views.values():
            self.scheduler.add(_scheduled(view.spec))
        self._task = asyncio.create_task(self.scheduler.run_forever(), name="healthwatch-checks")

    async def _resume(self, views: Mapping[str, CheckView]) -> None:
        """Take over the states saved for ``views`` (by check id), if there is a store."""
        if self.store is None or self.store_error or not views:
            return
        try:
            saved = await self.store.load_states()
        except Exception as error:  # the checks run on without history
            self.store_error = str(error)
            _log.error("check history unavailable: %s", error)
            return
        for check_id, data in saved.items():
            view = views.get(check_id)
            if view is not None:
                with contextlib.suppress(KeyError, TypeError, ValueError):
                    view.state = CheckState.from_dict(data)

    async def stop(self) -> None:
        """Stop scheduling, let runs end (bounded), close the session."""
        await self.scheduler.stop(grace=2.0)
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._session is not None:
            await self._session.close()
        if self._outbox is not None:
            await self._outbox.stop()

    # ------------------------------------------------------------ reload
    async def apply(
        self, specs: Sequence[CheckSpec], *, changes: CheckChanges | None = None
    ) -> CheckChanges:
        """Run ``specs`` from now on without losing what the checks have (a reload).

        Unchanged checks are left alone; a changed one keeps its state (streaks, open
        alert), latest result and history under the new spec, and its phase when the
        interval is the same; a removed one is no longer scheduled (a run in flight
        finishes, its history stays in the store); an added one resumes a state saved
        under its id, if any. ``changes`` is :func:`~healthwatch.checks.changes.check_changes`
        of the current specs and ``specs``, worked out beforehand off the event loop (with
        tens of thousands of checks it takes a while); None: worked out here.
        """
        if changes is None:
            changes = check_changes(self.specs(), specs)
        views: dict[str, CheckView] = {}
        changed = set(changes.changed)
        for spec in specs:
            view = self.views.get(spec.id) or CheckView(spec)
            if spec.id in changed:
                view.spec = spec
            views[spec.id] = view
        await self._resume({i: views[i] for i in changes.added})
        touched = [views[i] for i in (*changes.added, *changes.changed)]
        touched += [self.views[i] for i in changes.removed]
        self.views = views  # a new dict: a scrape on another thread may be reading the old one
        self._samples = {i: s for i, s in self._samples.items() if i in views}
        if self._task is not None:
            for check_id in changes.removed:
                self.scheduler.remove(check_id)
            for check_id in changes.changed:
                self.scheduler.replace(_scheduled(views[check_id].spec))
            for check_id in changes.added:
                self.scheduler.add(_scheduled(views[check_id].spec))
        if self.alerts is not None and any(map(_alerted, touched)):  # alerts follow the new set
            await self.set_alerts(AlertDispatcher(self.alerts.alerting, clock=self.clock))
        return changes

    def specs(self) -> dict[str, CheckSpec]:
        """The spec of every check, by id."""
        return {check_id: view.spec for check_id, view in self.views.items()}

    async def set_alerts(self, alerts: AlertDispatcher | None) -> None:
        """Deliver alerts through ``alerts`` from now on (None: transitions are only logged).

        The old dispatcher stops (what it had not delivered stays in the outboxes); the
        new one sends what the outboxes hold and re-sends open alerts, as on start.
        """
        if self._outbox is not None:  # runs meanwhile still record into the check states
            await self._outbox.stop()
        self.alerts = alerts
        self._outbox = None
        if alerts is not None:
            self._outbox = AlertOutbox(alerts, state_of=self._state_of, save=self._save_state)
            if self._task is not None:
                await self._outbox.start((v.spec, v.state) for v in self.views.values())

    def _state_of(self, check_id: str) -> CheckState | None:
        view = self.views.get(check_id)
        return None if view is None else view.state

    async def _save_state(self, check_id: str) -> None:
        view = self.views.get(check_id)
        if view is None or self.store is None or self.store_error:
            return
        try:
            await self.store.save_state(check_id, view.state.to_dict())
        except Exception as error:  # history is lost, the checks go on
            self.store_error = str(error)
            _log.error("check history write failed: %s", error)

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
        self._figures.observe(spec, result)
        window = spec.maintenance.active(result.started_at)
        view.maintenance = None if window is None else window.describe()
        was_ok = view.state.last_ok
        transition = view.state.observe(
            result,
            failure_threshold=spec.failure_threshold,
            success_threshold=spec.success_threshold,
            hold=window is not None,
        )
        notification = None
        if transition is not None and self._outbox is not None:
            notification = self._outbox.record(
                spec, view.state, transition, result, base_url=self.reporting_url
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
            except Exception as error:  # history is lost, the checks go on
                self.store_error = str(error)
                _log.error("check history write failed: %s", error)
        # Saved while a streak or an alert is on, so a restart resumes it; quiet otherwise.
        if transition is not None or not result.ok or was_ok is not True or view.state.alerting:
            await self._save_state(spec.id)
        if notification is not None and self._outbox is not None:
            self._outbox.send(spec, notification)

    # ------------------------------------------------------------ health and metrics
    def health(self) -> tuple[HealthStatus, str]:
        """Degraded when runs are late (p99 over 1 s), the history store failed or an alert
        route keeps failing (named, with its latest error)."""
        stats = self.scheduler.stats()
        summary = (
            f"{len(self.views)} checks, {stats.started} runs, "
            f"{sum(1 for v in self.views.values() if v.latest and not v.latest.ok)} failing"
        )
        if self.store_error:
            return HealthStatus.DEGRADED, f"history store: {self.store_error}; {summary}"
        if stats.lateness_p99 is not None and stats.lateness_p99 > 1.0:
            return HealthStatus.DEGRADED, f"runs late (p99 {stats.lateness_p99:.2f}s); {summary}"
        problems: list[str] = []
        if self.alerts is not None:
            failing = sorted(self.alerts.failing().items())
            problems += [f"alert route {n} failing: {e}" for n, e in failing]
            problems += [self.alerts.error] if self.alerts.error else []
        if problems:
            return HealthStatus.DEGRADED, f"{'; '.join(problems)}; {summary}"
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
        all_ok = True
        if self._samples_node != node:
            self._samples, self._samples_node = {}, node
        cache = self._samples  # several samples per check and scrape: reuse what holds
        for check_id, view in self.views.items():
            own = cache.get(check_id)
            if own is None:
                own = cache[check_id] = _CheckSamples.of(view.spec, base)
            latest, state, labels = view.latest, view.state, own.labels
            runs.append(own.sample("ok", own.ok, view.runs - view.failures))
            runs.append(own.sample("failed", own.failed, view.failures))
            failures.append(own.sample("streak", labels, state.consecutive_failures))
            last_ok = state.last_success
            since.append(Sample(labels=labels, value=-1.0 if last_ok is None else now - last_ok))
            if latest is None:
                continue  # never run: hidden, as Kuberhealthy hides it
            all_ok = all_ok and latest.ok
            status.append(own.passing if latest.ok else own.failing)
            duration.append(Sample(labels=labels, value=latest.duration))
        stats = self.scheduler.stats()
        events = (
            ("started", stats.started),
            ("completed", stats.completed),
            ("failed", stats.failed),
            ("cancelled", stats.cancelled),
            ("skipped_overlap", stats.skipped_overlap),
            ("skipped_behind", stats.skipped_behind),
        )
        scheduler_runs = [Sample(labels={**base, "event": e}, value=n) for e, n in events]
        alert_counts = self.alerts.counts() if self.alerts is not None else {}
        notifications = [
            Sample(labels={**base, "route": route, "outcome": outcome}, value=count)
            for (route, outcome), count in sorted(alert_counts.items())
        ]
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
                MetricKind.HISTOGRAM,
                "How long after its planned slot each run started (waiting for a permit "
                "included), since the agent started.",
                (self.scheduler.lateness(base),),
            ),
            (
                "healthwatch_check_scheduler_runs",
                counter,
                "Runs of all checks by what the scheduler did: started, completed, failed "
                "(the runner raised), cancelled, skipped_overlap, skipped_behind.",
                scheduler_runs,
            ),
            (
                "healthwatch_alert_notifications",
                counter,
                "Alert notifications and attempts by route and outcome: delivered, refreshed "
                "(an Alertmanager re-send), failed (an attempt, retried), rejected, dropped.",
                notifications,
            ),
        ]
        return [
            MetricFamily(name=name, kind=kind, help=help_, samples=tuple(samples))
            for name, kind, help_, samples in table
        ] + self._figures.families(base)
