"""What a plugin monitor counts, and the health verdict drawn from it.

Per rule: invocations by how they ended, run times, output cut at the read cap,
the latest result and the run of timeouts. Per monitor: lateness against the
schedule. The monitor is degraded, never stopped, while any plugin is missing on
disk or cannot be started, has timed out :data:`TIMEOUTS_DEGRADE` times in a row,
or last gave an Unknown result; the message names them. All of it is exported as
``healthwatch_pluginmonitor_*`` metric families (histograms for times).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field

from healthwatch.model.health import HealthStatus
from healthwatch.model.metrics import Histogram, MetricFamily, MetricKind, Sample
from healthwatch.problems.pluginmonitor.outcome import Outcome, ResultKind
from healthwatch.problems.pluginmonitor.specs import PluginRule

__all__ = ["LATENESS_BUCKETS", "TIMEOUTS_DEGRADE", "MonitorStats", "RuleStats"]

LATENESS_BUCKETS: tuple[float, ...] = (0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
"""Upper bounds (seconds) of the lateness histogram."""
TIMEOUTS_DEGRADE = 2
"""Timeouts in a row after which a plugin makes the monitor degraded."""
_NAMED = 5
"""Plugins named per problem in the health message; the rest are counted."""


@dataclass(slots=True)
class RuleStats:
    """The counters of one rule."""

    rule: PluginRule
    results: dict[ResultKind, int] = field(default_factory=lambda: dict.fromkeys(ResultKind, 0))
    """Invocations by how they ended."""
    durations: Histogram = field(default_factory=Histogram)
    """Run time of each invocation."""
    stdout_cut: int = 0
    """Invocations whose stdout exceeded the read cap."""
    stderr_cut: int = 0
    """Invocations whose stderr exceeded the read cap."""
    last: Outcome | None = None
    """The latest outcome."""
    timeouts_in_a_row: int = 0
    """Consecutive timeouts, up to the latest invocation."""


class MonitorStats:
    """Counters of one monitor's rules and schedule."""

    def __init__(self, rules: Sequence[PluginRule]) -> None:
        self.rules = {rule.name: RuleStats(rule) for rule in rules}
        self.invocations = 0
        self.lateness = Histogram(LATENESS_BUCKETS)
        self.lateness_max = 0.0

    def record(
        self,
        rule: PluginRule,
        outcome: Outcome,
        *,
        seconds: float,
        lateness: float,
        stdout_cut: bool,
        stderr_cut: bool,
    ) -> None:
        """Count one finished invocation."""
        stats = self.rules[rule.name]
        stats.results[outcome.kind] += 1
        stats.durations.observe(seconds)
        stats.stdout_cut += stdout_cut
        stats.stderr_cut += stderr_cut
        stats.last = outcome
        stats.timeouts_in_a_row = (
            stats.timeouts_in_a_row + 1 if outcome.kind is ResultKind.TIMEOUT else 0
        )
        self.invocations += 1
        self.lateness.observe(lateness)
        self.lateness_max = max(self.lateness_max, lateness)

    # ------------------------------------------------------------ health
    def health(self) -> tuple[HealthStatus, str]:
        """Degraded while any plugin is missing, unstartable, timing out or unknown."""
        missing: list[str] = []
        unstartable: list[str] = []
        timing_out: list[str] = []
        unknown: list[str] = []
        problems = 0
        for stats in self.rules.values():
            rule, last = stats.rule, stats.last
            problems += stats.results[ResultKind.PROBLEM]
            if last is None:
                continue
            if last.kind is ResultKind.ERROR:
                if os.path.lexists(rule.program):
                    unstartable.append(f"{rule.path} ({last.error})")
                else:
                    missing.append(rule.path)
            elif stats.timeouts_in_a_row >= TIMEOUTS_DEGRADE:
                timing_out.append(f"{rule.path} ({stats.timeouts_in_a_row} in a row)")
            elif last.kind is ResultKind.UNKNOWN:
                unknown.append(f"{rule.path} (exit {last.exit_code})")
        summary = f"{len(self.rules)} plugins, {self.invocations} invocations, {problems} problems"
        parts = [
            f"{label}: {_listing(names)}"
            for label, names in (
                ("missing on disk", missing),
                ("cannot start", unstartable),
                ("timing out", timing_out),
                ("unknown result", unknown),
            )
            if names
        ]
        if parts:
            return HealthStatus.DEGRADED, f"{'; '.join(parts)}; {summary}"
        return HealthStatus.HEALTHY, summary

    # ------------------------------------------------------------ metrics
    def families(
        self, monitor: str, node: str | None, *, running: int, skipped: int
    ) -> list[MetricFamily]:
        """``healthwatch_pluginmonitor_*`` for this monitor."""
        base = {"monitor": monitor, **({"node": node} if node else {})}

        def family(name: str, kind: MetricKind, help_: str, samples: list[Sample]) -> MetricFamily:
            return MetricFamily(
                name=f"healthwatch_pluginmonitor_{name}",
                kind=kind,
                help=help_,
                samples=tuple(samples),
            )

        per_rule = list(self.rules.values())
        return [
            family(
                "invocations",
                MetricKind.COUNTER,
                "Plugin invocations by rule and result (ok, problem, unknown, timeout, error).",
                [
                    Sample(labels={**base, "rule": s.rule.name, "result": str(k)}, value=float(n))
                    for s in per_rule
                    for k, n in s.results.items()
                ],
            ),
            family(
                "duration_seconds",
                MetricKind.HISTOGRAM,
                "How long plugins ran, by rule.",
                [s.durations.sample({**base, "rule": s.rule.name}) for s in per_rule],
            ),
            family(
                "output_truncated",
                MetricKind.COUNTER,
                "Invocations whose output exceeded the 4096-byte read cap, by rule and stream.",
                [
                    Sample(labels={**base, "rule": s.rule.name, "stream": stream}, value=float(n))
                    for s in per_rule
                    for stream, n in (("stdout", s.stdout_cut), ("stderr", s.stderr_cut))
                ],
            ),
            family(
                "lateness_seconds",
                MetricKind.HISTOGRAM,
                "How long after their scheduled time invocations started.",
                [self.lateness.sample(base)],
            ),
            family(
                "lateness_max_seconds",
                MetricKind.GAUGE,
                "The most any invocation has started after its scheduled time.",
                [Sample(labels=base, value=self.lateness_max)],
            ),
            family(
                "skipped_runs",
                MetricKind.COUNTER,
                "Scheduled runs dropped because the previous run of their group overran them.",
                [Sample(labels=base, value=float(skipped))],
            ),
            family(
                "running",
                MetricKind.GAUGE,
                "Plugins running now.",
                [Sample(labels=base, value=float(running))],
            ),
        ]


def _listing(names: list[str]) -> str:
    shown = ", ".join(names[:_NAMED])
    return f"{shown} and {len(names) - _NAMED} more" if len(names) > _NAMED else shown
