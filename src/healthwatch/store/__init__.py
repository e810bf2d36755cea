"""History of synthetic checks: results, hourly and daily roll-ups, and alert state.

One SQLite file (WAL) per agent, written from a single worker thread so the event
loop never blocks on disk; roll-ups with a compact binary latency sketch keep a
year of uptime cheap to keep and to chart; retention is applied on a timer in
small batches; a versioned schema moves old files forward and refuses newer ones.
Standard library only.
"""

from healthwatch.store.history import HistoryStore, StoreStats
from healthwatch.store.retention import Retention
from healthwatch.store.rollups import Resolution, Rollup, UptimeDay
from healthwatch.store.schema import (
    SCHEMA_VERSION,
    StoreCorruptError,
    StoreError,
    StoreLockedError,
    StoreVersionError,
)
from healthwatch.store.sketch import LatencySketch, SketchError

__all__ = [
    "SCHEMA_VERSION",
    "HistoryStore",
    "LatencySketch",
    "Resolution",
    "Retention",
    "Rollup",
    "SketchError",
    "StoreCorruptError",
    "StoreError",
    "StoreLockedError",
    "StoreStats",
    "StoreVersionError",
    "UptimeDay",
]
