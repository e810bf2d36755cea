"""Blocking adapter calls off the event loop, with a timeout that a hung driver cannot defeat.

An NVML call can hang (a GPU falling off the bus, a wedged driver). Each
:class:`CallWorker` owns one daemon thread and runs one call at a time in it:

- a call that exceeds its timeout raises :class:`GpuCallTimeoutError`; the event loop
  is never blocked and the caller goes on;
- while a timed-out call has still not returned, further calls fail at once
  (nothing queues up behind a hung call, no thread piles up), and
  :attr:`CallWorker.stuck` says which call and since when;
- the thread is a daemon thread and owned by the worker, not the loop's default
  executor, so a hung call can delay neither the loop's shutdown nor the
  process's exit.

Cancelling the awaiting task abandons the call the same way; it finishes in the
thread (calls are kept short: the Xid wait is a loop of one-second waits).
"""

from __future__ import annotations

import asyncio
import contextlib
import queue
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any, TypeVar

from healthwatch.problems.gpu.adapter import GpuAdapterError

__all__ = ["CallWorker", "GpuCallTimeoutError"]

T = TypeVar("T")


class GpuCallTimeoutError(GpuAdapterError):
    """An adapter call did not return in time (or an earlier one still has not)."""


@dataclass(slots=True)
class _Call:
    what: str
    function: Callable[[], Any]
    future: Future[Any]
    started: float
    """When it was handed to the thread (monotonic)."""


def _consume(future: asyncio.Future[Any]) -> None:
    """Mark the outcome of an abandoned call as seen (it was reported as a timeout)."""
    if not future.cancelled():
        future.exception()


class CallWorker:
    """One thread running adapter calls one at a time."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._queue: queue.Queue[_Call | None] = queue.Queue(maxsize=1)
        self._lock = threading.Lock()
        self._current: _Call | None = None
        self._thread: threading.Thread | None = None
        self.timeouts = 0
        """Calls that did not return in time."""

    @property
    def stuck(self) -> tuple[str, float] | None:
        """(call, seconds since it was handed over) of a call not yet returned, else None."""
        with self._lock:
            current = self._current
        if current is None:
            return None
        return current.what, time.monotonic() - current.started

    async def call(
        self,
        what: str,
        function: Callable[[], T],
        *,
        timeout: float,  # noqa: ASYNC109 - the call runs in a thread: asyncio.timeout cannot end it
        patience: float = 0.0,
    ) -> T:
        """Run ``function()`` in the thread; GpuCallTimeoutError after ``timeout`` seconds.

        A call still running (abandoned by an earlier caller) is waited for up to
        ``patience`` seconds; after that, or at once by default, this call is refused.
        """
        item = _Call(what=what, function=function, future=Future(), started=time.monotonic())
        with self._lock:
            busy = self._current
            if busy is None:
                self._current = item
        if busy is not None and patience > 0:
            with contextlib.suppress(Exception):
                async with asyncio.timeout(patience):
                    await asyncio.shield(asyncio.wrap_future(busy.future))
            return await self.call(what, function, timeout=timeout)
        if busy is not None:
            age = time.monotonic() - busy.started
            raise GpuCallTimeoutError(
                f"{what}: not started, {busy.what} has not returned for {age:.1f}s"
            )
        self._ensure_thread()
        self._queue.put_nowait(item)
        waiter = asyncio.wrap_future(item.future)
        waiter.add_done_callback(_consume)
        try:
            async with asyncio.timeout(timeout):  # not wait_for: in 3.11 it can swallow a cancel
                return await asyncio.shield(waiter)
        except TimeoutError:
            self.timeouts += 1
            raise GpuCallTimeoutError(f"{what}: no answer within {timeout:g}s") from None

    def _ensure_thread(self) -> None:
        if self._thread is None or not self._thread.is_alive():
            self._thread = threading.Thread(
                target=self._serve, name=f"healthwatch-{self.name}", daemon=True
            )
            self._thread.start()

    def _serve(self) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                return
            error: BaseException | None = None
            result: Any = None
            try:
                result = item.function()
            except BaseException as raised:  # handed to the awaiting side, never lost
                error = raised
            with self._lock:  # free before answering: the caller may call again at once
                if self._current is item:
                    self._current = None
            if error is not None:
                item.future.set_exception(error)
            else:
                item.future.set_result(result)

    def close(self) -> None:
        """Let the thread end once its current call (if any) returns."""
        thread, self._thread = self._thread, None
        if thread is None:
            return
        with contextlib.suppress(queue.Full):  # a call waits behind a hung one: leave the thread
            self._queue.put_nowait(None)
