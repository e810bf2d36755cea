"""Pushed components: update, registration on the fly, deregistration, staleness."""

from __future__ import annotations

import logging
from collections.abc import Callable

import pytest

from healthwatch.aio import ManualClock
from healthwatch.health.groups import LIVENESS, READINESS, STARTUP
from healthwatch.health.registry import DEFAULT_GROUPS, HealthRegistry, UnknownComponentError
from healthwatch.model.health import ComponentStatus, HealthStatus


def test_update_records_status_message_and_metadata(
    registry: HealthRegistry, clock: ManualClock
) -> None:
    registry.register("db")
    snapshot = registry.update("db", HealthStatus.DEGRADED, "slow", {"pool": "3/10"})
    assert snapshot.status is HealthStatus.DEGRADED
    assert snapshot.message == "slow"
    assert dict(snapshot.metadata) == {"pool": "3/10"}
    assert snapshot.observed_at == clock.time()
    assert snapshot.last_success_at == clock.time()
    assert snapshot.duration is None
    assert registry.status("db") == snapshot


def test_update_accepts_status_strings_and_rejects_unknown_words(registry: HealthRegistry) -> None:
    registry.register("db")
    assert registry.update("db", "unhealthy").status is HealthStatus.UNHEALTHY
    with pytest.raises(ValueError, match="bogus"):
        registry.update("db", "bogus")


def test_metadata_is_kept_until_replaced_and_is_a_copy(registry: HealthRegistry) -> None:
    registry.register("db")
    source = {"version": "15"}
    registry.update("db", "healthy", metadata=source)
    source["version"] = "changed"
    kept = registry.update("db", "healthy")  # no metadata: the previous one stays
    assert dict(kept.metadata) == {"version": "15"}
    replaced = registry.update("db", "healthy", metadata={})
    assert dict(replaced.metadata) == {}


def test_registered_component_starts_unknown(registry: HealthRegistry) -> None:
    registry.register("db")
    status = registry.status("db")
    assert status.status is HealthStatus.UNKNOWN
    assert status.observed_at is None


def test_unregistered_update_registers_with_default_groups_and_warns(
    registry: HealthRegistry, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="healthwatch.health"):
        snapshot = registry.update("cache", "healthy")
    assert snapshot.status is HealthStatus.HEALTHY
    assert "cache" in registry
    assert DEFAULT_GROUPS == (READINESS, STARTUP)
    for group in DEFAULT_GROUPS:
        assert registry.members(group) == {"cache": True}
    assert registry.members(LIVENESS) == {}
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert "cache" in warnings[0].getMessage()


def test_unregistered_update_raises_without_auto_register(
    make_registry: Callable[..., HealthRegistry],
) -> None:
    strict = make_registry(auto_register=False)
    with pytest.raises(UnknownComponentError):
        strict.update("cache", "healthy")
    assert "cache" not in strict
    assert isinstance(UnknownComponentError("x"), KeyError)


def test_auto_register_rejects_invalid_names(registry: HealthRegistry) -> None:
    with pytest.raises(ValueError, match="invalid component name"):
        registry.update("bad name!", "healthy")
    assert "bad name!" not in registry


@pytest.mark.parametrize("name", ["", "-leading", "a..b", "x" * 129, "sp ace"])
def test_register_rejects_invalid_names(registry: HealthRegistry, name: str) -> None:
    with pytest.raises(ValueError, match="invalid component name"):
        registry.register(name)


def test_register_twice_is_an_error(registry: HealthRegistry) -> None:
    registry.register("db")
    with pytest.raises(ValueError, match="already registered"):
        registry.register("db")


def test_deregister_removes_component_and_group_memberships(registry: HealthRegistry) -> None:
    registry.register("db", groups=(READINESS, "storage"))
    registry.update("db", "unhealthy")
    assert registry.deregister("db") is True
    assert "db" not in registry
    assert registry.members(READINESS) == {}
    assert registry.members("storage") == {}
    report = registry.report()
    assert report.component("db") is None
    assert "db" not in report.probes[READINESS].members
    with pytest.raises(UnknownComponentError):
        registry.status("db")
    assert registry.deregister("db") is False


def test_deregistered_name_can_be_registered_again_fresh(registry: HealthRegistry) -> None:
    registry.register("db")
    registry.update("db", "unhealthy", "down")
    registry.deregister("db")
    registry.register("db")
    assert registry.status("db").status is HealthStatus.UNKNOWN
    assert registry.status("db").consecutive_failures == 0


def test_stale_push_turns_unknown_after_stale_after(
    make_registry: Callable[..., HealthRegistry], clock: ManualClock
) -> None:
    registry = make_registry(stale_after=30.0)
    told: list[tuple[str, HealthStatus, HealthStatus, ComponentStatus]] = []
    registry.add_observer(lambda *args: told.append(args))
    registry.register("queue")
    registry.update("queue", "healthy")
    clock.advance(30.0)
    assert registry.status("queue").status is HealthStatus.HEALTHY  # exactly at the limit
    clock.advance(0.5)
    stale = registry.status("queue")
    assert stale.status is HealthStatus.UNKNOWN
    assert "stale" in stale.message
    assert stale.changed_at == clock.time()
    assert told[-1][:3] == ("queue", HealthStatus.HEALTHY, HealthStatus.UNKNOWN)
    assert told[-1][3] == stale
    # Told once only, however often it is read afterwards.
    registry.report()
    clock.advance(100)
    registry.report()
    assert [t[:3] for t in told].count(("queue", HealthStatus.HEALTHY, HealthStatus.UNKNOWN)) == 1
    # A fresh push revives it.
    assert registry.update("queue", "healthy").status is HealthStatus.HEALTHY
    assert told[-1][:3] == ("queue", HealthStatus.UNKNOWN, HealthStatus.HEALTHY)


def test_per_component_stale_after_overrides_registry_default(
    make_registry: Callable[..., HealthRegistry], clock: ManualClock
) -> None:
    registry = make_registry(stale_after=100.0)
    registry.register("fast", stale_after=5.0)
    registry.register("slow")
    registry.update("fast", "healthy")
    registry.update("slow", "healthy")
    clock.advance(10)
    report = registry.report()
    fast, slow = report.component("fast"), report.component("slow")
    assert fast is not None and fast.status is HealthStatus.UNKNOWN
    assert slow is not None and slow.status is HealthStatus.HEALTHY


def test_stale_readiness_member_fails_readiness(
    make_registry: Callable[..., HealthRegistry], clock: ManualClock
) -> None:
    registry = make_registry(stale_after=10.0)
    registry.register("db")
    registry.update("db", "healthy")
    registry.mark_started()
    assert registry.report().probes[READINESS].passed
    clock.advance(11)
    verdict = registry.report().probes[READINESS]
    assert not verdict.passed
    assert verdict.failing == ("db",)
    assert verdict.status is HealthStatus.UNKNOWN


def test_without_stale_after_pushes_never_expire(
    registry: HealthRegistry, clock: ManualClock
) -> None:
    registry.register("db")
    registry.update("db", "healthy")
    clock.advance(10**6)
    assert registry.status("db").status is HealthStatus.HEALTHY


def test_wall_clock_step_does_not_make_a_push_stale(
    make_registry: Callable[..., HealthRegistry], clock: ManualClock
) -> None:
    registry = make_registry(stale_after=10.0)
    registry.update("db", "healthy")
    clock.set_wall(clock.time() + 3600)
    assert registry.status("db").status is HealthStatus.HEALTHY
