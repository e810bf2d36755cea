"""Delivering notifications: one worker, a bounded lane per route, retries with backoff.

Each route has its own FIFO lane, so a route that is down or hanging delays only
its own notifications; within a lane, order is kept (a resolve never overtakes
its firing). One named worker task owns the lanes: it starts at most one attempt
per lane at a time (each a named task it supervises), and after a failed attempt
waits the route's exponential backoff (:class:`healthwatch.aio.backoff.Backoff`)
before trying again. Lanes are bounded; a notification that finds its lane full
is counted as ``dropped`` and stays in the check's outbox for the next start.

When a route has had a notification (or given up on it with a permanent
rejection), the service is told through ``on_settled`` and settles its outbox.
For Alertmanager routes the worker also re-sends each open alert every
``repeat`` (see :mod:`healthwatch.checks.alerts.alertmanager`).
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import logging
import random
from collections import deque
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field

import aiohttp

from healthwatch.aio.backoff import Backoff
from healthwatch.aio.clock import Clock
from healthwatch.checks.alerts.delivery import Attempt, Outcome, deliver
from healthwatch.checks.alerts.notification import AlertState, Notification
from healthwatch.checks.alertspec import Alerting, AlertRoute

__all__ = ["AlertDispatcher", "Settled"]

_log = logging.getLogger("healthwatch.checks.alerts")

Settled = Callable[[Notification, str, Outcome], Awaitable[None]]
"""Told that a route has had a notification (delivered) or given up on it (rejected)."""


@dataclass(slots=True, kw_only=True)
class _Job:
    notification: Notification
    refresh: bool = False
    """A re-send of an open alert to Alertmanager, not a notification of its own."""


@dataclass(slots=True, kw_only=True)
class _Lane:
    route: AlertRoute
    backoff: Backoff
    jobs: deque[_Job] = field(default_factory=deque)
    due: float = 0.0
    """Monotonic time the next attempt may start (after a failure's backoff)."""
    task: asyncio.Task[Attempt] | None = None
    failures: int = 0
    """Attempts in a row that did not deliver."""
    last_error: str = ""


class AlertDispatcher:
    """Sends notifications to routes; start with :meth:`start`, end with :meth:`stop`."""

    def __init__(
        self,
        alerting: Alerting,
        *,
        clock: Clock,
        max_queue: int = 1000,
        backoff_initial: float = 1.0,
        backoff_maximum: float = 300.0,
        failing_after: int = 3,
        rng: random.Random | None = None,
    ) -> None:
        if max_queue < 1 or failing_after < 1:
            raise ValueError("max_queue and failing_after must be at least 1")
        self.alerting = alerting
        self._clock = clock
        self._max_queue = max_queue
        self._failing_after = failing_after
        rng = rng or random.Random()  # noqa: S311 - jitter, not secrecy
        self._lanes = {
            name: _Lane(
                route=route,
                backoff=Backoff(initial=backoff_initial, maximum=backoff_maximum, rng=rng),
            )
            for name, route in alerting.routes.items()
        }
        self._open: dict[tuple[str, str], tuple[Notification, float]] = {}
        """Open alerts to re-send, by (check, Alertmanager route): notification, next re-send."""
        self._due: list[tuple[float, tuple[str, str]]] = []
        """Heap of (next re-send, key); entries whose time no longer matches are stale."""
        self._refreshing: set[tuple[str, str]] = set()
        """Keys with a re-send waiting in their lane."""
        self._latest: dict[tuple[str, str], int] = {}
        """Highest sequence submitted per (check, route): a late firing must not reopen."""
        self._counts: dict[tuple[str, str], int] = {}
        self._on_settled: Settled | None = None
        self._session: aiohttp.ClientSession | None = None
        self._worker: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()
        self.error = ""
        """Why the worker stopped, if it died of a bug (empty while it runs)."""

    @property
    def routes(self) -> Mapping[str, AlertRoute]:
        """Every route by name."""
        return self.alerting.routes

    # ------------------------------------------------------------ life cycle
    async def start(self, on_settled: Settled | None = None) -> None:
        """Open the HTTP session and start the worker."""
        self._on_settled = on_settled
        self._session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=32))
        self._worker = asyncio.create_task(self._work(), name="healthwatch-alerts")
        self._worker.add_done_callback(self._worker_done)

    async def stop(self) -> None:
        """Stop the worker and attempts in flight; what is undelivered stays in the outboxes."""
        tasks: list[asyncio.Task[Attempt] | asyncio.Task[None]] = [
            lane.task for lane in self._lanes.values() if lane.task is not None
        ]
        if self._worker is not None:
            tasks.append(self._worker)
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        if self._session is not None:
            await self._session.close()
            self._session = None

    # ------------------------------------------------------------ what the service calls
    def submit(self, notification: Notification, routes: Sequence[str]) -> list[str]:
        """Queue ``notification`` for ``routes``; returns the routes that could not take it."""
        refused: list[str] = []
        for name in routes:
            lane = self._lanes.get(name)
            key = (notification.check_id, name)
            if lane is None or len(lane.jobs) >= self._max_queue:
                refused.append(name)
                self._count(name, "dropped")
                continue
            self._latest[key] = max(self._latest.get(key, 0), notification.sequence)
            if notification.state is AlertState.RESOLVED:
                self._open.pop(key, None)
            lane.jobs.append(_Job(notification=notification))
        self._wake.set()
        return refused

    def track(self, notification: Notification, routes: Sequence[str]) -> None:
        """Re-send the open alert ``notification`` to the Alertmanager routes among ``routes``."""
        now = self._clock.monotonic()
        for name in routes:
            lane = self._lanes.get(name)
            if lane is not None and lane.route.kind == "alertmanager":
                key = (notification.check_id, name)
                self._latest[key] = max(self._latest.get(key, 0), notification.sequence)
                self._plan(key, notification, now)
        self._wake.set()

    def failing(self) -> dict[str, str]:
        """Routes whose recent attempts keep failing, with the latest reason."""
        return {
            name: lane.last_error
            for name, lane in self._lanes.items()
            if lane.failures >= self._failing_after
        }

    def counts(self) -> dict[tuple[str, str], int]:
        """Attempts and notifications by (route, outcome): delivered, refreshed, failed,
        rejected, dropped."""
        return dict(self._counts)

    # ------------------------------------------------------------ the worker
    def _count(self, route: str, outcome: str) -> None:
        self._counts[(route, outcome)] = self._counts.get((route, outcome), 0) + 1

    def _worker_done(self, task: asyncio.Task[None]) -> None:
        if not task.cancelled() and task.exception() is not None:
            self.error = f"alert delivery stopped: {task.exception()!r:.200}"
            _log.error("%s", self.error)

    async def _work(self) -> None:
        while True:
            self._wake.clear()
            now = self._clock.monotonic()
            self._queue_refreshes(now)
            wake_at: float | None = None
            for lane in self._lanes.values():
                if lane.task is not None or not lane.jobs:
                    continue
                if lane.due <= now:
                    self._start(lane)
                else:
                    wake_at = lane.due if wake_at is None else min(wake_at, lane.due)
            if self._due:
                wake_at = self._due[0][0] if wake_at is None else min(wake_at, self._due[0][0])
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(None if wake_at is None else max(0.0, wake_at - now)):
                    await self._wake.wait()
            for lane in self._lanes.values():
                if lane.task is not None and lane.task.done():
                    await self._finish(lane)

    def _plan(self, key: tuple[str, str], notification: Notification, due: float) -> None:
        """Re-send ``notification`` for ``key`` at ``due`` (monotonic)."""
        self._open[key] = (notification, due)
        heapq.heappush(self._due, (due, key))

    def _queue_refreshes(self, now: float) -> None:
        while self._due and self._due[0][0] <= now:
            due, key = heapq.heappop(self._due)
            planned = self._open.get(key)
            if planned is None or planned[1] != due:
                continue  # resolved or re-planned since
            notification = planned[0]
            lane = self._lanes[key[1]]
            self._plan(key, notification, now + lane.route.repeat)
            if key not in self._refreshing and len(lane.jobs) < self._max_queue:
                self._refreshing.add(key)
                lane.jobs.append(_Job(notification=notification, refresh=True))

    def _start(self, lane: _Lane) -> None:
        job = lane.jobs[0]
        key = (job.notification.check_id, lane.route.name)
        if job.refresh and self._open.get(key, (None, 0.0))[0] is not job.notification:
            lane.jobs.popleft()  # the alert resolved since this re-send was queued
            self._refreshing.discard(key)
            self._wake.set()
            return
        session = self._session
        if session is None:
            return
        wall = self._clock.time()
        lane.task = asyncio.create_task(
            deliver(session, lane.route, job.notification, now=wall),
            name=f"healthwatch-alert:{lane.route.name}:{job.notification.check_id}",
        )
        lane.task.add_done_callback(lambda _: self._wake.set())

    async def _finish(self, lane: _Lane) -> None:
        task, lane.task = lane.task, None
        assert task is not None  # noqa: S101 - only called for a lane with a finished task
        route, job = lane.route, lane.jobs[0]
        try:
            attempt = task.result()
        except Exception as error:  # a bug in rendering: count it as a failed attempt
            _log.exception("alert route %s: attempt raised", route.display)
            attempt = Attempt(outcome=Outcome.FAILED, detail=f"internal error: {error!r:.100}")
        now = self._clock.monotonic()
        notification, key = job.notification, (job.notification.check_id, route.name)
        what = f"{notification.check_id} {notification.state.value} ({attempt.detail})"
        if attempt.outcome is Outcome.FAILED:
            lane.failures, lane.last_error = lane.failures + 1, attempt.detail
            lane.due = now + lane.backoff.failure()
            self._count(route.name, "failed")
            _log.warning("alert route %s: %s not delivered; retrying", route.display, what)
            if job.refresh:  # a re-send is not retried: the next one comes anyway
                lane.jobs.popleft()
                self._refreshing.discard(key)
            return
        lane.jobs.popleft()
        if job.refresh:
            self._refreshing.discard(key)
        lane.backoff.success()
        if attempt.outcome is Outcome.REJECTED:
            lane.failures = max(lane.failures + 1, self._failing_after)
            lane.last_error = attempt.detail
            self._count(route.name, "rejected")
            _log.error("alert route %s rejected %s; not retried", route.display, what)
        else:
            lane.failures, lane.last_error = 0, ""
            self._count(route.name, "refreshed" if job.refresh else "delivered")
            self._remember_open(route, notification, now)
        if not job.refresh and self._on_settled is not None:
            try:
                await self._on_settled(notification, route.name, attempt.outcome)
            except Exception:
                _log.exception("alert route %s: settling %s failed", route.display, what)

    def _remember_open(self, route: AlertRoute, notification: Notification, now: float) -> None:
        key = (notification.check_id, route.name)
        if (
            route.kind == "alertmanager"
            and notification.firing
            and self._latest.get(key) == notification.sequence
        ):
            self._plan(key, notification, now + route.repeat)
