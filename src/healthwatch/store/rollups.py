"""Roll-ups: what the store keeps per check per hour and per day.

Months of raw results are too many rows to chart a 90-day uptime bar; a roll-up
row per check per hour and per day (count, failures, max latency and a compact
latency sketch) keeps them cheap. The sketch is mergeable, so roll-ups are
maintained incrementally on insert and never recomputed from raw rows.

The latency sketch and its error bound live in ``sketch``; they are re-exported
here for code written against the first layout.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final, Literal

from healthwatch.store.sketch import GROWTH, MAX_INDEX, MIN_LATENCY, LatencySketch

__all__ = [
    "GROWTH",
    "MAX_INDEX",
    "MIN_LATENCY",
    "RESOLUTIONS",
    "LatencySketch",
    "Resolution",
    "Rollup",
    "UptimeDay",
    "bucket_start",
]

Resolution = Literal["hour", "day"]
"""The two roll-up granularities."""

RESOLUTIONS: Final[Mapping[Resolution, int]] = {"hour": 3600, "day": 86400}
"""Width in seconds of each roll-up resolution (buckets are aligned on UTC epoch)."""


def bucket_start(timestamp: float, resolution: Resolution) -> int:
    """Start (epoch seconds) of the roll-up bucket of ``resolution`` holding ``timestamp``."""
    width = RESOLUTIONS[resolution]
    return math.floor(timestamp / width) * width


@dataclass(frozen=True, slots=True, kw_only=True)
class Rollup:
    """One check's runs over one hour or day."""

    check_id: str
    """``namespace/name`` of the check."""
    start: float
    """Epoch seconds the hour or day starts (UTC-aligned)."""
    count: int
    """Runs recorded."""
    failures: int
    """Runs that failed."""
    latency_p50: float
    """Estimated median run duration, seconds (within 5 %, see ``sketch``)."""
    latency_p90: float
    """Estimated 90th percentile run duration, seconds."""
    latency_p95: float
    """Estimated 95th percentile run duration, seconds."""
    latency_p99: float
    """Estimated 99th percentile run duration, seconds."""
    latency_max: float
    """Longest run, seconds (exact to the microsecond)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class UptimeDay:
    """One day of a check's uptime bar; days without runs have ``count == 0``."""

    start: float
    """Epoch seconds the UTC day starts."""
    count: int
    """Runs recorded that day."""
    failures: int
    """Runs that failed that day."""
