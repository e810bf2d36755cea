"""The log monitor daemon: a source, a rule engine and a condition book, reporting statuses.

Lines come from the source in batches; each line is matched by the rule engine
(which prefilters, so most lines cost one cheap check); a match becomes an
event, a condition change, or a recovery. One status per batch that matched
anything carries the events and the full set of conditions, as
node-problem-detector's do. Conditions are saved to the state directory
whenever they change and restored on start.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from healthwatch.aio.clock import Clock, SystemClock
from healthwatch.model.errors import HealthwatchError
from healthwatch.model.health import HealthStatus
from healthwatch.model.metrics import MetricFamily, MetricKind, Sample
from healthwatch.model.problems import Condition, Event, ProblemDeclaration, Severity, Status
from healthwatch.problems.base import StatusSink
from healthwatch.problems.logmonitor.conditions import ConditionBook, Transition
from healthwatch.problems.logmonitor.rules import Match, RuleEngine
from healthwatch.problems.logmonitor.source import Batch, LogSource
from healthwatch.problems.logmonitor.specs import LogMonitorConfig
from healthwatch.problems.statefile import load_state, save_state

__all__ = ["LogMonitor", "make_source"]

_log = logging.getLogger("healthwatch.problems.logmonitor")
_LOSS_WINDOW = 300.0
"""Seconds during which lost records keep the monitor's component degraded."""


def make_source(
    config: LogMonitorConfig, *, host_root: str, state_dir: Path | None, start: str
) -> LogSource:
    """The source a config asks for."""
    if config.source == "kmsg":
        from healthwatch.problems.logmonitor.kmsg import KmsgSource  # noqa: PLC0415

        return KmsgSource(config.path or "/dev/kmsg", host_root=host_root, start=start)  # type: ignore[arg-type]
    if config.source == "file":
        from healthwatch.problems.logmonitor.filefollow import FileSource  # noqa: PLC0415

        if not config.path:
            raise HealthwatchError(f"log monitor {config.name}: a file source needs a path")
        return FileSource(config.path, host_root=host_root, start=start)  # type: ignore[arg-type]
    from healthwatch.problems.logmonitor.journald import JournaldSource  # noqa: PLC0415

    cursor = state_dir / "journald" / f"{config.name}.cursor" if state_dir else None
    return JournaldSource(
        identifiers=tuple(config.identifiers), cursor_file=cursor, directory=config.path
    )


