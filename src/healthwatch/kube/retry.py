"""How long one API call may take and how it is retried: timeouts, backoff with jitter, Retry-After.

Every call to the API server runs under a deadline. A call that fails with
something worth trying again (429 Too Many Requests, a 5xx, a timeout, a
connection error: :class:`KubeUnavailable`) is retried after an exponential
backoff with jitter, or after the server's ``Retry-After`` when that is longer
(capped, so a server cannot park us forever). Anything else (404, 409, 422...)
is raised at once: retrying would not change the answer.

The sleeping function is injected, so tests check the delays without waiting.
"""

from __future__ import annotations

import asyncio
import math
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import TypeVar

from healthwatch.aio.backoff import Backoff
from healthwatch.kube.errors import KubeError, KubeUnavailable

__all__ = ["RetryPolicy", "Sleep", "call_with_retries", "parse_retry_after"]

T = TypeVar("T")
Sleep = Callable[[float], Awaitable[None]]
"""Waits the given number of seconds (``asyncio.sleep`` in production)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class RetryPolicy:
    """Deadlines and retries of every call a :class:`KubeClient` makes."""

    timeout: float = 10.0
    """Seconds one attempt of one call may take, connection included."""
    attempts: int = 5
    """Tries per call, the first included (1 means no retry)."""
    backoff_initial: float = 0.2
    """First delay between tries, in seconds."""
    backoff_max: float = 10.0
    """Cap on the delay between tries."""
    jitter: float = 0.5
    """Fraction of each delay taken off at random, so clients failing together spread out."""
    max_retry_after: float = 60.0
    """Cap on a server's ``Retry-After``."""
    watch_timeout: int = 290
    """Seconds after which the server ends a watch stream (it is then resumed); also the idle
    limit after which a silent stream is treated as dead."""

    def __post_init__(self) -> None:
        numbers = {
            "timeout": self.timeout,
            "backoff_initial": self.backoff_initial,
            "backoff_max": self.backoff_max,
            "max_retry_after": self.max_retry_after,
            "watch_timeout": self.watch_timeout,
        }
        for name, value in numbers.items():
            if not math.isfinite(value) or value <= 0:
                raise ValueError(f"retry policy {name} must be a positive number, got {value!r}")
        if self.attempts < 1:
            raise ValueError(f"retry policy attempts must be at least 1, got {self.attempts!r}")
        if self.backoff_max < self.backoff_initial:
            raise ValueError("retry policy backoff_max must not be below backoff_initial")
        if not 0 <= self.jitter <= 1:
            raise ValueError(f"retry policy jitter must be between 0 and 1, got {self.jitter!r}")

    def backoff(self, rng: random.Random | None = None) -> Backoff:
        """A fresh backoff following this policy."""
        return Backoff(
            initial=self.backoff_initial,
            maximum=self.backoff_max,
            jitter=self.jitter,
            rng=rng or random.Random(),  # noqa: S311 - jitter, not cryptography
        )


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """Seconds asked for by a ``Retry-After`` header (delta-seconds or HTTP date); None if absent
    or unreadable."""
    if not value:
        return None
    text = value.strip()
    try:
        seconds = float(text)
    except ValueError:
        try:
            when = parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        seconds = (when - (now or datetime.now(UTC))).total_seconds()
    if not math.isfinite(seconds):
        return None
    return max(0.0, seconds)


def _timed_out(timeout: float, operation: str) -> KubeUnavailable:
    return KubeUnavailable(f"no answer within {timeout:g}s", reason="Timeout", operation=operation)


async def call_with_retries(
    attempt: Callable[[], Awaitable[T]],
    *,
    operation: str,
    policy: RetryPolicy,
    sleep: Sleep = asyncio.sleep,
    rng: random.Random | None = None,
) -> T:
    """Run ``attempt`` under the policy's deadline, retrying on :class:`KubeUnavailable`.

    ``attempt`` raises :class:`KubeError` (already translated) on failure; its
    ``retry_after``, when set, is honoured up to the policy's cap.
    After the last try the last error is raised, saying how many tries were made.
    """
    backoff = policy.backoff(rng)
    for number in range(1, policy.attempts + 1):
        try:
            async with asyncio.timeout(policy.timeout):
                return await attempt()
        except TimeoutError:
            error: KubeError = _timed_out(policy.timeout, operation)
        except KubeUnavailable as failure:
            error = failure
        if number == policy.attempts:
            break
        delay = backoff.failure()
        if error.retry_after is not None:
            delay = max(delay, min(error.retry_after, policy.max_retry_after))
        await sleep(delay)
    suffix = f" (gave up after {policy.attempts} tries)" if policy.attempts > 1 else ""
    raise KubeUnavailable(
        f"{error.message}{suffix}", code=error.code, reason=error.reason, operation=operation
    ) from error
