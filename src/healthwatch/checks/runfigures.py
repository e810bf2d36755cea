"""Run figures aggregated by kind and namespace: durations as a histogram, saving retries.

Per-check durations are already on ``kuberhealthy_check_duration_seconds`` (the
latest run) and in the history's roll-ups (percentiles over time). A histogram per
check would add fifteen series per check to every scrape — 150,000 at 10,000 checks
— so the distribution is kept per kind and namespace, which is what dashboards and
alerts aggregate over anyway and stays aggregatable across nodes.
"""

from __future__ import annotations

from collections.abc import Mapping

from healthwatch.checks.spec import CheckSpec
from healthwatch.model.checks import CheckResult
from healthwatch.model.metrics import Histogram, MetricFamily, MetricKind, Sample

__all__ = ["RunFigures"]


class RunFigures:
    """Counts every finished run by (kind, namespace)."""

    def __init__(self) -> None:
        self._durations: dict[tuple[str, str], Histogram] = {}
        self._saved_by_retry: dict[tuple[str, str], int] = {}

    def observe(self, spec: CheckSpec, result: CheckResult) -> None:
        """Count one finished run of ``spec``."""
        key = (spec.kind, spec.namespace)
        histogram = self._durations.get(key)
        if histogram is None:
            histogram = self._durations[key] = Histogram()
            self._saved_by_retry[key] = 0
        histogram.observe(result.duration)
        if result.ok and result.attempts > 1:
            self._saved_by_retry[key] += 1

    def families(self, base: Mapping[str, str]) -> list[MetricFamily]:
        """``healthwatch_check_duration_seconds`` and ``healthwatch_check_passed_after_retry``."""
        keys = sorted(self._durations)
        labels = {key: {**base, "kind": key[0], "namespace": key[1]} for key in keys}
        return [
            MetricFamily(
                name="healthwatch_check_duration_seconds",
                kind=MetricKind.HISTOGRAM,
                help="How long check runs took (retries included), by kind and namespace.",
                samples=tuple(self._durations[key].sample(labels[key]) for key in keys),
            ),
            MetricFamily(
                name="healthwatch_check_passed_after_retry",
                kind=MetricKind.COUNTER,
                help="Runs that failed at first and passed on a retry: a warning sign.",
                samples=tuple(
                    Sample(labels=labels[key], value=self._saved_by_retry[key]) for key in keys
                ),
            ),
        ]
