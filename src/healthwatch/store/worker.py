"""The one thread that owns the store's SQLite connection.

SQLite calls block, so every one of them runs here: the event loop puts jobs
(and results to write) on a FIFO and awaits the answers. Results waiting next
to each other are written as one batch in one transaction. Because one thread
runs everything in order, a query sees every result queued before it, and a
long piece of work (pruning) interleaves with writes by being queued as many
short jobs.
"""

from __future__ import annotations

import concurrent.futures
import logging
import queue
import sqlite3
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, TypeVar

from healthwatch.model.checks import CheckResult
from healthwatch.store.schema import connect, translate
from healthwatch.store.sqlfunctions import BadSketchHandler
from healthwatch.store.tables import CheckIds, write_batch

__all__ = ["StoreWorker"]

_log = logging.getLogger(__name__)
_T = TypeVar("_T")
_BATCH: Final = 500
_LINGER: Final = 0.1
"""Seconds a batch of results waits for more before it is written, unless a job queues.

One transaction per result costs ~5x more than batching at 1,000 results/s; a job
(a query, a state save a run awaits) ends the wait at once, so nothing stalls."""
_STOP: Final = object()


@dataclass(frozen=True, slots=True, kw_only=True)
class _Job:
    """A call to run on the worker thread, and where its answer goes."""

    run: Callable[[sqlite3.Connection], Any]
    future: concurrent.futures.Future[Any]
    doing: str
    """What the call does, for error messages (``reading results``)."""


class StoreWorker:
    """Runs jobs and writes results on its own thread, in the order they were queued."""

    def __init__(
        self,
        path: Path,
        *,
        busy_timeout: float,
        on_bad_sketch: BadSketchHandler,
        on_batch_done: Callable[[int], None],
    ) -> None:
        self.path = path
        self.ids = CheckIds()
        """Check name → id, shared by writes and pruning (both on this thread)."""
        self.written = 0
        """Results committed."""
        self.errors = 0
        """Results lost because their batch could not be written."""
        self._busy_timeout = busy_timeout
        self._on_bad_sketch = on_bad_sketch
        self._on_batch_done = on_batch_done
        self._jobs: queue.SimpleQueue[object] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self.stopped: concurrent.futures.Future[None] = concurrent.futures.Future()
        """Done once the thread has closed the connection and ended."""

    def start(self) -> concurrent.futures.Future[None]:
        """Start the thread; the answer is done once the file is open and migrated."""
        opened: concurrent.futures.Future[None] = concurrent.futures.Future()
        self._thread = threading.Thread(
            target=self._run,
            args=(opened,),
            name=f"healthwatch-store:{self.path.name}",
            daemon=True,
        )
        self._thread.start()
        return opened

    def submit(
        self, run: Callable[[sqlite3.Connection], _T], doing: str
    ) -> concurrent.futures.Future[_T]:
        """Queue ``run(connection)``; sqlite3 errors come back as :class:`StoreError`."""
        future: concurrent.futures.Future[_T] = concurrent.futures.Future()
        self._jobs.put(_Job(run=run, future=future, doing=doing))
        return future

    def write(self, result: CheckResult) -> None:
        """Queue ``result``; ``on_batch_done(n)`` is called once its batch is settled."""
        self._jobs.put(result)

    def stop(self) -> None:
        """Finish what is queued, then close the connection and end the thread."""
        self._jobs.put(_STOP)

    def _run(self, opened: concurrent.futures.Future[None]) -> None:
        try:
            try:
                connection = connect(
                    self.path, busy_timeout=self._busy_timeout, on_bad_sketch=self._on_bad_sketch
                )
            except BaseException as error:
                opened.set_exception(error)
                return
            opened.set_result(None)
            try:
                self._serve(connection)
            finally:
                connection.close()
        finally:
            self.stopped.set_result(None)

    def _serve(self, connection: sqlite3.Connection) -> None:
        while True:
            item = self._jobs.get()
            if isinstance(item, CheckResult):
                batch, held = self._gather(item)
                self._write(connection, batch)
                if held is None:
                    continue
                item = held
            if item is _STOP:
                return
            if isinstance(item, _Job):
                self._run_job(connection, item)

    def _gather(self, first: CheckResult) -> tuple[list[CheckResult], object]:
        """Results queued behind ``first`` (lingering briefly), and the job that ended it."""
        batch = [first]
        deadline = time.monotonic() + _LINGER
        while len(batch) < _BATCH:
            left = deadline - time.monotonic()
            try:
                following = self._jobs.get(timeout=left) if left > 0 else self._jobs.get_nowait()
            except queue.Empty:
                break
            if not isinstance(following, CheckResult):
                return batch, following
            batch.append(following)
        return batch, None

    def _run_job(self, connection: sqlite3.Connection, job: _Job) -> None:
        if not job.future.set_running_or_notify_cancel():
            return
        try:
            job.future.set_result(job.run(connection))
        except sqlite3.Error as error:
            job.future.set_exception(translate(error, self.path, job.doing))
        except Exception as error:
            job.future.set_exception(error)

    def _write(self, connection: sqlite3.Connection, batch: list[CheckResult]) -> None:
        try:
            write_batch(connection, batch, self.ids)
            self.written += len(batch)
        except sqlite3.Error as error:
            self.errors += len(batch)
            _log.error("%s; %d results lost", translate(error, self.path, "writing"), len(batch))
        except Exception:
            # Never let one bad batch end the thread every later call waits on.
            self.errors += len(batch)
            _log.exception(
                "history store %s: writing failed; %d results lost", self.path, len(batch)
            )
        finally:
            self._on_batch_done(len(batch))
