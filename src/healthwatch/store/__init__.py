"""History of synthetic checks: results, hourly and daily roll-ups, and alert state.

One SQLite file (WAL) per agent, written from a single worker thread so the event
loop never blocks on disk; roll-ups keep months of uptime cheap to chart; a
versioned schema moves old files forward and refuses newer ones. Standard library
only.
"""

from healthwatch.store.history import HistoryStore, StoreStats
from healthwatch.store.rollups import LatencySketch, Resolution, Rollup, UptimeDay
from healthwatch.store.schema import (
    SCHEMA_VERSION,
    StoreCorruptError,
    StoreError,
    StoreLockedError,
    StoreVersionError,
)

__all__ = [
    "SCHEMA_VERSION",
    "HistoryStore",
    "LatencySketch",
    "Resolution",
    "Rollup",
    "StoreCorruptError",
    "StoreError",
    "StoreLockedError",
    "StoreStats",
    "StoreVersionError",
    "UptimeDay",
]
