"""Pulled checks: calling a user's function safely from a probe.

A check is a sync or async callable returning ``None``/``True`` (healthy),
``False`` (unhealthy), a :class:`HealthStatus` or a :class:`CheckOutcome`;
an exception means unhealthy. A probe must answer within its own deadline
whatever the check does, so each run goes to its own daemon thread (sync) or
to an event loop (async) and is awaited with a timeout: no signals, usable
from any thread, and a check that hangs for ever is never started twice
(single flight) because its run stays in flight until it returns.
"""

from __future__ import annotations

import concurrent.futures
import inspect
import threading
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import TypeAlias

from healthwatch.aio.clock import Clock
from healthwatch.model.health import HealthStatus

TYPE_CHECKING = False  # asyncio is imported only once an async check runs
if TYPE_CHECKING:
    import asyncio

__all__ = [
    "CheckFunc",
    "CheckOutcome",
    "CheckPolicy",
    "CheckRun",
    "LoopThread",
    "interpret",
    "interpret_error",
    "run_inline",
    "start_run",
]


@dataclass(frozen=True, slots=True, kw_only=True)
class CheckOutcome:
    """What a check may return when a bare status is not enough."""

    status: HealthStatus
    """The observed status."""
    message: str = ""
    """Why; shown to callers allowed to see details."""
    metadata: Mapping[str, str] | None = None
    """Optional detail (replaces the previous metadata when given)."""


CheckValue: TypeAlias = bool | HealthStatus | CheckOutcome | None
CheckFunc: TypeAlias = Callable[[], CheckValue | Awaitable[CheckValue]]

_MAX_MESSAGE = 512


@dataclass(frozen=True, slots=True, kw_only=True)
class CheckPolicy:
    """How a pulled check is run and cached."""

    timeout: float = 2.0
    """Seconds a run may take before it counts as failed."""
    success_ttl: float = 1.0
    """Seconds a HEALTHY/DEGRADED result is reused before the check runs again."""
    failure_ttl: float = 1.0
    """Seconds an UNHEALTHY result is reused; shorter recovers sooner, longer spares the target."""
    interval: float | None = None
    """Run in the background every ``interval`` seconds instead of on demand."""
    jitter: float = 0.1
    """Fraction of ``interval`` by which background runs are spread at random."""
    inline: bool = False
    """Run in the probing thread: only for cheap checks that cannot block (watchdogs)."""

    def __post_init__(self) -> None:
        if self.timeout <= 0:
            raise ValueError(f"check timeout must be positive, got {self.timeout}")
        if self.success_ttl < 0 or self.failure_ttl < 0:
            raise ValueError("check TTLs must not be negative")
        if self.interval is not None and self.interval <= 0:
            raise ValueError(f"check interval must be positive, got {self.interval}")
        if not 0 <= self.jitter < 1:
            raise ValueError(f"check jitter must be in [0, 1), got {self.jitter}")


def _clip(text: str) -> str:
    return text if len(text) <= _MAX_MESSAGE else text[: _MAX_MESSAGE - 1] + "…"


def interpret(value: object) -> CheckOutcome:
    """Turn whatever a check returned into an outcome; anything unexpected is unhealthy."""
    if value is None or value is True:
        return CheckOutcome(status=HealthStatus.HEALTHY)
    if value is False:
        return CheckOutcome(status=HealthStatus.UNHEALTHY, message="check returned False")
    if isinstance(value, HealthStatus):
        return CheckOutcome(status=value)
    if isinstance(value, CheckOutcome):
        return CheckOutcome(
            status=value.status, message=_clip(value.message), metadata=value.metadata
        )
    return CheckOutcome(
        status=HealthStatus.UNHEALTHY,
        message=f"check returned an unsupported value of type {type(value).__name__}",
    )


def interpret_error(error: BaseException) -> CheckOutcome:
    """An exception from a check: unhealthy, with the exception named."""
    text = str(error)
    name = type(error).__name__
    return CheckOutcome(
        status=HealthStatus.UNHEALTHY, message=_clip(f"{name}: {text}" if text else name)
    )


