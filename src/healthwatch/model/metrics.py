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

__all__ = ["MetricFamily", "MetricKind", "Sample"]


class MetricKind(StrEnum):
    """The Prometheus metric types this project emits."""

    GAUGE = "gauge"
    COUNTER = "counter"


@dataclass(frozen=True, slots=True, kw_only=True)
class Sample:
    """One labelled value of a family."""

    labels: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    """Label names and values."""
    value: float
    """The sample value."""


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
