"""The run bookkeeping of one pulled check: when it is due, what is in flight, what is cached.

Separated from the registry so the rules read in one place: a result is cached
for its TTL; a run still in flight is joined, never started again; a run past
its timeout is settled as a failure once, and while it keeps hanging every
expired TTL counts one more failure (so failure thresholds still trip); a run
that finishes after its timeout has its result dropped. All methods are called
under the registry's lock.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass

from healthwatch.aio.clock import Clock
from healthwatch.health.checks import CheckFunc, CheckOutcome, CheckPolicy, CheckRun, start_run
from healthwatch.model.health import HealthStatus

TYPE_CHECKING = False  # asyncio only for types: importing this stays cheap
if TYPE_CHECKING:
    import asyncio

__all__ = ["PulledCheck"]


@dataclass(slots=True, kw_only=True)
class PulledCheck:
    """A check callable with its policy and the state of its runs."""

    name: str
    func: CheckFunc
    policy: CheckPolicy
    run: CheckRun | None = None
    fresh_until: float = float("-inf")
    next_due: float | None = None
    """When the next background run is due: its slot plus jitter."""
    slot: float | None = None
    """The planned time of the next background run before jitter; slots are one interval apart."""

    @property
    def background(self) -> bool:
        """True when the check runs on its own interval rather than on demand."""
        return self.policy.interval is not None

    def schedule_first(self, now: float, rng: random.Random) -> None:
        """Place the first background run at a random point early in the first interval."""
        if self.policy.interval is not None:
            self.slot = now + rng.uniform(0, self.policy.interval * self.policy.jitter)
            self.next_due = self.slot

    def due(self, now: float) -> bool:
        """Whether a run (or a fresh result) is due now."""
        due = self.next_due if self.background else self.fresh_until
        return due is None or now >= due

    def _reschedule(self, now: float, rng: random.Random) -> None:
        interval = self.policy.interval
        if interval is None:
            return
        spread = interval * self.policy.jitter
        base = self.slot if self.slot is not None else now
        # Next slot from the planned slot, neither from now nor from the jittered time:
        # no drift, and jitter does not accumulate. Skip slots already missed.
        nxt = base + interval
        if nxt <= now:
            nxt = now + interval
        self.slot = nxt
        self.next_due = nxt + rng.uniform(-spread, spread)

    def claim_inline(self, now: float, rng: random.Random) -> bool:
        """An inline check: True if it is due, in which case the caller runs it now."""
        if not self.due(now):
            return False
        self._reschedule(now, rng)
        return True

    def poll(
        self,
        now: float,
        *,
        clock: Clock,
        loop: Callable[[], asyncio.AbstractEventLoop],
        rng: random.Random,
    ) -> tuple[CheckRun | None, CheckOutcome | None]:
        """If due, start a run (or, when one hangs, report it as a failure).

        Returns the run to wait for (None if nothing is pending) and an outcome to
        record right away (the hanging case).
        """
        if not self.due(now):
            return (self.run if self.run and not self.run.settled else None), None
        if self.run is not None:
            if not self.run.settled:
                self._reschedule(now, rng)  # a background slot taken by the run in flight
                return self.run, None
            self._reschedule(now, rng)
            self.fresh_until = now + self.policy.failure_ttl
            hung = now - self.run.started_mono
            return None, CheckOutcome(
                status=HealthStatus.UNHEALTHY,
                message=f"still running {hung:.1f}s after it started; not started again",
            )
        self.run = start_run(self.name, self.func, self.policy, clock=clock, loop=loop)
        self._reschedule(now, rng)
        return self.run, None

    def settle(self, run: CheckRun, *, timed_out: bool) -> bool:
        """Claim the right to record ``run``'s outcome; False if it was recorded already,
        or if ``run`` is not this check's flight (a run of a component since deregistered)."""
        if run.settled or self.run is not run:
            return False
        run.settled = True
        run.timed_out = timed_out
        if not timed_out:
            self.run = None
        return True

    def finish(self, run: CheckRun) -> bool:
        """The run's future completed after it was settled as timed out: the flight ends.

        Returns True if that ended this check's flight (its late result is dropped).
        """
        if self.run is run:
            self.run = None
            return True
        return False

    def cache(self, status: HealthStatus, now: float) -> None:
        """Keep a recorded result for the TTL that fits it."""
        ttl = self.policy.success_ttl if status.is_up else self.policy.failure_ttl
        self.fresh_until = now + ttl
