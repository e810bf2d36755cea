"""Exponential backoff with full jitter, as pure arithmetic.

Kept free of sleeping so that both threads and coroutines use it, and tests
check the delays without waiting for them.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

__all__ = ["Backoff"]


@dataclass(slots=True, kw_only=True)
class Backoff:
    """Delays that double after each failure up to a cap, reset by a success.

    With ``jitter`` the delay is drawn uniformly from ``[delay * (1 - jitter), delay]``
    so that many clients that failed together do not retry together.
    """

    initial: float = 1.0
    """First delay after a failure, in seconds."""
    maximum: float = 60.0
    """Cap on the delay."""
    factor: float = 2.0
    """Growth per consecutive failure."""
    jitter: float = 0.5
    """Fraction of the delay that may be taken off at random (0 to 1)."""
    rng: random.Random = field(default_factory=random.Random)
    """Source of randomness; seed it for reproducible delays."""
    failures: int = 0
    """Consecutive failures so far."""

    def __post_init__(self) -> None:
        if self.initial <= 0 or self.maximum < self.initial:
            raise ValueError(
                f"backoff needs 0 < initial <= maximum, got initial={self.initial}, "
                f"maximum={self.maximum}"
            )
        if self.factor < 1:
            raise ValueError(f"backoff factor must be at least 1, got {self.factor}")
        if not 0 <= self.jitter <= 1:
            raise ValueError(f"backoff jitter must be between 0 and 1, got {self.jitter}")

    def failure(self) -> float:
        """Record a failure and return how long to wait before the next try."""
        exponent = min(self.failures, 64)
        self.failures += 1
        try:
            delay = min(self.maximum, self.initial * self.factor**exponent)
        except OverflowError:  # a large factor passes any float range long before 64 failures
            delay = self.maximum
        return delay - self.rng.uniform(0, delay * self.jitter)

    def success(self) -> None:
        """Record a success: the next failure starts again from ``initial``."""
        self.failures = 0
