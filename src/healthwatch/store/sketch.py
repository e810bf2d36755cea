"""The latency sketch: mergeable counts per log-spaced bucket, with a bounded error.

Roll-ups keep latency percentiles for every check for every hour and day, and
they are maintained incrementally (an hour's sketch is merged with each new
batch of runs), so the summary must merge exactly and stay small on disk.

Error bound of the percentile estimates
---------------------------------------
Latencies fall into fixed log-spaced buckets: bucket 0 holds ``[0, MIN_LATENCY)``
and bucket ``k >= 1`` holds ``[MIN_LATENCY * GROWTH**(k-1), MIN_LATENCY * GROWTH**k)``.
A percentile (nearest rank: the ``ceil(q * n)``-th smallest value) is estimated
by the geometric middle of the bucket holding that rank, capped at the maximum.
So, for the true value ``v``:

* ``v >= MIN_LATENCY``: ``|estimate - v| <= (sqrt(GROWTH) - 1) * v`` (4.9 %);
* ``v < MIN_LATENCY`` (under 0.1 ms): ``|estimate - v| <= MIN_LATENCY / 2``.

Values beyond the last bucket (about 41 days) are estimated by the maximum. The
maximum is exact in memory and kept to the microsecond on disk
(:meth:`LatencySketch.to_bytes`, see ``sketchcodec``), which stays inside the bound.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable
from typing import Final

from healthwatch.store.sketchcodec import MAX_MICROSECONDS, SketchError, decode, encode

__all__ = ["GROWTH", "MAX_INDEX", "MIN_LATENCY", "LatencySketch", "SketchError"]

MIN_LATENCY: Final = 1e-4
"""Lower edge of the first log-spaced bucket, seconds; faster runs share bucket 0."""
GROWTH: Final = 1.1
"""Ratio between consecutive bucket edges: a 10 % wide bucket."""
MAX_INDEX: Final = 256
"""Last bucket index; it also holds everything slower."""
_LOG_GROWTH: Final = math.log(GROWTH)
_HALF_STEP: Final = math.sqrt(GROWTH)


def _index(latency: float) -> int:
    if not latency >= MIN_LATENCY:  # also catches NaN
        return 0
    if latency == math.inf:
        return MAX_INDEX
    index = min(int(math.log(latency / MIN_LATENCY) / _LOG_GROWTH) + 1, MAX_INDEX)
    # Floating-point rounding can misplace a value sitting on an edge: settle it exactly.
    while index > 1 and MIN_LATENCY * GROWTH ** (index - 1) > latency:
        index -= 1
    while index < MAX_INDEX and MIN_LATENCY * GROWTH**index <= latency:
        index += 1
    return index


def _representative(index: int) -> float:
    if index == 0:
        return MIN_LATENCY / 2
    return MIN_LATENCY * GROWTH ** (index - 1) * _HALF_STEP


def _microseconds(seconds: float) -> int:
    if not seconds < MAX_MICROSECONDS / 1e6:  # also catches NaN and infinity
        return MAX_MICROSECONDS if seconds > 0 else 0
    return max(0, round(seconds * 1e6))


class LatencySketch:
    """Counts of latencies per log-spaced bucket: mergeable, a few dozen bytes on disk."""

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
        """The largest latency added, 0 when empty (to the microsecond once stored)."""
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

    def to_bytes(self) -> bytes:
        """The compact binary form the store keeps (see ``sketchcodec``)."""
        return encode(self._counts, _microseconds(self._max), max_index=MAX_INDEX)

    @classmethod
    def from_bytes(cls, data: object) -> LatencySketch:
        """The sketch :meth:`to_bytes` wrote; :class:`SketchError` if ``data`` is not one.

        ``data`` is typically a value read from the file, so any type is refused politely.
        """
        counts, max_us = decode(data, max_index=MAX_INDEX)
        sketch = cls()
        sketch._counts = counts
        sketch._max = max_us / 1e6
        return sketch

    def dumps(self) -> str:
        """The JSON form of schema version 2: ``{"m": max, "b": {index: count}}``."""
        buckets = {str(index): count for index, count in sorted(self._counts.items())}
        return json.dumps({"m": self._max, "b": buckets}, separators=(",", ":"))

    @classmethod
    def loads(cls, text: str | bytes) -> LatencySketch:
        """The sketch :meth:`dumps` wrote; :class:`SketchError` if ``text`` is malformed."""
        try:
            data = json.loads(text)
            maximum = float(data["m"])
            counts = {int(index): int(count) for index, count in data["b"].items()}
        except (ValueError, TypeError, KeyError, AttributeError, RecursionError) as error:
            raise SketchError(f"not a JSON sketch: {error}") from None
        if any(not 0 <= index <= MAX_INDEX or count < 0 for index, count in counts.items()):
            raise SketchError("JSON sketch with a bucket out of range")
        sketch = cls()
        sketch._max = maximum if maximum >= 0 else 0.0
        sketch._counts = {index: count for index, count in counts.items() if count}
        return sketch
