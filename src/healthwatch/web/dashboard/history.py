"""The overview's history cache: each check's 90-day uptime bar and 24-hour sparkline, drawn once.

The overview shows every check with its uptime bar and latency sparkline. Asking
the store for both costs about half a millisecond per check, which is a second
for a few thousand checks on every page view; and their SVG would be drawn again
each time though it changes at most once per run. So the drawn fragments are
kept here and refreshed when stale: a check that ran since its entry was made and
whose entry is older than ``min_age``, or any entry older than ``max_age`` (so
the day rolls over). A page view refreshes up to ``inline`` stale entries itself
(a small agent's page is always current) and leaves the rest to a background
task, which runs only while someone has looked at the overview recently: an
agent nobody watches does no work for its dashboard.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable, Iterable
from dataclasses import dataclass
from typing import Final

from markupsafe import Markup

from healthwatch.aio.clock import Clock
from healthwatch.checks.service import CheckService, CheckView
from healthwatch.model.errors import HealthwatchError
from healthwatch.store.history import HistoryStore
from healthwatch.web.dashboard.charts import sparkline, uptime_bar, uptime_ratio

__all__ = ["HistoryCache", "HistoryEntry"]

_log = logging.getLogger("healthwatch.web")
UPTIME_DAYS: Final = 90
SPARK_HOURS: Final = 24
_HOUR: Final = 3600
_WATCHED_FOR: Final = 300.0
"""Seconds after the latest overview request during which the background task works."""


@dataclass(frozen=True, slots=True, kw_only=True)
class HistoryEntry:
    """One check's drawn history."""

    uptime_bar: Markup
    sparkline: Markup
    uptime: float | None
    """Share of passed runs over the bar's days; None without runs."""
    runs_seen: int
    """The check's run count when this entry was read."""
    read_at: float
    """Monotonic time of the read."""


class HistoryCache:
    """Drawn uptime bars and sparklines per check id, refreshed when stale."""

    def __init__(
        self,
        *,
        clock: Clock,
        min_age: float = 5.0,
        max_age: float = 600.0,
        inline: int = 50,
        per_tick: int = 100,
        tick: float = 1.0,
    ) -> None:
        self.clock = clock
        self.min_age = min_age
        self.max_age = max_age
        self.inline = inline
        self.per_tick = per_tick
        self.tick = tick
        self._entries: dict[str, HistoryEntry] = {}
        self._watched_until = float("-inf")
        self.reads = 0
        """Entries read from the store so far."""
        self.errors = 0
        """Reads that failed (the entry keeps its previous drawing)."""

    def get(self, check_id: str) -> HistoryEntry | None:
        """The entry of one check, however old; None before the first read."""
        return self._entries.get(check_id)

    def _stale(self, views: Iterable[CheckView]) -> list[CheckView]:
        now = self.clock.monotonic()
        missing: list[CheckView] = []
        old: list[tuple[float, CheckView]] = []
        for view in views:
            entry = self._entries.get(view.spec.id)
            if entry is None:
                missing.append(view)
                continue
            age = now - entry.read_at
            if age >= self.max_age or (view.runs != entry.runs_seen and age >= self.min_age):
                old.append((entry.read_at, view))
        old.sort(key=lambda item: item[0])
        return missing + [view for _, view in old]

    async def refresh(self, store: HistoryStore, views: Iterable[CheckView], *, limit: int) -> int:
        """Read up to ``limit`` stale entries (missing ones first, then the oldest)."""
        done = 0
        for view in self._stale(views)[:limit]:
            try:
                self._entries[view.spec.id] = await self._read(store, view)
            except HealthwatchError as error:  # a closed or broken store: keep what we have
                self.errors += 1
                _log.debug("dashboard history of %s not read: %s", view.spec.id, error)
                break
            done += 1
        return done

    async def _read(self, store: HistoryStore, view: CheckView) -> HistoryEntry:
        runs = view.runs
        now = self.clock.time()
        days = await store.uptime(view.spec.id, days=UPTIME_DAYS)
        first_hour = (int(now) // _HOUR - SPARK_HOURS + 1) * _HOUR
        hours = await store.rollups(view.spec.id, "hour", since=first_hour, until=now + 1)
        by_start = {int(r.start): r.latency_p50 for r in hours}
        points = [by_start.get(first_hour + i * _HOUR) for i in range(SPARK_HOURS)]
        self.reads += 1
        return HistoryEntry(
            uptime_bar=uptime_bar(days),
            sparkline=sparkline(points),
            uptime=uptime_ratio(days),
            runs_seen=runs,
            read_at=self.clock.monotonic(),
        )

    async def for_page(self, store: HistoryStore | None, checks: CheckService | None) -> None:
        """Called by the overview: note the viewer, then refresh what a page view may."""
        self._watched_until = self.clock.monotonic() + _WATCHED_FOR
        if store is None or checks is None:
            return
        self._forget(checks)
        await self.refresh(store, checks.views.values(), limit=self.inline)

    def _forget(self, checks: CheckService) -> None:
        """Drop entries of checks that no longer exist (after a reload)."""
        for key in [k for k in self._entries if k not in checks.views]:
            del self._entries[key]

    async def run(
        self,
        stores: Callable[[], HistoryStore | None],
        checks: Callable[[], CheckService | None],
    ) -> None:
        """Refresh stale entries while the overview is being watched; until cancelled."""
        while True:
            await asyncio.sleep(self.tick)
            if self.clock.monotonic() > self._watched_until:
                continue
            store, service = stores(), checks()
            if store is None or service is None:
                continue
            try:
                await self.refresh(store, list(service.views.values()), limit=self.per_tick)
            except Exception:  # never a dead task: log and try again next tick
                _log.exception("dashboard history refresh failed")

    @contextlib.asynccontextmanager
    async def running(
        self,
        stores: Callable[[], HistoryStore | None],
        checks: Callable[[], CheckService | None],
    ) -> AsyncIterator[None]:
        """The background task for the lifetime of the web application."""
        task = asyncio.create_task(self.run(stores, checks), name="healthwatch-dashboard-history")
        try:
            yield
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
