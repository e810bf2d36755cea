"""Roll-ups: what the store keeps per check per hour and per day, and the latency sketch.

Months of raw results are too many rows to chart a 90-day uptime bar; a roll-up
row per check per hour and per day (count, failures, max latency and a compact
latency sketch) keeps them cheap. The sketch is mergeable, so roll-ups are
maintained incrementally on insert and never recomputed from raw rows.

Error bound of the percentile estimates
---------------------------------------
Latencies fall into fixed log-spaced buckets: bucket 0 holds ``[0, MIN_LATENCY)``
and bucket ``k >= 1`` holds ``[MIN_LATENCY * GROWTH**(k-1), MIN_LATENCY * GROWTH**k)``.
A percentile (nearest rank: the ``ceil(q * n)``-th smallest value) is estimated
by the geometric middle of the bucket holding that rank, capped at the exact
maximum. So, for the true value ``v``:

* ``v >= MIN_LATENCY``: ``|estimate - v| <= (sqrt(GROWTH) - 1) * v`` (4.9 %);
* ``v < MIN_LATENCY`` (under 0.1 ms): ``|estimate - v| <= MIN_LATENCY / 2``.

Values beyond the last bucket (about 41 days) are estimated by the maximum.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Final, Literal

__all__ = [
    "GROWTH",
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

MIN_LATENCY: Final = 1e-4
"""Lower edge of the first log-spaced bucket, seconds; faster runs share bucket 0."""
GROWTH: Final = 1.1
"""Ratio between consecutive bucket edges: a 10 % wide bucket."""
MAX_INDEX: Final = 256
"""Last bucket index; it also holds everything slower."""
_LOG_GROWTH: Final = math.log(GROWTH)
_HALF_STEP: Final = math.sqrt(GROWTH)


def bucket_start(timestamp: float, resolution: Resolution) -> int:
    """Start (epoch seconds) of the roll-up bucket of ``resolution`` holding ``timestamp``."""
    width = RESOLUTIONS[resolution]
    return math.floor(timestamp / width) * width


def _index(latency: float) -> int:
    if not latency >= MIN_LATENCY:  # also catches NaN
        return 0
    index = int(math.log(latency / MIN_LATENCY) / _LOG_GROWTH) + 1
    # Floating-point rounding can misplace a value sitting on an edge: settle it exactly.
    while index > 1 and MIN_LATENCY * GROWTH ** (index - 1) > latency:
        index -= 1
    while index < MAX_INDEX and MIN_LATENCY * GROWTH**index <= latency:
        index += 1
    return min(index, MAX_INDEX)


def _representative(index: int) -> float:
    if index == 0:
        return MIN_LATENCY / 2
    return MIN_LATENCY * GROWTH ** (index - 1) * _HALF_STEP


class LatencySketch:
    """Counts of latencies per log-spaced bucket: mergeable, a few hundred bytes as JSON."""

    __slots__ = ("_counts", "_max")

    def __init__(self) -> None:
        self._counts: dict[int, int] = {}
        self._max = 0.0

    @classmethod
    def of(cls, latencies: Iterable[float]) -> LatencySketch:
        """A sketch holding every latency of ``latencies``."""
        sketch = cls()
        for latency in latencies:
            sketch.add(latency)
        return sketch

    @property
    def count(self) -> int:
        """How many latencies were added."""
        return sum(self._counts.values())

    @property
    def maximum(self) -> float:
        """The largest latency added (exact), 0 when empty."""
        return self._max

    def add(self, latency: float) -> None:
        """Count one latency (seconds)."""
        index = _index(latency)
        self._counts[index] = self._counts.get(index, 0) + 1
        self._max = max(self._max, latency)

    def merge(self, other: LatencySketch) -> None:
        """Add every latency counted by ``other``."""
        for index, count in other._counts.items():
            self._counts[index] = self._counts.get(index, 0) + count
        self._max = max(self._max, other._max)

    def quantile(self, q: float) -> float:
        """Estimate of the nearest-rank ``q`` quantile (0 < q <= 1); 0 when empty."""
        total = self.count
        if total == 0:
            return 0.0
        rank = max(1, math.ceil(q * total))
        seen = 0
        for index in sorted(self._counts):
            seen += self._counts[index]
            if seen >= rank:
                return self._max if index == MAX_INDEX else min(_representative(index), self._max)
        return self._max  # pragma: no cover - rank never exceeds the total

    def dumps(self) -> str:
        """Compact JSON: ``{"m": max, "b": {index: count}}``."""
        buckets = {str(index): count for index, count in sorted(self._counts.items())}
        return json.dumps({"m": self._max, "b": buckets}, separators=(",", ":"))

    @classmethod
    def loads(cls, text: str | bytes) -> LatencySketch:
        """The sketch written by :meth:`dumps`."""
        data = json.loads(text)
        sketch = cls()
        sketch._max = float(data["m"])
        sketch._counts = {int(index): int(count) for index, count in data["b"].items()}
        return sketch


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
    """Estimated median run duration, seconds (see the module's error bound)."""
    latency_p95: float
    """Estimated 95th percentile run duration, seconds."""
    latency_p99: float
    """Estimated 99th percentile run duration, seconds."""
    latency_max: float
    """Longest run, seconds (exact)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class UptimeDay:
    """One day of a check's uptime bar; days without runs have ``count == 0``."""

    start: float
    """Epoch seconds the UTC day starts."""
    count: int
    """Runs recorded that day."""
    failures: int
    """Runs that failed that day."""
