"""The SQL functions the store's statements and migrations call, registered per connection.

Roll-ups are merged inside SQLite (an upsert calls ``hw_sketch_merge``) so a batch
of results updates its hour and day rows in one statement; migrations build and
convert sketches with the others. A damaged sketch must not fail a write: the
merge keeps the new runs, replaces the unreadable blob and reports it through
the ``on_bad_sketch`` callback, which the store counts.

``hw_sketch(duration)``
    aggregate: the sketch of a group as the JSON of schema version 2 (migration 2
    is frozen and writes JSON; migration 3 converts it).
``hw_sketch_from_json(text)``
    the binary form of a JSON sketch; a value that is not one is returned
    unchanged, so its row is kept and counted as damaged when it is read.
``hw_sketch_merge(stored, new)``
    the two binary sketches merged; ``new`` alone when ``stored`` is unreadable.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable

from healthwatch.store.sketch import LatencySketch, SketchError

__all__ = ["BadSketchHandler", "register"]

BadSketchHandler = Callable[[SketchError], None]
"""Called (on the store's thread) for each unreadable sketch a statement met."""


class _JsonSketchAggregate:
    """``hw_sketch(duration)``: the sketch of a group, as JSON."""

    def __init__(self) -> None:
        self._sketch = LatencySketch()

    def step(self, value: float) -> None:
        self._sketch.add(float(value))

    def finalize(self) -> str:
        return self._sketch.dumps()


_SqlValue = str | bytes | int | float | None


def _from_json(value: _SqlValue) -> _SqlValue:
    if not isinstance(value, str | bytes):
        return value
    try:
        return LatencySketch.loads(value).to_bytes()
    except SketchError:
        return value


def _merger(on_bad_sketch: BadSketchHandler | None) -> Callable[[object, object], bytes]:
    def merge(stored: object, new: object) -> bytes:
        incoming = LatencySketch.from_bytes(new)  # made by the store: always readable
        try:
            merged = LatencySketch.from_bytes(stored)
        except SketchError as error:
            if on_bad_sketch is not None:
                on_bad_sketch(error)
            return incoming.to_bytes()
        merged.merge(incoming)
        return merged.to_bytes()

    return merge


def register(
    connection: sqlite3.Connection, *, on_bad_sketch: BadSketchHandler | None = None
) -> None:
    """Make the store's functions available to statements run on ``connection``."""
    # typeshed's protocol wants finalize() -> int; SQLite takes any value, here TEXT.
    connection.create_aggregate("hw_sketch", 1, _JsonSketchAggregate)  # type: ignore[arg-type]
    connection.create_function("hw_sketch_from_json", 1, _from_json, deterministic=True)
    # Not deterministic: a damaged stored sketch is reported, so every call must run.
    connection.create_function("hw_sketch_merge", 2, _merger(on_bad_sketch))
