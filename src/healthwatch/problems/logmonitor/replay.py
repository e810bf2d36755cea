"""Replaying a log through log monitors: what would these rules have raised?

The same monitor code the agent runs, over a finite input (a file or stdin),
with the time window opened to the whole history. Counts follow
``problem_counter``: every temporary match, and every condition change of a
permanent rule. This is how rules are tested before they are deployed.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from healthwatch.aio.clock import Clock, SystemClock
from healthwatch.model.problems import ConditionStatus, Status
from healthwatch.problems.logmonitor.filefollow import ByteStream, read_batches
from healthwatch.problems.logmonitor.monitor import LogMonitor
from healthwatch.problems.logmonitor.rules import Match
from healthwatch.problems.logmonitor.specs import LogMonitorConfig

__all__ = ["ReplayHit", "ReplayResult", "replay"]


@dataclass(frozen=True, slots=True, kw_only=True)
class ReplayHit:
    """One rule match, where it happened."""

    lineno: int | None
    monitor: str
    kind: str
    reason: str
    condition: str | None
    message: str
    labels: dict[str, str]


@dataclass(slots=True)
class ReplayResult:
    """What a replay found."""

    lines: int = 0
    problems: Counter[str] = field(default_factory=Counter)
    """Reason → count, as ``problem_counter`` would count them."""
    conditions: dict[str, dict[str, str]] = field(default_factory=dict)
    """Condition type → its final ``status`` and ``reason``."""
    hits: list[ReplayHit] = field(default_factory=list)


class _Counting:
    """A sink counting events of declared reasons, as the Prometheus exporter does."""

    def __init__(self, result: ReplayResult, declared: set[str]) -> None:
        self.result = result
        self.declared = declared

    def report(self, status: Status) -> None:
        for event in status.events:
            if event.reason in self.declared:
                self.result.problems[event.reason] += 1
        for condition in status.conditions:
            self.result.conditions[condition.type] = {
                "status": str(condition.status),
                "reason": condition.reason,
            }


async def replay(
    configs: Sequence[LogMonitorConfig],
    stream: ByteStream,
    *,
    on_progress: Callable[[int], None] | None = None,
    on_hit: Callable[[ReplayHit], None] | None = None,
    clock: Clock | None = None,
) -> ReplayResult:
    """Run every monitor over every line of ``stream``; ``on_progress`` gets bytes read."""
    result = ReplayResult()
    monitors = [LogMonitor(c, clock=clock or SystemClock(), whole_history=True) for c in configs]
    sinks = []
    for monitor in monitors:
        sink = _Counting(result, {d.reason for d in monitor.declarations()})
        sinks.append(sink)

        def record(lineno: int | None, match: Match, name: str = monitor.name) -> None:
            hit = ReplayHit(
                lineno=lineno,
                monitor=name,
                kind=match.rule.kind,
                reason=match.rule.reason,
                condition=match.rule.condition,
                message=match.message,
                labels=dict(match.labels),
            )
            result.hits.append(hit)
            if on_hit is not None:
                on_hit(hit)

        monitor.on_match = record
        sink.report(Status(source=monitor.name, conditions=monitor.initial_conditions()))
    async for batch in read_batches(stream):
        result.lines += len(batch.lines)
        for monitor, sink in zip(monitors, sinks, strict=True):
            monitor.process(batch, sink)
        if on_progress is not None:
            on_progress(sum(len(line) + 1 for line in batch.lines))
    for condition in result.conditions.values():
        condition.setdefault("status", str(ConditionStatus.FALSE))
    return result
