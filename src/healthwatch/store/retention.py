"""How long the store keeps what, and deleting the rest in small steps.

Pruning shares the store's single thread with writes, so it never deletes
everything at once: each step is one short transaction of at most ``limit``
rows, and the store queues the next step behind whatever arrived meanwhile, so a
write waits for one step at most. Roll-up tables are keyed by (check, start), so
expired roll-ups are found check by check through the primary key rather than by
scanning; a step resumes from the check where the previous one stopped.

Functions here run on the store's worker thread only.
"""

from __future__ import annotations

import math
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Final, Literal

__all__ = [
    "DEFAULT_DAILY_RETENTION",
    "DEFAULT_HOURLY_RETENTION",
    "DEFAULT_PRUNE_BATCH",
    "DEFAULT_PRUNE_INTERVAL",
    "DEFAULT_RAW_RETENTION",
    "Retention",
    "RollupTable",
    "forget_unused_checks",
    "prune_results",
    "prune_rollups",
    "transaction",
]

_DAY: Final = 86400.0
DEFAULT_RAW_RETENTION: Final = 30 * _DAY
"""Raw results: a month of every run, with its errors and observed values."""
DEFAULT_HOURLY_RETENTION: Final = 366 * _DAY
"""Hourly roll-ups: a year (about 350 MB with the daily ones for 1,000 checks)."""
DEFAULT_DAILY_RETENTION: Final = 400 * _DAY
"""Daily roll-ups: a year and a month, so a day compares with the same day last year."""
DEFAULT_PRUNE_INTERVAL: Final = 600.0
"""Seconds between pruning runs."""
DEFAULT_PRUNE_BATCH: Final = 5000
"""Most rows one pruning transaction deletes."""
_CHECKS_PER_STEP: Final = 1000
"""Most checks one roll-up pruning transaction visits (one primary-key seek each)."""

RollupTable = Literal["rollups_hour", "rollups_day"]
"""The roll-up tables of schema version 3."""

# Built from the fixed table names above, never from input.
_DELETE_ROLLUPS: Final[dict[RollupTable, str]] = {
    table: f"DELETE FROM {table} WHERE check_ref = ?1 AND start IN "  # noqa: S608
    f"(SELECT start FROM {table} WHERE check_ref = ?1 AND start < ?2 ORDER BY start LIMIT ?3)"
    for table in ("rollups_hour", "rollups_day")
}


@dataclass(frozen=True, slots=True, kw_only=True)
class Retention:
    """How long each kind of history is kept, in seconds."""

    raw: float = DEFAULT_RAW_RETENTION
    """Raw results (every run with its errors and observations)."""
    hourly: float = DEFAULT_HOURLY_RETENTION
    """Hourly roll-ups."""
    daily: float = DEFAULT_DAILY_RETENTION
    """Daily roll-ups (the 90-day uptime bar reads these)."""

    def __post_init__(self) -> None:
        for name in ("raw", "hourly", "daily"):
            value = getattr(self, name)
            number = isinstance(value, int | float) and not isinstance(value, bool)
            if not (number and math.isfinite(value) and value > 0):
                raise ValueError(
                    f"{name} retention must be a positive number of seconds, not {value!r}"
                )


@contextmanager
def transaction(connection: sqlite3.Connection) -> Iterator[None]:
    """``BEGIN IMMEDIATE`` … ``COMMIT``, rolled back if the body raises (autocommit connection)."""
    connection.execute("BEGIN IMMEDIATE")
    try:
        yield
    except BaseException:
        if connection.in_transaction:  # SQLite may have rolled back already (a full disk)
            connection.execute("ROLLBACK")
        raise
    connection.execute("COMMIT")


def prune_results(connection: sqlite3.Connection, *, before: float, limit: int) -> int:
    """Delete up to ``limit`` of the oldest results started before ``before``; rows deleted."""
    with transaction(connection):
        return connection.execute(
            "DELETE FROM results WHERE id IN "
            "(SELECT id FROM results WHERE started_at < ? ORDER BY started_at LIMIT ?)",
            (before, limit),
        ).rowcount


def prune_rollups(
    connection: sqlite3.Connection,
    table: RollupTable,
    *,
    before: float,
    limit: int,
    after_check: int = 0,
) -> tuple[int, int | None]:
    """Delete up to ``limit`` roll-ups of ``table`` starting before ``before``.

    Checks are visited in id order from the first id above ``after_check``, at
    most a thousand per call. Returns the rows deleted and where to resume (None
    once every check is done).
    """
    deleted = 0
    with transaction(connection):
        checks = connection.execute(
            "SELECT id FROM checks WHERE id > ? ORDER BY id LIMIT ?",
            (after_check, _CHECKS_PER_STEP),
        ).fetchall()
        for (check,) in checks:
            deleted += connection.execute(
                _DELETE_ROLLUPS[table], (check, before, limit - deleted)
            ).rowcount
            if deleted >= limit:
                return deleted, check - 1  # this check may have more: resume with it
    if len(checks) == _CHECKS_PER_STEP:
        return deleted, checks[-1][0]
    return deleted, None


def forget_unused_checks(connection: sqlite3.Connection, *, limit: int) -> int:
    """Delete up to ``limit`` check names no roll-up refers to any more; rows deleted."""
    with transaction(connection):
        return connection.execute(
            "DELETE FROM checks WHERE id IN (SELECT id FROM checks WHERE "
            "NOT EXISTS (SELECT 1 FROM rollups_hour WHERE check_ref = checks.id) AND "
            "NOT EXISTS (SELECT 1 FROM rollups_day WHERE check_ref = checks.id) LIMIT ?)",
            (limit,),
        ).rowcount
