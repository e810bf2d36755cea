"""The history file on disk: its versioned schema, its migrations and what can go wrong opening it.

The file outlives the code that wrote it, so the schema is versioned (one row in
``schema_version``) and moved forward by an ordered list of SQL scripts, each
applied in its own transaction. A file written by a newer healthwatch is refused
rather than guessed at. Every ``sqlite3`` error is turned here into a
:class:`StoreError` naming the file and what to do, so no raw ``sqlite3``
exception leaves the store::

    HealthwatchError
    └── StoreError            the history file cannot be used (names the path)
        ├── StoreCorruptError     not a database, or damaged: move it aside
        ├── StoreLockedError      another process holds it past the busy timeout
        └── StoreVersionError     written by a newer healthwatch

Functions here run on the store's worker thread only.
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path
from typing import Final

from healthwatch.model.errors import HealthwatchError
from healthwatch.store.sqlfunctions import BadSketchHandler, register

__all__ = [
    "MIGRATIONS",
    "SCHEMA_VERSION",
    "StoreCorruptError",
    "StoreError",
    "StoreLockedError",
    "StoreVersionError",
    "connect",
    "translate",
]


class StoreError(HealthwatchError):
    """The history file cannot be used; the message names the path and what to do."""

    def __init__(self, path: Path, message: str) -> None:
        super().__init__(f"history store {path}: {message}")
        self.path = path


class StoreCorruptError(StoreError):
    """The file is not an SQLite database, or it is damaged."""


class StoreLockedError(StoreError):
    """Another process held the database locked for longer than the busy timeout."""


class StoreVersionError(StoreError):
    """The database was written by a newer healthwatch than this one."""


_V1: Final = """
CREATE TABLE results (
    id INTEGER PRIMARY KEY,
    check_id TEXT NOT NULL,
    run_id TEXT NOT NULL,
    started_at REAL NOT NULL,
    duration REAL NOT NULL,
    ok INTEGER NOT NULL,
    errors TEXT NOT NULL,        -- JSON list of strings
    observations TEXT NOT NULL   -- JSON list of {condition, ok, observed}
);
CREATE INDEX results_by_check_time ON results (check_id, started_at);
CREATE TABLE check_state (
    check_id TEXT PRIMARY KEY,
    state TEXT NOT NULL,         -- JSON object
    updated_at REAL NOT NULL
);
"""

# Version 2 adds roll-ups and fills them from the results already kept;
# hw_sketch() is the JSON aggregate of ``sqlfunctions``.
_V2: Final = """
CREATE TABLE rollups (
    check_id TEXT NOT NULL,
    resolution TEXT NOT NULL CHECK (resolution IN ('hour', 'day')),
    start INTEGER NOT NULL,
    count INTEGER NOT NULL,
    failures INTEGER NOT NULL,
    sketch TEXT NOT NULL,        -- LatencySketch.dumps(); holds the exact maximum
    PRIMARY KEY (check_id, resolution, start)
) WITHOUT ROWID;
CREATE INDEX rollups_by_time ON rollups (resolution, start);
CREATE INDEX results_by_time ON results (started_at);
INSERT INTO rollups
    SELECT check_id, 'hour', CAST(started_at / 3600 AS INTEGER) * 3600,
           count(*), sum(ok = 0), hw_sketch(duration)
    FROM results GROUP BY 1, 3;
INSERT INTO rollups
    SELECT check_id, 'day', CAST(started_at / 86400 AS INTEGER) * 86400,
           count(*), sum(ok = 0), hw_sketch(duration)
    FROM results GROUP BY 1, 3;
"""

# Version 3 makes a year of roll-ups small: check names stored once (``checks``)
# and referred to by integer, one WITHOUT ROWID table per resolution keyed by
# (check, start), and the binary sketch (``sketchcodec``) instead of JSON.
_V3: Final = """
CREATE TABLE checks (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE    -- namespace/name
);
CREATE TABLE rollups_hour (
    check_ref INTEGER NOT NULL REFERENCES checks (id),
    start INTEGER NOT NULL,      -- epoch seconds, UTC-aligned
    count INTEGER NOT NULL,
    failures INTEGER NOT NULL,
    sketch BLOB NOT NULL,        -- LatencySketch.to_bytes(); holds the maximum
    PRIMARY KEY (check_ref, start)
) WITHOUT ROWID;
CREATE TABLE rollups_day (
    check_ref INTEGER NOT NULL REFERENCES checks (id),
    start INTEGER NOT NULL,
    count INTEGER NOT NULL,
    failures INTEGER NOT NULL,
    sketch BLOB NOT NULL,
    PRIMARY KEY (check_ref, start)
) WITHOUT ROWID;
INSERT INTO checks (name) SELECT DISTINCT check_id FROM rollups ORDER BY check_id;
INSERT INTO rollups_hour
    SELECT checks.id, start, count, failures, hw_sketch_from_json(sketch)
    FROM rollups JOIN checks ON checks.name = rollups.check_id
    WHERE resolution = 'hour' ORDER BY checks.id, start;
