"""checks.py directly: interpreting results, telling async from sync, running one check."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Coroutine, Iterator

import pytest

from healthwatch.aio import ManualClock
from healthwatch.health.checks import (
    CheckOutcome,
    CheckPolicy,
    LoopThread,
    interpret,
    interpret_error,
    is_async,
    start_run,
)
from healthwatch.model.health import HealthStatus


@pytest.fixture
def loop_thread() -> Iterator[LoopThread]:
    thread = LoopThread(name="test-check-loop")
    yield thread
    thread.close()


def test_interpret_keeps_outcome_metadata() -> None:
    outcome = interpret(CheckOutcome(status=HealthStatus.DEGRADED, metadata={"a": "1"}))
    assert outcome.status is HealthStatus.DEGRADED
    assert outcome.metadata == {"a": "1"}


def test_interpret_error_names_the_exception() -> None:
    assert interpret_error(OSError("refused")).message == "OSError: refused"
    assert interpret_error(TimeoutError()).message == "TimeoutError"
    assert interpret_error(RuntimeError("x" * 2000)).message.endswith("…")


def test_is_async() -> None:
    async def coroutine_function() -> bool:
        return True

    class AsyncCallable:
        async def __call__(self) -> bool:
            return True

    assert is_async(coroutine_function)
    assert is_async(AsyncCallable())
    assert is_async(functools.partial(coroutine_function))

    def returns_a_coroutine() -> Coroutine[None, None, bool]:
        return coroutine_function()

    assert not is_async(lambda: True)
    assert not is_async(returns_a_coroutine)


def test_inline_run_finishes_before_returning(clock: ManualClock, loop_thread: LoopThread) -> None:
    run = start_run(
        "c",
        lambda: False,
        CheckPolicy(inline=True, timeout=3),
        clock=clock,
        loop=lambda: loop_thread.loop,
    )
    assert run.future.done()
    assert run.future.result().status is HealthStatus.UNHEALTHY
    assert run.started_mono == clock.monotonic()
    assert run.deadline == clock.monotonic() + 3
    assert not run.settled


def test_async_run_goes_to_the_given_loop(clock: ManualClock, loop_thread: LoopThread) -> None:
    async def check() -> HealthStatus:
        assert asyncio.get_running_loop() is loop_thread.loop
        return HealthStatus.DEGRADED

    run = start_run("c", check, CheckPolicy(), clock=clock, loop=lambda: loop_thread.loop)
    assert run.future.result(timeout=5).status is HealthStatus.DEGRADED


def test_async_run_times_out_on_its_own(clock: ManualClock, loop_thread: LoopThread) -> None:
    async def hang() -> bool:
        await asyncio.Event().wait()
        return True

    run = start_run(
        "c", hang, CheckPolicy(timeout=0.02), clock=clock, loop=lambda: loop_thread.loop
    )
    outcome = run.future.result(timeout=5)
    assert outcome.status is HealthStatus.UNHEALTHY
    assert outcome.message == "timed out after 0.02s"


def test_timeout_error_raised_by_a_check_is_not_mistaken_for_its_deadline(
    clock: ManualClock, loop_thread: LoopThread
) -> None:
    async def check() -> bool:
        raise TimeoutError("upstream took too long")

    run = start_run("c", check, CheckPolicy(), clock=clock, loop=lambda: loop_thread.loop)
    assert run.future.result(timeout=5).message == "TimeoutError: upstream took too long"


def test_sync_run_in_thread(clock: ManualClock, loop_thread: LoopThread) -> None:
    run = start_run("c", lambda: None, CheckPolicy(), clock=clock, loop=lambda: loop_thread.loop)
    assert run.future.result(timeout=5).status is HealthStatus.HEALTHY


def test_loop_thread_close_is_idempotent() -> None:
    thread = LoopThread(name="test-close")
    assert not thread.loop.is_closed()
    thread.close()
    assert thread.loop.is_closed()
    thread.close()
