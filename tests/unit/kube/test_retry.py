"""Retry policy and the retry loop, with an injected sleep that records instead of waiting."""

from __future__ import annotations

import asyncio
import random
from datetime import UTC, datetime

import pytest

from healthwatch.kube.errors import (
    KubeAlreadyExists,
    KubeConflict,
    KubeError,
    KubeForbidden,
    KubeGone,
    KubeInvalid,
    KubeNotFound,
    KubeUnavailable,
    error_for_status,
)
from healthwatch.kube.retry import RetryPolicy, call_with_retries, parse_retry_after
from healthwatch.model.errors import HealthwatchError


class Sleeps:
    """An injected sleep: records the delays, waits for none."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)


class Script:
    """An attempt that fails with the given errors, then returns ``"ok"``."""

    def __init__(self, *errors: KubeError) -> None:
        self.errors = list(errors)
        self.calls = 0

    async def __call__(self) -> str:
        self.calls += 1
        if self.errors:
            raise self.errors.pop(0)
        return "ok"


POLICY = RetryPolicy(timeout=1.0, attempts=4, backoff_initial=0.1, backoff_max=0.4, jitter=0.0)


@pytest.mark.parametrize(
    ("code", "reason", "kind"),
    [
        (400, "BadRequest", KubeInvalid),
        (401, "Unauthorized", KubeForbidden),
        (403, "Forbidden", KubeForbidden),
        (404, "NotFound", KubeNotFound),
        (409, "Conflict", KubeConflict),
        (409, "AlreadyExists", KubeAlreadyExists),
        (410, "Expired", KubeGone),
        (422, "Invalid", KubeInvalid),
        (429, "TooManyRequests", KubeUnavailable),
        (500, "InternalError", KubeUnavailable),
        (503, "ServiceUnavailable", KubeUnavailable),
        (418, "Teapot", KubeError),
    ],
)
def test_error_for_status(code: int, reason: str, kind: type[KubeError]) -> None:
    error = error_for_status(code, reason=reason, message="why", operation="get nodes/a")
    assert type(error) is kind
    assert isinstance(error, HealthwatchError)
    assert (error.code, error.reason, error.message) == (code, reason, "why")
    assert str(error) == "get nodes/a: why"


async def test_retries_unavailable_then_succeeds_with_growing_backoff() -> None:
    sleeps = Sleeps()
    attempt = Script(KubeUnavailable("busy", code=500), KubeUnavailable("busy", code=503))
    result = await call_with_retries(attempt, operation="op", policy=POLICY, sleep=sleeps)
    assert result == "ok"
    assert attempt.calls == 3
    assert sleeps.delays == [0.1, 0.2]


async def test_honours_retry_after_up_to_the_cap() -> None:
    sleeps = Sleeps()
    policy = RetryPolicy(attempts=3, backoff_initial=0.1, jitter=0.0, max_retry_after=5.0)
    attempt = Script(
        KubeUnavailable("slow down", code=429, retry_after=2.0),
        KubeUnavailable("slow down", code=429, retry_after=3600.0),
    )
    assert await call_with_retries(attempt, operation="op", policy=policy, sleep=sleeps) == "ok"
    assert sleeps.delays == [2.0, 5.0]


async def test_gives_up_after_the_attempts_naming_them() -> None:
    sleeps = Sleeps()
    attempt = Script(*[KubeUnavailable("down", code=500, reason="InternalError")] * 10)
    with pytest.raises(KubeUnavailable, match=r"op: down \(gave up after 4 tries\)") as caught:
        await call_with_retries(attempt, operation="op", policy=POLICY, sleep=sleeps)
    assert attempt.calls == 4
    assert (caught.value.code, caught.value.reason) == (500, "InternalError")
    assert len(sleeps.delays) == 3


@pytest.mark.parametrize(
    "error", [KubeConflict("stale", code=409), KubeNotFound("gone", code=404), KubeInvalid("bad")]
)
async def test_other_errors_are_not_retried(error: KubeError) -> None:
    sleeps = Sleeps()
    attempt = Script(error)
    with pytest.raises(type(error)):
        await call_with_retries(attempt, operation="op", policy=POLICY, sleep=sleeps)
    assert attempt.calls == 1
    assert sleeps.delays == []


async def test_each_try_has_a_deadline() -> None:
    calls = 0

    async def hang() -> str:
        nonlocal calls
        calls += 1
        await asyncio.sleep(10)
        return "never"

    policy = RetryPolicy(timeout=0.02, attempts=2, backoff_initial=0.01, jitter=0.0)
    with pytest.raises(KubeUnavailable, match=r"no answer within 0\.02s") as caught:
        await call_with_retries(hang, operation="op", policy=policy, sleep=Sleeps())
    assert calls == 2
    assert caught.value.reason == "Timeout"


async def test_jitter_stays_within_the_policy() -> None:
    sleeps = Sleeps()
    policy = RetryPolicy(attempts=6, backoff_initial=1.0, backoff_max=4.0, jitter=0.5)
    attempt = Script(*[KubeUnavailable("x")] * 5)
    await call_with_retries(
        attempt,
        operation="op",
        policy=policy,
        sleep=sleeps,
        rng=random.Random(7),  # noqa: S311 - reproducible jitter
    )
    caps = [1.0, 2.0, 4.0, 4.0, 4.0]
    assert all(cap / 2 <= delay <= cap for delay, cap in zip(sleeps.delays, caps, strict=True))


@pytest.mark.parametrize(
    "options",
    [
        {"timeout": 0},
        {"timeout": float("nan")},
        {"attempts": 0},
        {"backoff_initial": -1},
        {"backoff_initial": 2.0, "backoff_max": 1.0},
        {"jitter": 1.5},
        {"watch_timeout": 0},
    ],
)
def test_policy_refuses_nonsense(options: dict[str, float]) -> None:
    with pytest.raises(ValueError, match="retry policy"):
        RetryPolicy(**options)  # type: ignore[arg-type]


def test_parse_retry_after() -> None:
    now = datetime(2026, 1, 1, 12, 0, 0, tzinfo=UTC)
    assert parse_retry_after("3") == 3.0
    assert parse_retry_after(" 0.5 ") == 0.5
    assert parse_retry_after("-4") == 0.0
    assert parse_retry_after("Thu, 01 Jan 2026 12:00:30 GMT", now=now) == 30.0
    assert parse_retry_after("Thu, 01 Jan 2026 11:00:00 GMT", now=now) == 0.0
    for bad in (None, "", "soon", "inf", "nan", "Thu, 99 Foo"):
        assert parse_retry_after(bad) is None