INSERT INTO rollups_day
    SELECT checks.id, start, count, failures, hw_sketch_from_json(sketch)
    FROM rollups JOIN checks ON checks.name = rollups.check_id
    WHERE resolution = 'day' ORDER BY checks.id, start;
DROP TABLE rollups;
"""

MIGRATIONS: Final[tuple[str, ...]] = (_V1, _V2, _V3)
"""``MIGRATIONS[n - 1]`` moves a database from version ``n - 1`` to ``n``. Append only."""
SCHEMA_VERSION: Final = len(MIGRATIONS)
"""The version this code writes."""

_MOVE_ASIDE: Final = "move it aside (or delete it) and restart to begin an empty history"


def translate(error: sqlite3.Error, path: Path, doing: str) -> StoreError:
    """A :class:`StoreError` for ``error``, raised while ``doing`` something with ``path``."""
    name = getattr(error, "sqlite_errorname", "") or ""
    code = getattr(error, "sqlite_errorcode", None)
    base = f"{doing} failed: {error}"
    if name.startswith(("SQLITE_CORRUPT", "SQLITE_NOTADB")) or code in (11, 26):
        return StoreCorruptError(
            path, f"{base}; the file is damaged or not a database: {_MOVE_ASIDE}"
        )
    if name.startswith(("SQLITE_BUSY", "SQLITE_LOCKED")) or code in (5, 6):
        return StoreLockedError(
            path,
            f"{base}; another process holds the database: stop the other healthwatch "
            "using this file, or give this one its own path",
        )
    if name.startswith("SQLITE_FULL") or code == 13:
        return StoreError(path, f"{base}; free space on its filesystem or shorten retention")
    if name.startswith(("SQLITE_READONLY", "SQLITE_CANTOPEN", "SQLITE_PERM")) or code in (
        3,
        8,
        14,
    ):
        return StoreError(
            path,
            f"{base}; make the file and its directory writable by this user, "
            "or choose a writable path",
        )
    return StoreError(path, base)


def _prepare_file(path: Path) -> None:
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        if not path.exists():
            fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
            os.close(fd)
    except OSError as error:
        raise StoreError(
            path,
            f"cannot create the file: {error.strerror or error}; make its directory writable "
            "by this user, or choose a writable path",
        ) from error


def connect(
    path: Path, *, busy_timeout: float, on_bad_sketch: BadSketchHandler | None = None
) -> sqlite3.Connection:
    """Open (creating if needed) ``path``, check it, and migrate it to :data:`SCHEMA_VERSION`.

    ``on_bad_sketch`` hears of every damaged sketch a write replaces (``sqlfunctions``).
    """
    _prepare_file(path)
    doing = "opening"
    try:
        connection = sqlite3.connect(path, timeout=busy_timeout, isolation_level=None)
    except sqlite3.Error as error:
        raise translate(error, path, doing) from error
    try:
        register(connection, on_bad_sketch=on_bad_sketch)
        connection.execute(f"PRAGMA busy_timeout = {int(busy_timeout * 1000)}")
        # A node agent keeps its footprint small: 512 KiB of page cache, not SQLite's 2 MiB.
        connection.execute("PRAGMA cache_size = -512")
        doing = "checking integrity"
        problems = [row[0] for row in connection.execute("PRAGMA quick_check(5)")]
        if problems != ["ok"]:
            detail = "; ".join(str(problem) for problem in problems)
            raise StoreCorruptError(path, f"integrity check failed ({detail}): {_MOVE_ASIDE}")
        doing = "switching to WAL"
        mode = connection.execute("PRAGMA journal_mode = WAL").fetchone()[0]
        if str(mode).lower() != "wal":
            raise StoreError(
                path, f"cannot use WAL journaling (got {mode}); use a local filesystem"
            )
        connection.execute("PRAGMA synchronous = NORMAL")
        doing = "migrating the schema"
        _migrate(connection, path)
    except BaseException as error:
        connection.close()
        if isinstance(error, sqlite3.Error):
            raise translate(error, path, doing) from error
        raise
    return connection


def _migrate(connection: sqlite3.Connection, path: Path) -> None:
    connection.execute("BEGIN IMMEDIATE")
    try:
        connection.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
        found = connection.execute("SELECT max(version) FROM schema_version").fetchone()[0]
        connection.execute("COMMIT")
    except BaseException:
        connection.execute("ROLLBACK")
        raise
    current = int(found or 0)
    if current > SCHEMA_VERSION:
        raise StoreVersionError(
            path,
            f"schema version {current} was written by a newer healthwatch (this one knows up "
            f"to {SCHEMA_VERSION}): upgrade healthwatch, or {_MOVE_ASIDE}",
        )
    for version in range(current + 1, SCHEMA_VERSION + 1):
        script = MIGRATIONS[version - 1]
        try:
            connection.executescript(
                f"BEGIN IMMEDIATE;\n{script}\n"
                f"INSERT INTO schema_version (version) VALUES ({version});\nCOMMIT;"
            )
        except BaseException:
            if connection.in_transaction:
                connection.execute("ROLLBACK")
            raise
