"""What the history store counts: results written, dropped and lost, rows pruned, damage met.

The agent reports these in its ``checks:history`` component and metrics, so a
store that silently loses results or stops pruning shows up somewhere people look.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["StoreStats"]


@dataclass(frozen=True, slots=True, kw_only=True)
class StoreStats:
    """Counters of the store since it was opened."""

    written: int
    """Results committed to the file."""
    dropped: int
    """Results refused with ``wait=False`` because the queue was full."""
    errors: int
    """Results lost because their batch could not be written."""
    queue_length: int
    """Results waiting to be written."""
    pruned_results: int = 0
    """Raw results deleted because they were older than the raw retention."""
    pruned_hourly: int = 0
    """Hourly roll-ups deleted by retention."""
    pruned_daily: int = 0
    """Daily roll-ups deleted by retention."""
    prune_runs: int = 0
    """Pruning runs completed (on the timer or by :meth:`HistoryStore.prune`)."""
    prune_errors: int = 0
    """Pruning runs on the timer that failed (the next one tries again)."""
    corrupt_sketches: int = 0
    """Damaged latency sketches met: left out of answers, or replaced by new runs."""
