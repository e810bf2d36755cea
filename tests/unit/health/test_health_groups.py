"""Probe groups: membership, required vs optional members, the UNKNOWN policy, exclude."""

from __future__ import annotations

import pytest

from healthwatch.health.groups import (
    LIVENESS,
    READINESS,
    STARTUP,
    ProbeGroup,
    UnknownPolicy,
    judge,
)
from healthwatch.health.registry import HealthRegistry, UnknownComponentError
from healthwatch.model.health import ComponentStatus, HealthStatus, Lifecycle

H, D, U, K = (
    HealthStatus.HEALTHY,
    HealthStatus.DEGRADED,
    HealthStatus.UNHEALTHY,
    HealthStatus.UNKNOWN,
)


def _statuses(**by_name: HealthStatus) -> dict[str, ComponentStatus]:
    return {name: ComponentStatus(name=name, status=s) for name, s in by_name.items()}


def test_builtin_groups_exist_and_liveness_starts_empty(registry: HealthRegistry) -> None:
    assert set(registry.groups) >= {LIVENESS, READINESS, STARTUP}
    registry.register("db")
    assert registry.members(LIVENESS) == {}
    assert registry.members(READINESS) == {"db": True}
    assert registry.members(STARTUP) == {"db": True}


def test_named_groups_and_membership_changes(registry: HealthRegistry) -> None:
    registry.add_group("storage")
    registry.register("db", groups=("storage",))
    registry.register("cache", groups=())
    registry.add_member("storage", "cache", required=False)
    assert registry.members("storage") == {"db": True, "cache": False}
    registry.add_member("storage", "cache")  # now required
    assert registry.members("storage") == {"db": True, "cache": True}
    registry.remove_member("storage", "db")
    assert registry.members("storage") == {"cache": True}
    assert "db" in registry
    with pytest.raises(UnknownComponentError):
        registry.add_member("storage", "ghost")
    with pytest.raises(UnknownComponentError):
        registry.members("no-such-group")
    with pytest.raises(ValueError, match="invalid group name"):
        registry.register("x", groups=("bad group",))


def test_named_group_verdict(registry: HealthRegistry) -> None:
    registry.register("db", groups=("storage",))
    registry.register("s3", groups=("storage",))
    registry.update("db", "healthy")
    registry.update("s3", "unhealthy", "403")
    verdict = registry.report().probes["storage"]
    assert not verdict.passed
    assert verdict.members == ("db", "s3")
    assert verdict.failing == ("s3",)
    assert verdict.reason == "s3 unhealthy"
    assert verdict.status is U


def test_optional_member_failing_only_degrades(registry: HealthRegistry) -> None:
    registry.register("db")
    registry.register("search", required=False)
    registry.update("db", "healthy")
    registry.update("search", "unhealthy")
    verdict = registry.report().probes[READINESS]
    assert verdict.passed
    assert verdict.status is D
    assert verdict.reason == "degraded"
    assert verdict.failing == ()


@pytest.mark.parametrize(
    ("policy", "passed", "status"),
    [
        (UnknownPolicy.FAIL, False, K),
        (UnknownPolicy.PASS, True, H),
        (UnknownPolicy.DEGRADED, True, D),
    ],
)
def test_unknown_policy(policy: UnknownPolicy, passed: bool, status: HealthStatus) -> None:
    group = ProbeGroup(name="g", unknown_policy=policy, members={"a": True, "b": True})
    verdict = judge(group, _statuses(a=H, b=K), lifecycle=Lifecycle.READY, started=True)
    assert verdict.passed is passed
    assert verdict.status is status
    assert verdict.failing == (() if passed else ("b",))


def test_default_unknown_policies(registry: HealthRegistry) -> None:
    registry.register("loop", groups=(LIVENESS, READINESS, "named"))
    registry.mark_started()
    report = registry.report()
    assert report.probes[LIVENESS].passed  # never restart what has not reported
    assert not report.probes[READINESS].passed
    assert not report.probes["named"].passed
    assert report.probes[READINESS].reason == "loop unknown"


def test_add_group_sets_unknown_policy(registry: HealthRegistry) -> None:
    registry.add_group("soft", unknown_policy=UnknownPolicy.DEGRADED)
    registry.register("new", groups=("soft",))
    verdict = registry.report().probes["soft"]
    assert verdict.passed
    assert verdict.status is D
    registry.add_group("soft", unknown_policy=UnknownPolicy.FAIL)  # changed in place
    assert not registry.report().probes["soft"].passed
    assert registry.members("soft") == {"new": True}


def test_member_missing_from_statuses_counts_as_unknown() -> None:
    group = ProbeGroup(name="g", members={"ghost": True})
    verdict = judge(group, {}, lifecycle=Lifecycle.READY, started=True)
    assert not verdict.passed
    assert verdict.reason == "ghost missing"


def test_exclude_drops_members_from_verdicts(registry: HealthRegistry) -> None:
    registry.register("db")
    registry.register("cache")
    registry.update("db", "unhealthy")
    registry.update("cache", "healthy")
    registry.mark_started()
    assert not registry.report().probes[READINESS].passed
    verdict = registry.report(exclude=("db",)).probes[READINESS]
    assert verdict.passed
    assert verdict.members == ("cache",)


def test_exclude_skips_running_the_excluded_check(registry: HealthRegistry) -> None:
    ran: list[str] = []

    def check() -> None:
        ran.append("db")

    registry.register("db", check)
    registry.report(exclude=("db",))
    assert ran == []


def test_empty_group_passes() -> None:
    verdict = judge(ProbeGroup(name="g"), {}, lifecycle=Lifecycle.READY, started=True)
    assert verdict.passed
    assert verdict.reason == "ok"
    assert verdict.members == ()


def test_worst_status_ranks_unhealthy_over_unknown_over_degraded() -> None:
    group = ProbeGroup(name="g", members={"a": True, "b": True, "c": True})
    worst = judge(group, _statuses(a=D, b=K, c=U), lifecycle=Lifecycle.READY, started=True)
    assert worst.status is U
    assert worst.failing == ("b", "c")
    middle = judge(group, _statuses(a=D, b=K, c=H), lifecycle=Lifecycle.READY, started=True)
    assert middle.status is K


def test_members_keep_registration_order(registry: HealthRegistry) -> None:
    for name in ("c", "a", "b"):
        registry.register(name)
    report = registry.report()
    assert report.probes[READINESS].members == ("c", "a", "b")
    assert [c.name for c in report.components] == ["c", "a", "b"]
