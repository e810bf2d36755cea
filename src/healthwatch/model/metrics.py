"""Metric families as plain data.

The health core renders its metrics without any client library, and the
Prometheus exporter serves the very same families through
``prometheus_client``: both read these types, so a metric is defined once.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType

__all__ = ["DURATION_BUCKETS", "Histogram", "MetricFamily", "MetricKind", "Sample"]

DURATION_BUCKETS: tuple[float, ...] = (
    0.005,
    0.01,
    0.025,
    0.05,
    0.1,
    0.25,
    0.5,
    1.0,
    2.5,
    5.0,
    10.0,
    30.0,
    60.0,
)
"""Upper bounds (seconds) for durations from a local probe to a slow scripted check."""


class MetricKind(StrEnum):
    """The Prometheus metric types this project emits."""

    GAUGE = "gauge"
    COUNTER = "counter"
    HISTOGRAM = "histogram"
    UNTYPED = "untyped"
    """A counter under a compatibility name that must not gain ``_total``."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Sample:
    """One labelled value of a family."""

    labels: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    """Label names and values."""
    value: float
    """The sample value; for a histogram, the number of observations."""
    buckets: tuple[tuple[float, float], ...] = ()
    """Histograms only: ``(upper bound, observations <= bound)``, ascending, without +Inf."""
    sum: float = 0.0
    """Histograms only: the sum of the observations."""


@dataclass(frozen=True, slots=True, kw_only=True)
class MetricFamily:
    """A named metric with its help text, type and samples."""

    name: str
    """Metric name; counters carry no ``_total`` here, the renderer adds it."""
    kind: MetricKind
    """Gauge or counter."""
    help: str
    """One line saying what it measures."""
    samples: tuple[Sample, ...] = ()
    """The labelled values."""


class Histogram:
    """Cumulative observation counts for one labelled histogram sample (not thread-safe)."""

    __slots__ = ("_bounds", "_counts", "count", "sum")

    def __init__(self, bounds: tuple[float, ...] = DURATION_BUCKETS) -> None:
        self._bounds = bounds
        self._counts = [0] * len(bounds)
        self.count = 0
        self.sum = 0.0

    def observe(self, value: float) -> None:
        """Count one observation."""
        self.count += 1
        self.sum += value
        for index, bound in enumerate(self._bounds):
            if value <= bound:
                self._counts[index] += 1
                break

    def sample(self, labels: Mapping[str, str]) -> Sample:
        """The sample to export, with cumulative bucket counts."""
        running, buckets = 0, []
        for bound, count in zip(self._bounds, self._counts, strict=True):
            running += count
            buckets.append((bound, float(running)))
        return Sample(labels=labels, value=float(self.count), buckets=tuple(buckets), sum=self.sum)
