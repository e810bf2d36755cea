"""Rows in and out of the store's tables: a batch of results written, results and roll-ups read.

Roll-up tables refer to a check by a small integer (``checks.id``) rather than by
its name, which would otherwise be repeated in every one of millions of rows;
:class:`CheckIds` remembers the ids already known. A roll-up whose sketch cannot
be read is left out of an answer and reported, never raised: one damaged row
must not hide the rest of a chart.

Functions here run on the store's worker thread only.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Iterable
from typing import Any, Final

from healthwatch.model.checks import CheckResult, Observation
from healthwatch.store.retention import transaction
from healthwatch.store.rollups import Resolution, Rollup, bucket_start
from healthwatch.store.sketch import LatencySketch, SketchError

__all__ = ["TABLES", "CheckIds", "read_results", "read_rollups", "read_uptime", "write_batch"]

TABLES: Final[dict[Resolution, str]] = {"hour": "rollups_hour", "day": "rollups_day"}
"""The roll-up table of each resolution."""

# Built from the fixed table names above, never from input.
_UPSERT: Final = {
    table: f"INSERT INTO {table} (check_ref, start, count, failures, sketch) "  # noqa: S608
    "VALUES (?, ?, ?, ?, ?) ON CONFLICT DO UPDATE SET "
    "count = count + excluded.count, failures = failures + excluded.failures, "
    "sketch = hw_sketch_merge(sketch, excluded.sketch)"
    for table in TABLES.values()
}
_SELECT: Final = {
    table: f"SELECT r.start, r.count, r.failures, r.sketch FROM {table} AS r "  # noqa: S608
    "JOIN checks ON checks.id = r.check_ref "
    "WHERE checks.name = ? AND r.start >= ? AND r.start < ? ORDER BY r.start"
    for table in TABLES.values()
}


class CheckIds:
    """The integer id of each check name, remembered once committed."""

    __slots__ = ("_ids",)

    def __init__(self) -> None:
        self._ids: dict[str, int] = {}

    def resolve(self, connection: sqlite3.Connection, names: Iterable[str]) -> dict[str, int]:
        """Ids of ``names``, adding new names to ``checks`` (call inside a transaction)."""
        for name in names:
            if name not in self._ids:
                connection.execute(
                    "INSERT INTO checks (name) VALUES (?) ON CONFLICT (name) DO NOTHING", (name,)
                )
                (found,) = connection.execute(
                    "SELECT id FROM checks WHERE name = ?", (name,)
                ).fetchone()
                self._ids[name] = int(found)
        return self._ids

    def forget(self) -> None:
        """Drop every remembered id (after a rollback, or after check names were deleted)."""
        self._ids.clear()


def write_batch(connection: sqlite3.Connection, batch: list[CheckResult], ids: CheckIds) -> None:
    """Insert ``batch`` and fold it into its hourly and daily roll-ups, in one transaction."""
    try:
        with transaction(connection):
            connection.executemany(
                "INSERT INTO results (check_id, run_id, started_at, duration, ok, errors, "
                "observations) VALUES (?, ?, ?, ?, ?, ?, ?)",
                [_row_from_result(result) for result in batch],
            )
            known = ids.resolve(connection, {result.check_id for result in batch})
            for resolution, table in TABLES.items():
                connection.executemany(_UPSERT[table], _rollup_rows(batch, resolution, known))
    except BaseException:
        ids.forget()  # names added by the rolled-back transaction are gone again
        raise


def read_results(
    connection: sqlite3.Connection,
    check_id: str,
    *,
    since: float | None,
    until: float | None,
    limit: int,
) -> list[CheckResult]:
    """The newest ``limit`` results of ``check_id`` started in ``[since, until)``, newest first."""
    rows = connection.execute(
        "SELECT check_id, run_id, ok, errors, started_at, duration, observations "
        "FROM results WHERE check_id = ? AND started_at >= ? AND started_at < ? "
        "ORDER BY started_at DESC, id DESC LIMIT ?",
        (check_id, _lower(since), _upper(until), limit),
    ).fetchall()
    return [_result_from_row(row) for row in rows]


def read_rollups(
    connection: sqlite3.Connection,
    check_id: str,
    resolution: Resolution,
    *,
    since: float | None,
    until: float | None,
    on_bad_sketch: Callable[[SketchError], None],
) -> list[Rollup]:
    """Roll-ups of ``check_id`` starting in ``[since, until)``, oldest first, damaged ones out."""
    rollups: list[Rollup] = []
    for start, count, failures, blob in connection.execute(
        _SELECT[TABLES[resolution]], (check_id, _lower(since), _upper(until))
    ):
        try:
            sketch = LatencySketch.from_bytes(blob)
        except SketchError as error:
            on_bad_sketch(error)
            continue
        rollups.append(
            Rollup(
                check_id=check_id,
                start=float(start),
                count=count,
                failures=failures,
                latency_p50=sketch.quantile(0.50),
                latency_p90=sketch.quantile(0.90),
                latency_p95=sketch.quantile(0.95),
                latency_p99=sketch.quantile(0.99),
                latency_max=sketch.maximum,
            )
        )
    return rollups


def read_uptime(
    connection: sqlite3.Connection, check_id: str, *, first: int, last: int
) -> dict[int, tuple[int, int]]:
    """``{day start: (count, failures)}`` of ``check_id`` for days ``first``..``last``."""
    rows = connection.execute(
        "SELECT r.start, r.count, r.failures FROM rollups_day AS r "
        "JOIN checks ON checks.id = r.check_ref "
        "WHERE checks.name = ? AND r.start >= ? AND r.start <= ?",
        (check_id, first, last),
    )
    return {int(start): (count, failures) for start, count, failures in rows}


def _row_from_result(result: CheckResult) -> tuple[object, ...]:
    observations = [
        {"condition": item.condition, "ok": item.ok, "observed": item.observed}
        for item in result.observations
    ]
    return (
        result.check_id,
        result.run_id,
        result.started_at,
        result.duration,
        int(result.ok),
        json.dumps(list(result.errors), separators=(",", ":")),
        json.dumps(observations, separators=(",", ":")),
    )


def _result_from_row(row: tuple[Any, ...]) -> CheckResult:
    check_id, run_id, ok, errors, started_at, duration, observations = row
    return CheckResult(
        check_id=check_id,
        run_id=run_id,
        ok=bool(ok),
        errors=tuple(json.loads(errors)),
        started_at=started_at,
        duration=duration,
        observations=tuple(
            Observation(condition=item["condition"], ok=item["ok"], observed=item["observed"])
            for item in json.loads(observations)
        ),
    )


def _rollup_rows(
    batch: list[CheckResult], resolution: Resolution, ids: dict[str, int]
) -> list[tuple[object, ...]]:
    groups: dict[tuple[int, int], tuple[list[int], LatencySketch]] = {}
    for result in batch:
        key = (ids[result.check_id], bucket_start(result.started_at, resolution))
        counts, sketch = groups.setdefault(key, ([0, 0], LatencySketch()))
        counts[0] += 1
        counts[1] += 0 if result.ok else 1
        sketch.add(result.duration)
    return [
        (check, start, counts[0], counts[1], sketch.to_bytes())
        for (check, start), (counts, sketch) in groups.items()
    ]


def _lower(since: float | None) -> float:
    return float("-inf") if since is None else since


def _upper(until: float | None) -> float:
    return float("inf") if until is None else until
