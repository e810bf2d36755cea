"""Pulled checks on demand: success/failure TTL caching and thresholds against flapping."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from healthwatch.aio import ManualClock
from healthwatch.health.checks import CheckOutcome, CheckPolicy
from healthwatch.health.registry import HealthRegistry
from healthwatch.health.state import Thresholds
from healthwatch.model.health import HealthStatus


class Scripted:
    """A check that returns the next scripted status on every run and counts its runs."""

    def __init__(self, *statuses: HealthStatus) -> None:
        self._statuses: Iterator[HealthStatus] = iter(statuses)
        self.calls = 0

    def __call__(self) -> CheckOutcome:
        self.calls += 1
        return CheckOutcome(status=next(self._statuses), message=f"run {self.calls}")


H, U = HealthStatus.HEALTHY, HealthStatus.UNHEALTHY


@pytest.fixture
def policy() -> CheckPolicy:
    return CheckPolicy(timeout=1, success_ttl=10, failure_ttl=2, inline=True)


def test_success_is_cached_for_success_ttl(
    registry: HealthRegistry, clock: ManualClock, policy: CheckPolicy
) -> None:
    check = Scripted(H, U)
    registry.register("db", check, policy=policy)
    assert registry.status("db").status is H
    clock.advance(9.9)
    assert registry.status("db").status is H
    registry.report()
    assert check.calls == 1
    clock.advance(0.1)
    assert registry.status("db").status is U
    assert check.calls == 2


def test_failure_is_cached_for_failure_ttl(
    registry: HealthRegistry, clock: ManualClock, policy: CheckPolicy
) -> None:
    check = Scripted(U, H)
    registry.register("db", check, policy=policy)
    assert registry.status("db").status is U
    clock.advance(1.9)
    assert registry.status("db").status is U
    assert check.calls == 1
    clock.advance(0.1)
    assert registry.status("db").status is H
    assert check.calls == 2


def test_zero_ttl_runs_on_every_probe(registry: HealthRegistry) -> None:
    check = Scripted(H, H, H)
    registry.register("db", check, policy=CheckPolicy(success_ttl=0, inline=True))
    for _ in range(3):
        registry.status("db")
    assert check.calls == 3


def test_status_reads_carry_duration_and_message(
    registry: HealthRegistry, policy: CheckPolicy
) -> None:
    registry.register("db", Scripted(H), policy=policy)
    snapshot = registry.status("db")
    assert snapshot.message == "run 1"
    assert snapshot.duration == 0.0  # inline on a manual clock: no time passes


def test_failure_threshold_tolerates_blips(
    registry: HealthRegistry, clock: ManualClock, policy: CheckPolicy
) -> None:
    check = Scripted(H, U, U, H, U, U, U)
    registry.register("db", check, policy=policy, thresholds=Thresholds(failures=3))
    seen = [registry.status("db")]
    for _ in range(6):
        clock.advance(10)
        seen.append(registry.status("db"))
    assert [s.status for s in seen] == [H, H, H, H, H, H, U]
    assert [s.consecutive_failures for s in seen] == [0, 1, 2, 0, 1, 2, 3]
    assert check.calls == 7


def test_tolerated_failure_says_so(
    registry: HealthRegistry, clock: ManualClock, policy: CheckPolicy
) -> None:
    registry.register("db", Scripted(H, U), policy=policy, thresholds=Thresholds(failures=2))
    registry.status("db")
    clock.advance(10)
    snapshot = registry.status("db")
    assert snapshot.status is H
    assert snapshot.message == "run 2 (failure 1/2 tolerated)"
    assert snapshot.consecutive_failures == 1


def test_success_threshold_delays_recovery(
    registry: HealthRegistry, clock: ManualClock, policy: CheckPolicy
) -> None:
    check = Scripted(U, H, U, H, H)
    registry.register("db", check, policy=policy, thresholds=Thresholds(successes=2))
    seen = [registry.status("db").status]
    for _ in range(4):
        clock.advance(10)
        seen.append(registry.status("db").status)
    assert seen == [U, U, U, U, H]
    assert check.calls == 5


def test_recovering_message_counts_successes(
    registry: HealthRegistry, clock: ManualClock, policy: CheckPolicy
) -> None:
    registry.register("db", Scripted(U, H), policy=policy, thresholds=Thresholds(successes=3))
    registry.status("db")
    clock.advance(10)
    snapshot = registry.status("db")
    assert snapshot.status is U
    assert snapshot.message == "recovering (1/3 successes): run 2"


def test_first_observation_is_taken_as_is(registry: HealthRegistry, policy: CheckPolicy) -> None:
    """Thresholds guard a settled status; from UNKNOWN the first result counts at once."""
    registry.register("db", Scripted(U), policy=policy, thresholds=Thresholds(failures=5))
    assert registry.status("db").status is U


def test_thresholds_apply_to_pushes_too(registry: HealthRegistry) -> None:
    registry.register("queue", thresholds=Thresholds(failures=2, successes=2))
    assert registry.update("queue", "healthy").status is H
    assert registry.update("queue", "unhealthy").status is H
    assert registry.update("queue", "unhealthy").status is U
    assert registry.update("queue", "healthy").status is U
    assert registry.update("queue", "healthy").status is H


def test_status_of_unknown_name_raises(registry: HealthRegistry) -> None:
    with pytest.raises(KeyError):
        registry.status("nope")


@pytest.mark.parametrize(
    "kwargs",
    [
        {"timeout": 0},
        {"timeout": -1},
        {"success_ttl": -1},
        {"failure_ttl": -0.5},
        {"interval": 0},
        {"jitter": 1.0},
        {"jitter": -0.1},
    ],
)
def test_invalid_policies_raise(kwargs: dict[str, float]) -> None:
    with pytest.raises(ValueError, match="check"):
        CheckPolicy(**kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize("kwargs", [{"failures": 0}, {"successes": 0}])
def test_invalid_thresholds_raise(kwargs: dict[str, int]) -> None:
    with pytest.raises(ValueError, match="at least 1"):
        Thresholds(**kwargs)
