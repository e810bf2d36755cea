"""A checks service given a new set of specs keeps state, views, schedule and history."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from healthwatch.aio.clock import ManualClock
from healthwatch.checks.alerts.dispatcher import AlertDispatcher
from healthwatch.checks.alerts.notification import AlertState, Notification
from healthwatch.checks.alertspec import build_alerting
from healthwatch.checks.changes import CheckChanges
from healthwatch.checks.engine import CheckState
from healthwatch.checks.service import CheckService
from healthwatch.checks.spec import CheckSpec, build_checks
from healthwatch.model.checks import CheckResult
from healthwatch.store.history import HistoryStore


def specs(*entries: dict[str, object]) -> list[CheckSpec]:
    return build_checks(list(entries), source="agent.yaml")


def tcp(name: str, **extra: object) -> dict[str, object]:
    # An interval of an hour on a clock that stands still: nothing runs during a test.
    return {"name": name, "kind": "tcp", "host": "127.0.0.1", "port": 1, "interval": "1h",
            **extra}  # fmt: skip


def failing(check_id: str, clock: ManualClock) -> CheckResult:
    return CheckResult(
        check_id=check_id, run_id="r", ok=False, errors=("refused",),
        started_at=clock.time(), duration=0.01,
    )  # fmt: skip


def fail(state: CheckState, check_id: str, clock: ManualClock, times: int) -> None:
    for _ in range(times):
        state.observe(failing(check_id, clock), failure_threshold=2, success_threshold=1)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
async def store(tmp_path: Path, clock: ManualClock) -> AsyncIterator[HistoryStore]:
    opened = HistoryStore(tmp_path / "history.db", clock=clock, prune_interval=None)
    await opened.open()
    yield opened
    await opened.close()


async def test_apply_keeps_what_each_check_has(store: HistoryStore, clock: ManualClock) -> None:
    earlier = CheckState()
    fail(earlier, "default/back", clock, 4)
    await store.save_state("default/back", earlier.to_dict())  # a check removed long ago
    service = CheckService(specs(tcp("same"), tcp("edited"), tcp("gone")), clock=clock, store=store)
    await service.start()
    try:
        same, edited = service.views["default/same"], service.views["default/edited"]
        fail(same.state, "default/same", clock, 3)
        fail(edited.state, "default/edited", clock, 2)
        edited.latest = failing("default/edited", clock)

        changes = await service.apply(
            specs(tcp("back"), tcp("edited", timeout="2s", port=2), tcp("same"), tcp("fresh"))
        )

        assert changes == CheckChanges(
            added=("default/back", "default/fresh"),
            changed=("default/edited",),
            removed=("default/gone",),
            unchanged=("default/same",),
        )
        assert list(service.views) == [
            "default/back", "default/edited", "default/same", "default/fresh",
        ]  # fmt: skip
        assert service.views["default/same"] is same and same.state.consecutive_failures == 3
        assert service.views["default/edited"] is edited
        assert edited.spec.timeout == 2.0 and edited.state.consecutive_failures == 2
        assert edited.state.alerting and edited.latest is not None
        assert service.views["default/back"].state.consecutive_failures == 4
        assert service.views["default/fresh"].state.consecutive_failures == 0
        assert service.scheduler.stats().scheduled == 4
        families = {f.name: f for f in service.metric_families()}
        assert len(families["healthwatch_check_runs"].samples) == 8  # ok and failed, per check
    finally:
        await service.stop()


async def test_open_alerts_follow_the_checks_that_remain(clock: ManualClock) -> None:
    alerting = build_alerting(
        {"routes": [{"name": "hook", "kind": "webhook", "url": "http://127.0.0.1:1/h"}],
         "default_routes": ["hook"]},
        source="agent.yaml",
        environ={},
    )  # fmt: skip
    service = CheckService(
        specs(tcp("a"), tcp("b")), clock=clock, alerts=AlertDispatcher(alerting, clock=clock)
    )
    await service.start()
    try:
        first = service.alerts
        assert await service.apply(specs(tcp("a"), tcp("b"))) == CheckChanges(
            unchanged=("default/a", "default/b")
        )
        assert service.alerts is first  # nothing to follow: delivery is left alone
        state = service.views["default/b"].state
        fail(state, "default/b", clock, 2)
        firing = Notification(
            check_id="default/b", namespace="default", name="b", state=AlertState.FIRING,
            sequence=state.transitions, started_at=clock.time(),
        )  # fmt: skip
        state.record(firing, ["hook"])  # not yet delivered: in the check's outbox
        await service.apply(specs(tcp("a")))
        assert service.alerts is not first and service.alerts is not None
        assert service.alerts.alerting is alerting
        await service.set_alerts(None)
        assert service.alerts is None
    finally:
        await service.stop()


async def test_apply_before_start_only_changes_the_set(clock: ManualClock) -> None:
    service = CheckService(specs(tcp("a")), clock=clock)
    await service.apply(specs(tcp("b")))
    assert list(service.views) == ["default/b"]
    assert service.scheduler.stats().scheduled == 0