class LogMonitor:
    """One configured log monitor."""

    def __init__(
        self,
        config: LogMonitorConfig,
        *,
        clock: Clock | None = None,
        host_root: str = "/",
        state_dir: Path | None = None,
        source: LogSource | None = None,
        boot_time: float | None = None,
        whole_history: bool = False,
    ) -> None:
        self.config = config
        self.clock: Clock = clock or SystemClock()
        self.host_root = host_root
        self.state_dir = state_dir
        self._source = source
        self._engine = RuleEngine(config.ruleset)
        self._book = ConditionBook(config.conditions, now=self.clock.time())
        now = self.clock.time()
        floor = now - config.lookback
        if boot_time is not None:
            floor = max(floor, boot_time + config.delay)
        self._not_before = float("-inf") if whole_history else floor
        """Lines timestamped before this are ignored (node-problem-detector's start time);
        a replay looks at the whole history."""
        self.on_match: Callable[[int | None, Match], None] | None = None
        """Called with (line number, match) for every match in the time window (replays)."""
        self.matches = 0
        self.events = 0
        self.skipped_old = 0
        self._lost_seen = 0
        self._lost_at = float("-inf")

    @classmethod
    def from_options(cls, **options: Any) -> LogMonitor:
        """Factory for the daemon-kind registry."""
        return cls(**options)

    @property
    def name(self) -> str:
        """The monitor's name: node-problem-detector's ``source``."""
        return self.config.name

    def declarations(self) -> tuple[ProblemDeclaration, ...]:
        """Every reason this monitor may report, each with its rule's pattern."""
        return tuple(
            ProblemDeclaration(
                reason=rule.reason,
                condition=rule.condition if rule.kind == "permanent" else None,
                source=self.name,
                rule=rule.pattern,
            )
            for rule in self.config.rules
            if rule.kind != "recovery"
        )

    @property
    def source(self) -> LogSource:
        """The source, once started."""
        if self._source is None:
            raise HealthwatchError(f"log monitor {self.name} has not started")
        return self._source

    def _state_file(self) -> Path | None:
        return self.state_dir / "conditions" / f"{self.name}.json" if self.state_dir else None

    async def start(self) -> None:
        """Open the source and restore saved conditions; raises naming what is wrong."""
        if self._source is None:
            start = "start" if self.config.lookback > 0 else "end"
            self._source = make_source(
                self.config, host_root=self.host_root, state_dir=self.state_dir, start=start
            )
        await self._source.open()
        path = self._state_file()
        saved = load_state(path) if path else None
        if saved is not None:
            try:
                self._book.restore(saved, now=self.clock.time())
            except (ValueError, KeyError, TypeError) as error:
                _log.warning("%s: ignoring saved conditions: %s", path, error)

    async def stop(self) -> None:
        """Close the source (conditions were saved as they changed)."""
        if self._source is not None:
            await self._source.close()

    def initial_conditions(self) -> tuple[Condition, ...]:
        """The conditions as they stand before any line is read."""
        return self._book.conditions()

    async def run(self, sink: StatusSink) -> None:
        """Report the current conditions, then follow the source until cancelled (or EOF)."""
        sink.report(Status(source=self.name, conditions=self._book.conditions()))
        expiry = asyncio.create_task(self._expire_loop(sink), name=f"{self.name}-clear-after")
        try:
            async for batch in self.source.batches():
                self.process(batch, sink)
        finally:
            expiry.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await expiry

    async def _expire_loop(self, sink: StatusSink) -> None:
        while True:
            due = self._book.next_expiry()
            wait = 1.0 if due is None else min(max(due - self.clock.time(), 0.05), 60.0)
            await asyncio.sleep(wait)
            changes = self._book.expire(self.clock.time())
            if changes:
                self._emit([c.event for c in changes], sink, changed=True)

    # ------------------------------------------------------------ matching
    def process(self, batch: Batch, sink: StatusSink) -> None:
        """Match every line of a batch; report one status if anything matched."""
        feed = self._engine.feed
        message_of = self._message_extractor()
        skip = self.config.skip_list
        stamps = batch.timestamps
        found: list[tuple[Match, str, float | None, int]] = []
        for index, raw in enumerate(batch.lines):
            if skip and any(s in raw for s in skip):
                continue
            message = message_of(raw) if message_of else raw
            if message is None:
                continue
            stamp = stamps[index] if stamps is not None else None
            matches = feed(message, stamp)
            if matches:
                found += [(m, raw, stamp, index) for m in matches]
        if found:
            self._handle(found, sink, first_lineno=batch.first_lineno)

    def _message_extractor(self) -> Callable[[str], str | None] | None:
        """NPD's message regex (its last group), or None when the whole line is the message."""
        return self.config.extract_message if self.config.message_regex is not None else None

    def _timestamp(self, raw: str, stamp: float | None) -> float:
        """The line's time: from the source, else parsed from the text, else now."""
        if stamp is not None:
            return stamp
        parsed = self.config.parse_timestamp(raw)
        return parsed if parsed is not None else self.clock.time()

    def _handle(
        self,
        found: list[tuple[Match, str, float | None, int]],
        sink: StatusSink,
        *,
        first_lineno: int | None,
    ) -> None:
        events: list[Event] = []
        changed = False
        for match, raw, stamp, index in found:
            at = self._timestamp(raw, match.first_stamp if match.first_stamp is not None else stamp)
            if at < self._not_before:
                self.skipped_old += 1
                continue
            self.matches += 1
            if self.on_match is not None:
                self.on_match(None if first_lineno is None else first_lineno + index, match)
            rule = match.rule
            message = (
                f"{match.message}; suggested action: {rule.action}"
                if rule.action
                else match.message
            )
            change: Transition | None = None
            if rule.kind == "temporary":
                events.append(
                    Event(
                        severity=Severity(rule.severity),
                        timestamp=at,
                        reason=rule.reason,
                        message=message,
                        labels=match.labels,
                    )
                )
            elif rule.kind == "permanent" and rule.condition:
                change = self._book.set_true(
                    rule.condition,
                    reason=rule.reason,
                    message=message,
                    at=at,
                    clear_after=rule.clear_after,
                )
            elif rule.kind == "recovery" and rule.condition:
                change = self._book.set_false(
                    rule.condition, at=at, reason=rule.reason, message=match.message
                )
            if change is not None:
                events.append(change.event)
                changed = True
        if events or changed:
            self._emit(events, sink, changed=changed)

    def _emit(self, events: list[Event], sink: StatusSink, *, changed: bool) -> None:
        self.events += len(events)
        sink.report(
            Status(source=self.name, events=tuple(events), conditions=self._book.conditions())
        )
        if changed:
            self._save()

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
        """Degraded while records were lost recently or the source reports errors."""
        stats = self.source.stats if self._source is not None else None
        if stats is None:
            return HealthStatus.UNKNOWN, "not started"
        now = time.monotonic()
        if stats.lost > self._lost_seen:
            self._lost_seen, self._lost_at = stats.lost, now
        summary = f"{stats.lines} lines read, {self.matches} matches, {stats.lost} lost"
        if now - self._lost_at < _LOSS_WINDOW:
            return HealthStatus.DEGRADED, f"records lost recently (overload?); {summary}"
        if stats.last_error:
            return HealthStatus.DEGRADED, f"{stats.last_error}; {summary}"
        return HealthStatus.HEALTHY, summary

    def metric_families(self, node: str | None) -> list[MetricFamily]:
        """``healthwatch_logmonitor_*``: lines, bytes, lost records, matches, source errors."""
        labels = {"monitor": self.name, **({"node": node} if node else {})}
        stats = self._source.stats if self._source is not None else None
        figures = {
            "lines": ("Lines (records) read by the log monitor.", stats.lines if stats else 0),
            "bytes": ("Bytes read by the log monitor.", stats.bytes if stats else 0),
            "records_lost": (
                "Records lost (kmsg overrun, shed under overload).",
                stats.lost if stats else 0,
            ),
            "rule_matches": ("Rule matches within the look-back window.", self.matches),
            "source_errors": ("Read errors the source survived.", stats.errors if stats else 0),
            "reopens": ("Times the source reopened its input.", stats.reopens if stats else 0),
        }
        return [
            MetricFamily(
                name=f"healthwatch_logmonitor_{key}",
                kind=MetricKind.COUNTER,
                help=help_,
                samples=(Sample(labels=labels, value=float(value)),),
            )
            for key, (help_, value) in figures.items()
        ]