class LoopThread:
    """A private event loop on a daemon thread, for async checks when no loop is given."""

    def __init__(self, name: str = "healthwatch-health-loop") -> None:
        import asyncio  # noqa: PLC0415 - only services with async checks pay for asyncio

        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        import asyncio  # noqa: PLC0415 - loaded by __init__ already

        asyncio.set_event_loop(self.loop)
        self.loop.run_forever()

    def close(self) -> None:
        """Stop the loop and wait briefly for its thread."""
        if self.loop.is_closed():
            return
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(timeout=2)
        if not self._thread.is_alive():
            self.loop.close()


@dataclass(slots=True, kw_only=True)
class CheckRun:
    """One run of a check, in flight or finished."""

    started_mono: float
    deadline: float
    future: concurrent.futures.Future[CheckOutcome]
    settled: bool = False
    """True once its outcome (or its timeout) has been recorded."""
    timed_out: bool = False


def run_inline(func: CheckFunc) -> CheckOutcome:
    """Call a check in this thread and interpret what it did; never raises."""
    try:
        value = func()
        if inspect.isawaitable(value):
            import asyncio  # noqa: PLC0415 - a sync check that returned an awaitable

            value = asyncio.run(_await(value))
        return interpret(value)
    except BaseException as error:  # a check's failure is its result, even SystemExit
        return interpret_error(error)


async def _await(value: Awaitable[CheckValue]) -> CheckValue:
    return await value


async def _guarded(value: Awaitable[CheckValue]) -> CheckOutcome:
    # Runs as a task of its own under wait_for: a task that lets SystemExit or
    # KeyboardInterrupt escape re-raises it out of the event loop, stopping the loop.
    import asyncio  # noqa: PLC0415 - running in a loop: asyncio is loaded

    try:
        return interpret(await value)
    except asyncio.CancelledError:
        raise
    except BaseException as error:  # a check's failure is its result, even SystemExit
        return interpret_error(error)


async def _call_async(func: CheckFunc, limit: float) -> CheckOutcome:
    import asyncio  # noqa: PLC0415 - running in a loop: asyncio is loaded

    try:
        value = func()
        if inspect.isawaitable(value):
            return await asyncio.wait_for(_guarded(value), limit)
        return interpret(value)
    except TimeoutError:
        return CheckOutcome(status=HealthStatus.UNHEALTHY, message=f"timed out after {limit:g}s")
    except asyncio.CancelledError:
        raise  # the registry cancelled the run (its timeout): the task must end cancelled
    except BaseException as error:  # as in _guarded: never let it stop the loop
        return interpret_error(error)


def is_async(func: CheckFunc) -> bool:
    """True for coroutine functions, including callable objects with an async ``__call__``."""
    return inspect.iscoroutinefunction(func) or inspect.iscoroutinefunction(
        getattr(func, "__call__", None)  # noqa: B004 - the method, not callability
    )


def start_run(
    name: str,
    func: CheckFunc,
    policy: CheckPolicy,
    *,
    clock: Clock,
    loop: Callable[[], asyncio.AbstractEventLoop],
) -> CheckRun:
    """Start one run in its own thread (sync) or on ``loop()`` (async); return at once."""
    started = clock.monotonic()
    run = CheckRun(
        started_mono=started,
        deadline=started + policy.timeout,
        future=concurrent.futures.Future(),
    )
    if is_async(func):
        import asyncio  # noqa: PLC0415 - loop() has loaded it

        run.future = asyncio.run_coroutine_threadsafe(_call_async(func, policy.timeout), loop())
    else:
        future = run.future

        def target() -> None:
            if future.set_running_or_notify_cancel():
                future.set_result(run_inline(func))

        threading.Thread(target=target, name=f"healthwatch-check-{name}", daemon=True).start()
    return run
