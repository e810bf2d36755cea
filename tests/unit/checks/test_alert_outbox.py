"""The outbox in the check state: record, settle, survive a JSON round trip, tolerate old dicts."""

from __future__ import annotations

import json

import pytest

from healthwatch.checks.alerts.notification import MAX_ERRORS, AlertState, Notification
from healthwatch.checks.state import MAX_PENDING, CheckState
from healthwatch.model.checks import CheckResult


def _result(ok: bool, at: float) -> CheckResult:
    errors = () if ok else ("status < 400 (observed status=503)",)
    return CheckResult(
        check_id="default/web", run_id=f"r{at}", ok=ok, errors=errors, started_at=at, duration=0.1
    )


def _notification(state: CheckState, at: float) -> Notification:
    firing = state.alerting
    return Notification(
        check_id="default/web",
        namespace="default",
        name="web",
        state=AlertState.FIRING if firing else AlertState.RESOLVED,
        sequence=state.transitions,
        errors=("boom",) if firing else (),
        labels={"team": "x"},
        started_at=state.alert_started_at or at,
        ended_at=None if firing else at,
        url="http://127.0.0.1:9800/checks/default/web",
    )


def _observe(state: CheckState, ok: bool, at: float, *, hold: bool = False) -> str | None:
    return state.observe(_result(ok, at), failure_threshold=2, success_threshold=1, hold=hold)


def _round_trip(state: CheckState) -> CheckState:
    return CheckState.from_dict(json.loads(json.dumps(state.to_dict())))


def test_a_transition_stays_pending_until_every_route_settles_it() -> None:
    state = CheckState()
    assert _observe(state, False, 10.0) is None
    assert _observe(state, False, 20.0) == "firing"
    assert state.transitions == 1 and state.alert_started_at == 20.0
    firing = _notification(state, 20.0)
    assert state.record(firing, ["ops", "chat"]) == []

    restored = _round_trip(state)
    assert restored == state and restored.pending[0].notification == firing
    assert restored.open_alert() is None  # still in the outbox

    assert restored.settle(1, "ops") and restored.pending[0].routes == ["chat"]
    assert not restored.settle(1, "ops")  # settling twice changes nothing
    assert not restored.settle(2, "chat")  # no such notification
    assert restored.settle(1, "chat") and restored.pending == []
    assert restored.notified == firing and restored.open_alert() == firing
    assert _round_trip(restored) == restored


def test_a_resolve_carries_the_alert_start_and_closes_the_open_alert() -> None:
    state = CheckState()
    _observe(state, False, 10.0)
    _observe(state, False, 20.0)
    state.record(_notification(state, 20.0), [])
    assert _observe(state, True, 30.0) == "resolved"
    resolved = _notification(state, 30.0)
    assert resolved.sequence == 2 and resolved.started_at == 20.0 and resolved.ended_at == 30.0
    state.record(resolved, ["ops"])
    assert state.open_alert() is None
    state.settle(2, "ops")
    assert state.notified == resolved and state.open_alert() is None


def test_a_check_with_no_routes_is_notified_at_once() -> None:
    state = CheckState()
    _observe(state, False, 1.0)
    _observe(state, False, 2.0)
    notification = _notification(state, 2.0)
    assert state.record(notification, []) == [] and state.pending == []
    assert state.notified == notification


def test_the_outbox_is_bounded_and_drops_the_oldest() -> None:
    state = CheckState()
    for i in range(MAX_PENDING + 3):
        _observe(state, False, 2 * i)
        _observe(state, False, 2 * i + 0.5)
        dropped = state.record(_notification(state, 2 * i), ["ops"])
        assert _observe(state, True, 2 * i + 1) == "resolved"
        assert len(dropped) == (1 if i >= MAX_PENDING else 0)
    assert len(state.pending) == MAX_PENDING
    # Firing notifications have odd sequence numbers; the first three were dropped.
    assert state.pending[0].notification.sequence == 2 * 3 + 1


def test_maintenance_holds_transitions_and_the_next_run_does_what_is_due() -> None:
    state = CheckState()
    assert _observe(state, False, 1.0, hold=True) is None
    assert _observe(state, False, 2.0, hold=True) is None
    assert state.consecutive_failures == 2 and not state.alerting
    assert _observe(state, False, 3.0) == "firing"
    assert _observe(state, True, 4.0, hold=True) is None
    assert CheckState.from_dict(state.to_dict()).alerting  # the resolve is held too
    assert _observe(state, True, 5.0) == "resolved"


def test_old_states_without_alert_fields_load_with_defaults() -> None:
    old = {
        "consecutive_failures": 4,
        "consecutive_successes": 0,
        "alerting": True,
        "last_ok": False,
        "last_run": 5.0,
        "last_success": 1.0,
    }
    state = CheckState.from_dict(old)
    assert state.alerting and state.transitions == 0 and state.pending == []
    assert state.notified is None and state.alert_started_at is None and state.open_alert() is None


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"pending": {}}, "pending must be a list"),
        ({"pending": [1]}, "pending alert must be a mapping"),
        ({"pending": [{"routes": ["a"]}]}, "needs its notification"),
        ({"notified": []}, "notified must be a mapping"),
        ({"notified": {"state": "firing"}}, "sequence must be a positive count"),
        ({"transitions": -1}, "transitions must be a count"),
        ({"alert_started_at": "x"}, "alert_started_at must be a time"),
    ],
)
def test_malformed_alert_fields_are_errors_naming_the_field(
    change: dict[str, object], message: str
) -> None:
    state = CheckState()
    with pytest.raises(ValueError, match=message):
        CheckState.from_dict({**state.to_dict(), **change})


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"state": "exploded"}, "state must be firing or resolved"),
        ({"errors": "x"}, "errors must be a list"),
        ({"labels": {"a": 1}}, "labels must map text to text"),
        ({"check": None}, "check must be text"),
        ({"started_at": True}, "started_at must be a time"),
        ({"sequence": 0}, "sequence must be a positive count"),
    ],
)
def test_malformed_notifications_are_errors(change: dict[str, object], message: str) -> None:
    good = _notification(CheckState(alerting=True, transitions=1), 1.0).to_dict()
    with pytest.raises(ValueError, match=message):
        Notification.from_dict({**good, **change})


def test_errors_are_capped_when_loaded() -> None:
    data = _notification(CheckState(alerting=True, transitions=1), 1.0).to_dict()
    data["errors"] = ["e" * 10_000] * 50
    loaded = Notification.from_dict(data)
    assert len(loaded.errors) == MAX_ERRORS and loaded.errors[-1] == "… and 41 more"
    assert all(len(e) <= 500 for e in loaded.errors)
