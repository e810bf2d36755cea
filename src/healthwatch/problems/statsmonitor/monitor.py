"""The stats monitor daemon: collect at start and every interval, judge thresholds, report.

Each round runs in a short-lived daemon thread, so a read that hangs (a stuck
filesystem behind ``statvfs``) stalls neither the event loop nor shutdown:
after ``timeout`` the round is abandoned, the monitor reports itself degraded,
and no new round starts until the stuck one returns. Rounds are spaced on the
monotonic clock without drift. A status carrying the full condition set goes
to the sink at start and whenever a condition changes.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import threading
from collections.abc import Awaitable, Callable
from pathlib import Path

from healthwatch.aio.clock import Clock, SystemClock
from healthwatch.model.errors import HealthwatchError
from healthwatch.model.health import HealthStatus
from healthwatch.model.metrics import MetricFamily, MetricKind, Sample
from healthwatch.model.problems import Event, ProblemDeclaration, Status
from healthwatch.problems.base import StatusSink
from healthwatch.problems.statsmonitor.collectors import COLLECTORS, collect
from healthwatch.problems.statsmonitor.files import HostFiles, ReadError
from healthwatch.problems.statsmonitor.npdmetrics import npd_families
from healthwatch.problems.statsmonitor.ownmetrics import PREFIX, own_families
from healthwatch.problems.statsmonitor.samples import Snapshot
from healthwatch.problems.statsmonitor.settings import StatsMonitorConfig
from healthwatch.problems.statsmonitor.thresholds import ThresholdBook

__all__ = ["StatsMonitor"]

_log = logging.getLogger("healthwatch.problems.statsmonitor")


class StatsMonitor:
    """One configured stats monitor."""

    def __init__(
        self,
        config: StatsMonitorConfig,
        *,
        clock: Clock | None = None,
        host_root: str = "/",
        sleep: Callable[[float], Awaitable[None]] | None = None,
        files: HostFiles | None = None,
    ) -> None:
        self.config = config
        self.clock: Clock = clock or SystemClock()
        self.files = files or HostFiles(host_root=host_root, proc_root=config.proc_path)
        self._sleep = sleep or asyncio.sleep
        self._book = ThresholdBook(config.thresholds, config.conditions, now=self.clock.time())
        self._user_hz = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
        self._previous: Snapshot | None = None
        self._current: Snapshot | None = None
        self._pending: list[Event] = []
        self._changed = False
        """A condition changed since the last status."""
        self._running: asyncio.Future[Snapshot] | None = None
        self._started_at = 0.0
        self._reported_errors: dict[str, str] = {}
        self.collections = 0
        self.abandoned = 0
        self.last_duration = 0.0

    @classmethod
    def from_options(
        cls,
        *,
        config: StatsMonitorConfig,
        clock: Clock,
        host_root: str,
        state_dir: Path | None = None,
        **_: object,
    ) -> StatsMonitor:
        """Factory for the daemon-kind registry (conditions are re-judged live: no state kept)."""
        del state_dir
        return cls(config, clock=clock, host_root=host_root)

    @property
    def name(self) -> str:
        """The monitor's name: its component and its statuses' ``source``."""
        return self.config.name

    def declarations(self) -> tuple[ProblemDeclaration, ...]:
        """One permanent problem per threshold reason."""
        seen = dict.fromkeys((t.reason, t.condition) for t in self.config.thresholds)
        return tuple(
            ProblemDeclaration(reason=reason, condition=condition, source=self.name)
            for reason, condition in seen
        )

    @property
    def busy(self) -> bool:
        """A round is running in its thread (past its timeout, when no one awaits it)."""
        return self._running is not None and not self._running.done()

    @property
    def snapshot(self) -> Snapshot | None:
        """The latest snapshot."""
        return self._current

    # ------------------------------------------------------------ collecting
    def collect_once(self) -> Snapshot:
        """Collect and judge one round in this thread (what each scheduled round does)."""
        return self._accept(self._read())

    def _read(self) -> Snapshot:
        return collect(
            self.files,
            self.config.options,
            monotonic=self.clock.monotonic(),
            wall=self.clock.time(),
        )

    def _accept(self, snapshot: Snapshot) -> Snapshot:
        self._previous, self._current = self._current, snapshot
        self.collections += 1
        changed, events = self._book.update(snapshot, now=snapshot.wall)
        self._pending += events
        self._changed = self._changed or changed
        errors = dict(snapshot.errors)
        if errors != self._reported_errors:
            for name, why in errors.items():
                if self._reported_errors.get(name) != why:
                    _log.warning("%s: collector %s off: %s", self.name, name, why)
            for name in set(self._reported_errors) - set(errors):
                _log.info("%s: collector %s back", self.name, name)
            self._reported_errors = errors
        return snapshot

    async def collect_round(self) -> Snapshot | None:
        """One round in a daemon thread; None when it is abandoned or one is still stuck."""
        if self.busy:
            return None
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Snapshot] = loop.create_future()
        self._running = future

        def deliver(result: Snapshot | BaseException) -> None:
            if future.done():
                return
            if isinstance(result, BaseException):
                future.set_exception(result)
            else:
                future.set_result(result)

        def work() -> None:
            outcome: Snapshot | BaseException
            try:
                outcome = self._read()
            except Exception as error:  # handed to the loop, which raises it
                outcome = error
            with contextlib.suppress(RuntimeError):  # the loop closed meanwhile
                loop.call_soon_threadsafe(deliver, outcome)

        started = self.clock.monotonic()
        threading.Thread(target=work, name=f"{self.name}-collect", daemon=True).start()
        try:
            snapshot = await asyncio.wait_for(asyncio.shield(future), self.config.timeout)
        except TimeoutError:
            self.abandoned += 1
            _log.warning(
                "%s: collection still running after %gs; abandoned", self.name, self.config.timeout
            )
            return None
        self.last_duration = self.clock.monotonic() - started
        return self._accept(snapshot)

    # ------------------------------------------------------------ lifecycle
    async def start(self) -> None:
        """Check the proc root, collect once; raise when no enabled collector can read."""
        try:
            self.files.check_proc_root()
        except ReadError as error:
            raise HealthwatchError(f"stats monitor {self.name}: {error}") from None
        self._started_at = self.clock.monotonic()
        snapshot = await self.collect_round()
        if snapshot is None:
            raise HealthwatchError(
                f"stats monitor {self.name}: the first collection took over "
                f"{self.config.timeout:g}s"
            )
        wanted = set(self.config.options.collectors) - set(snapshot.absent)
        if wanted and wanted <= set(snapshot.errors):
            why = "; ".join(snapshot.errors.values())
            raise HealthwatchError(f"stats monitor {self.name}: no collector can read: {why}")

    async def stop(self) -> None:
        """Nothing to release: a round still running ends on its own (daemon thread)."""

    async def run(self, sink: StatusSink) -> None:
        """Report the conditions, then collect every interval until cancelled."""
        self._report(sink, force=True)
        interval = self.config.interval
        due = self._started_at + interval
        while True:
            now = self.clock.monotonic()
            if due <= now:  # fell behind (a stuck round): skip to the next slot
                due += interval * ((now - due) // interval + 1)
            await self._sleep(due - now)
            due += interval
            if await self.collect_round() is not None:
                self._report(sink)

    def _report(self, sink: StatusSink, *, force: bool = False) -> None:
        if not (force or self._pending or self._changed):
            return
        events, self._pending, self._changed = tuple(self._pending), [], False
        sink.report(Status(source=self.name, events=events, conditions=self._book.conditions()))

    # ------------------------------------------------------------ own health and metrics
    def health(self) -> tuple[HealthStatus, str]:
        """Degraded while a round is stuck, a collector fails or mounts cannot be measured."""
        current = self._current
        if current is None:
            return HealthStatus.UNKNOWN, "no collection yet"
        on = [c for c in COLLECTORS if c in self.config.options.collectors]
        summary = (
            f"{self.collections} collections every {self.config.interval:g}s, "
            f"last {self.last_duration * 1000:.1f} ms; collectors: {', '.join(on)}"
        )
        for name, why in current.absent.items():
            summary += f"; {name} n/a ({why})"
        problems: list[str] = []
        if self.busy:
            problems.append(f"a collection has run over {self.config.timeout:g}s (hung mount?)")
        problems += [f"collector off: {why}" for why in current.errors.values()]
        if current.disk is not None and current.disk.skipped:
            problems.append(f"mounts not measured: {'; '.join(current.disk.skipped[:3])}")
        if problems:
            return HealthStatus.DEGRADED, f"{'; '.join(problems)}; {summary}"
        return HealthStatus.HEALTHY, summary

    def metric_families(self, node: str | None) -> list[MetricFamily]:
        """NPD-named stats, ``healthwatch_stats_*`` stats and the monitor's own figures."""
        labels = {"node": node} if node else {}
        current = self._current
        families: list[MetricFamily] = []
        if current is not None:
            families += npd_families(
                self._previous,
                current,
                names=self.config.metrics,
                labels=labels,
                user_hz=self._user_hz,
            )
            families += own_families(self._previous, current, labels=labels)
        own = {**labels, "monitor": self.name}
        up = [
            Sample(
                labels={**own, "collector": name},
                value=1.0 if current is not None and name not in current.errors else 0.0,
            )
            for name in COLLECTORS
            if name in self.config.options.collectors
            and not (current is not None and name in current.absent)
        ]
        families += [
            MetricFamily(
                name=f"{PREFIX}collections",
                kind=MetricKind.COUNTER,
                help="Collection rounds completed by the stats monitor.",
                samples=(Sample(labels=own, value=float(self.collections)),),
            ),
            MetricFamily(
                name=f"{PREFIX}collections_abandoned",
                kind=MetricKind.COUNTER,
                help="Collection rounds abandoned after the timeout (hung reads).",
                samples=(Sample(labels=own, value=float(self.abandoned)),),
            ),
            MetricFamily(
                name=f"{PREFIX}collection_seconds",
                kind=MetricKind.GAUGE,
                help="Wall time the latest collection round took.",
                samples=(Sample(labels=own, value=self.last_duration),),
            ),
            MetricFamily(
                name=f"{PREFIX}collector_up",
                kind=MetricKind.GAUGE,
                help="1 when the collector read its files in the latest round.",
                samples=tuple(up),
            ),
        ]
        return families
