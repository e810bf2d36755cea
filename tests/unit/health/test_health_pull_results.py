"""Pulled checks: what a check may return or raise, and where sync and async checks run."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Awaitable, Callable

import pytest

from healthwatch.health.checks import CheckOutcome, CheckPolicy, CheckValue
from healthwatch.health.registry import HealthRegistry
from healthwatch.model.health import HealthStatus

POLICY = CheckPolicy(timeout=2.0, success_ttl=0, failure_ttl=0)


def _returning(value: object) -> Callable[[], CheckValue]:
    def check() -> CheckValue:
        return value  # type: ignore[return-value]  # unsupported values on purpose

    return check


@pytest.mark.parametrize(
    ("value", "status"),
    [
        (None, HealthStatus.HEALTHY),
        (True, HealthStatus.HEALTHY),
        (False, HealthStatus.UNHEALTHY),
        (HealthStatus.DEGRADED, HealthStatus.DEGRADED),
        (HealthStatus.UNHEALTHY, HealthStatus.UNHEALTHY),
        (HealthStatus.UNKNOWN, HealthStatus.UNKNOWN),
    ],
)
def test_sync_check_return_values(
    registry: HealthRegistry, value: CheckValue, status: HealthStatus
) -> None:
    registry.register("c", _returning(value), policy=POLICY)
    snapshot = registry.status("c")
    assert snapshot.status is status
    assert snapshot.duration is not None
    assert snapshot.duration >= 0


def test_false_says_why(registry: HealthRegistry) -> None:
    registry.register("c", _returning(False), policy=POLICY)
    assert registry.status("c").message == "check returned False"


def test_check_outcome_carries_message_and_metadata(registry: HealthRegistry) -> None:
    outcome = CheckOutcome(status=HealthStatus.DEGRADED, message="lag 40s", metadata={"lag": "40"})
    registry.register("c", _returning(outcome), policy=POLICY)
    snapshot = registry.status("c")
    assert snapshot.status is HealthStatus.DEGRADED
    assert snapshot.message == "lag 40s"
    assert dict(snapshot.metadata) == {"lag": "40"}


def test_long_messages_are_clipped(registry: HealthRegistry) -> None:
    outcome = CheckOutcome(status=HealthStatus.UNHEALTHY, message="x" * 5000)
    registry.register("c", _returning(outcome), policy=POLICY)
    message = registry.status("c").message
    assert len(message) == 512
    assert message.endswith("…")


@pytest.mark.parametrize("value", [1, 0, "healthy", [], {"status": "ok"}, 3.5])
def test_unsupported_return_values_are_unhealthy(registry: HealthRegistry, value: object) -> None:
    registry.register("c", _returning(value), policy=POLICY)
    snapshot = registry.status("c")
    assert snapshot.status is HealthStatus.UNHEALTHY
    assert f"unsupported value of type {type(value).__name__}" in snapshot.message


@pytest.mark.parametrize(
    ("error", "message"),
    [
        (RuntimeError("connection refused"), "RuntimeError: connection refused"),
        (ValueError(), "ValueError"),
        (SystemExit(3), "SystemExit: 3"),
        (KeyboardInterrupt(), "KeyboardInterrupt"),
    ],
)
def test_sync_check_exceptions_are_unhealthy(
    registry: HealthRegistry, error: BaseException, message: str
) -> None:
    def check() -> None:
        raise error

    registry.register("c", check, policy=POLICY)
    snapshot = registry.status("c")
    assert snapshot.status is HealthStatus.UNHEALTHY
    assert snapshot.message == message


def test_sync_check_runs_off_the_probing_thread(registry: HealthRegistry) -> None:
    seen: list[str] = []

    def check() -> bool:
        seen.append(threading.current_thread().name)
        return True

    registry.register("db", check, policy=POLICY)
    assert registry.status("db").status is HealthStatus.HEALTHY
    assert seen == ["healthwatch-check-db"]


def test_inline_check_runs_in_the_probing_thread(registry: HealthRegistry) -> None:
    seen: list[threading.Thread] = []

    def check() -> bool:
        seen.append(threading.current_thread())
        return True

    registry.register("cheap", check, policy=CheckPolicy(inline=True, success_ttl=0))
    assert registry.status("cheap").status is HealthStatus.HEALTHY
    assert seen == [threading.current_thread()]


def test_async_check_runs_on_the_private_loop_thread(registry: HealthRegistry) -> None:
    seen: list[str] = []

    async def check() -> HealthStatus:
        asyncio.get_running_loop()
        seen.append(threading.current_thread().name)
        return HealthStatus.DEGRADED

    registry.register("a", check, policy=POLICY)
    assert registry.status("a").status is HealthStatus.DEGRADED
    assert registry.status("a").status is HealthStatus.DEGRADED
    assert seen == ["healthwatch-health-loop", "healthwatch-health-loop"]


def test_async_check_runs_on_the_loop_passed_in(
    make_registry: Callable[..., HealthRegistry], running_loop: asyncio.AbstractEventLoop
) -> None:
    registry = make_registry(loop=running_loop)
    loops: list[asyncio.AbstractEventLoop] = []

    async def check() -> bool:
        loops.append(asyncio.get_running_loop())
        return True

    registry.register("a", check, policy=POLICY)
    assert registry.status("a").status is HealthStatus.HEALTHY
    assert loops == [running_loop]


def test_callable_object_with_async_call_is_awaited(registry: HealthRegistry) -> None:
    class Probe:
        async def __call__(self) -> CheckOutcome:
            return CheckOutcome(status=HealthStatus.HEALTHY, message="pong")

    registry.register("obj", Probe(), policy=POLICY)
    snapshot = registry.status("obj")
    assert snapshot.status is HealthStatus.HEALTHY
    assert snapshot.message == "pong"


def test_sync_function_returning_an_awaitable_is_awaited(registry: HealthRegistry) -> None:
    async def inner() -> bool:
        return False

    def wrapper() -> Awaitable[bool]:  # a plain function that returns an awaitable
        return inner()

    registry.register("wrapped", wrapper, policy=POLICY)
    assert registry.status("wrapped").status is HealthStatus.UNHEALTHY


@pytest.mark.parametrize("error", [RuntimeError("boom"), SystemExit(2), KeyboardInterrupt()])
def test_async_check_exceptions_are_unhealthy_and_the_loop_survives(
    registry: HealthRegistry, error: BaseException
) -> None:
    async def failing() -> bool:
        raise error

    async def fine() -> bool:
        return True

    registry.register("bad", failing, policy=POLICY)
    registry.register("good", fine, policy=POLICY)
    bad = registry.status("bad")
    assert bad.status is HealthStatus.UNHEALTHY
    assert bad.message.startswith(type(error).__name__)
    # The loop that ran the failing check still runs the others.
    assert registry.status("good").status is HealthStatus.HEALTHY
    assert registry.status("bad").status is HealthStatus.UNHEALTHY


def test_async_system_exit_does_not_stop_an_application_loop(
    make_registry: Callable[..., HealthRegistry], running_loop: asyncio.AbstractEventLoop
) -> None:
    registry = make_registry(loop=running_loop)

    async def failing() -> bool:
        raise SystemExit(1)

    registry.register("bad", failing, policy=POLICY)
    assert registry.status("bad").status is HealthStatus.UNHEALTHY
    assert running_loop.is_running()
    probe = asyncio.run_coroutine_threadsafe(asyncio.sleep(0, result="alive"), running_loop)
    assert probe.result(timeout=5) == "alive"


def test_async_check_that_overruns_is_cancelled_and_unhealthy(
    make_registry: Callable[..., HealthRegistry],
) -> None:
    registry = make_registry(probe_timeout=5.0)
    cancelled = threading.Event()

    async def slow() -> bool:
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            cancelled.set()
            raise
        return True

    registry.register("slow", slow, policy=CheckPolicy(timeout=0.02, failure_ttl=0))
    snapshot = registry.status("slow")
    assert snapshot.status is HealthStatus.UNHEALTHY
    assert "timed out after 0.02s" in snapshot.message
    assert cancelled.wait(timeout=5)
