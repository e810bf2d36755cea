"""Adapter calls in a worker thread: results, errors, timeouts, no pile-up behind a hung call."""

from __future__ import annotations

import asyncio
import threading

import pytest

from healthwatch.problems.gpu.adapter import GpuAdapterError
from healthwatch.problems.gpu.worker import CallWorker, GpuCallTimeoutError

from .conftest import eventually


async def test_results_and_errors_come_back_from_the_thread() -> None:
    worker = CallWorker("test")
    try:
        name = await worker.call("name", lambda: threading.current_thread().name, timeout=5)
        assert name == "healthwatch-test"
        with pytest.raises(GpuAdapterError, match="boom"):
            await worker.call("boom", _raise, timeout=5)
        assert await worker.call("again", lambda: 42, timeout=5) == 42
    finally:
        worker.close()


def _raise() -> None:
    raise GpuAdapterError("boom")


async def test_a_hung_call_times_out_and_refuses_the_next_until_it_returns() -> None:
    worker = CallWorker("test")
    gate = threading.Event()
    try:
        with pytest.raises(GpuCallTimeoutError, match=r"^stuck: no answer within 0\.02s$"):
            await worker.call("stuck", lambda: gate.wait(10), timeout=0.02)
        assert worker.timeouts == 1
        stuck = worker.stuck
        assert stuck is not None and stuck[0] == "stuck" and stuck[1] >= 0.02
        with pytest.raises(GpuCallTimeoutError, match=r"^next: not started, stuck has not"):
            await worker.call("next", lambda: 1, timeout=5)
        gate.set()
        await eventually(lambda: worker.stuck is None)
        assert await worker.call("next", lambda: 2, timeout=5) == 2
    finally:
        gate.set()
        worker.close()


async def test_a_cancelled_caller_leaves_the_call_to_finish_in_the_thread() -> None:
    worker = CallWorker("test")
    gate = threading.Event()
    done = threading.Event()

    def slow() -> None:
        gate.wait(10)
        done.set()

    try:
        task = asyncio.create_task(worker.call("slow", slow, timeout=10), name="caller")
        await asyncio.sleep(0.01)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        gate.set()
        assert await asyncio.to_thread(done.wait, 5)
    finally:
        gate.set()
        worker.close()


async def test_a_patient_call_waits_for_the_running_one_to_return() -> None:
    worker = CallWorker("test")
    gate = threading.Event()
    try:
        with pytest.raises(GpuCallTimeoutError):
            await worker.call("slow", lambda: gate.wait(10), timeout=0.01)
        asyncio.get_running_loop().call_later(0.02, gate.set)
        assert await worker.call("after", lambda: 3, timeout=5, patience=5) == 3
        gate.clear()
        with pytest.raises(GpuCallTimeoutError):
            await worker.call("slow", lambda: gate.wait(10), timeout=0.01)
        with pytest.raises(GpuCallTimeoutError, match="not started"):
            await worker.call("impatient", lambda: 4, timeout=5, patience=0.01)
    finally:
        gate.set()
        worker.close()
