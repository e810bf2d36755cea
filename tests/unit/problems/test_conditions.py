"""Conditions that clear, survive restarts, and retire when their rules go away."""

from __future__ import annotations

from pathlib import Path

import pytest

from healthwatch.model.problems import ConditionStatus, Severity
from healthwatch.problems.logmonitor.conditions import ConditionBook
from healthwatch.problems.logmonitor.specs import DefaultCondition
from healthwatch.problems.statefile import load_state, save_state

DEADLOCK = DefaultCondition(
    type="KernelDeadlock", reason="KernelHasNoDeadlock", message="kernel has no deadlock"
)
XFS = DefaultCondition(
    type="XfsShutdown", reason="XfsHasNotShutDown", message="XFS has not shutdown"
)


def book(*defaults: DefaultCondition, now: float = 1000.0) -> ConditionBook:
    return ConditionBook(defaults or (DEADLOCK, XFS), now=now)


def test_defaults_are_false_with_their_reason() -> None:
    conditions = book().conditions()
    assert [(c.type, c.status, c.reason) for c in conditions] == [
        ("KernelDeadlock", ConditionStatus.FALSE, "KernelHasNoDeadlock"),
        ("XfsShutdown", ConditionStatus.FALSE, "XfsHasNotShutDown"),
    ]
    assert all(c.transition == 1000.0 for c in conditions)


def test_set_true_reports_a_change_event_once_per_reason() -> None:
    b = book()
    change = b.set_true(
        "KernelDeadlock", reason="DockerHung", message="task docker blocked", at=1010.0
    )
    assert change is not None
    assert change.condition.status is ConditionStatus.TRUE
    assert change.event.severity is Severity.WARN
    assert change.event.message == (
        "Node condition KernelDeadlock is now: True, reason: DockerHung, "
        'message: "task docker blocked"'
    )
    assert b.set_true("KernelDeadlock", reason="DockerHung", message="again", at=1011.0) is None
    other = b.set_true("KernelDeadlock", reason="ContainerdHung", message="x", at=1012.0)
    assert other is not None and other.condition.reason == "ContainerdHung"
    assert other.condition.transition == 1012.0


def test_undeclared_condition_is_an_error() -> None:
    with pytest.raises(KeyError, match="Nope"):
        book().set_true("Nope", reason="R", message="m", at=1.0)


def test_recovery_sets_false_and_only_once() -> None:
    b = book()
    assert b.set_false("KernelDeadlock", at=1001.0) is None  # already false
    b.set_true("KernelDeadlock", reason="DockerHung", message="m", at=1002.0)
    change = b.set_false(
        "KernelDeadlock", at=1003.0, reason="DockerRecovered", message="docker answers"
    )
    assert change is not None
    assert (change.condition.status, change.condition.reason) == (
        ConditionStatus.FALSE,
        "DockerRecovered",
    )
    assert change.event.severity is Severity.INFO
    assert b.set_false("KernelDeadlock", at=1004.0) is None


def test_clear_after_without_new_match() -> None:
    b = book()
    b.set_true("XfsShutdown", reason="XfsHasShutdown", message="m", at=1000.0, clear_after=60)
    assert b.next_expiry() == 1060.0
    assert b.expire(1059.0) == []
    b.set_true("XfsShutdown", reason="XfsHasShutdown", message="m", at=1050.0, clear_after=60)
    assert b.expire(1100.0) == []  # the new match restarted the clock
    changes = b.expire(1110.0)
    assert len(changes) == 1
    cleared = changes[0].condition
    assert (cleared.status, cleared.reason) == (ConditionStatus.FALSE, "XfsHasNotShutDown")
    assert "no new match for 60s" in cleared.message
    assert b.next_expiry() is None


def test_a_rule_without_clear_after_never_expires() -> None:
    b = book()
    b.set_true("XfsShutdown", reason="XfsHasShutdown", message="m", at=1000.0)
    assert b.expire(10**9) == []
    assert b.get("XfsShutdown") is not None
    assert b.get("XfsShutdown").status is ConditionStatus.TRUE  # type: ignore[union-attr]


def test_state_survives_a_restart(tmp_path: Path) -> None:
    b = book()
    b.set_true("KernelDeadlock", reason="DockerHung", message="m", at=1005.0, clear_after=30)
    path = tmp_path / "conditions" / "kernel.json"
    save_state(path, b.to_json())
    restarted = book(now=2000.0)
    saved = load_state(path)
    assert saved is not None
    restarted.restore(saved, now=2000.0)
    current = restarted.get("KernelDeadlock")
    assert current is not None
    assert (current.status, current.reason, current.transition) == (
        ConditionStatus.TRUE,
        "DockerHung",
        1005.0,
    )  # no flap: the transition time is kept
    assert restarted.next_expiry() == 1035.0


def test_removed_conditions_are_retired_once(tmp_path: Path) -> None:
    old = book()
    old.set_true("XfsShutdown", reason="XfsHasShutdown", message="m", at=1000.0)
    path = tmp_path / "state.json"
    save_state(path, old.to_json())
    new = book(DEADLOCK, now=2000.0)  # the XFS rules were removed from the config
    saved = load_state(path)
    assert saved is not None
    new.restore(saved, now=2000.0)
    first = {c.type: c for c in new.conditions()}
    assert first["XfsShutdown"].status is ConditionStatus.FALSE
    assert first["XfsShutdown"].reason == "Retired"
    assert [c.type for c in new.conditions()] == ["KernelDeadlock"]  # then dropped


@pytest.mark.parametrize(
    "content",
    [b"", b"{not json", b"[1, 2]", b'{"version": 99, "conditions": []}', b"\xff\xfe"],
)
def test_unreadable_state_starts_from_defaults(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "state.json"
    path.write_bytes(content)
    saved = load_state(path)
    b = book()
    if saved is not None:
        with pytest.raises(ValueError, match="saved condition state"):
            b.restore(saved, now=1.0)
    assert all(c.status is ConditionStatus.FALSE for c in b.conditions())


def test_missing_and_oversized_state(tmp_path: Path) -> None:
    assert load_state(tmp_path / "absent.json") is None
    big = tmp_path / "big.json"
    big.write_text('{"pad": "' + "x" * (2 * 1024 * 1024) + '"}')
    assert load_state(big) is None


def test_save_is_atomic_and_leaves_no_temporary_file(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "dir" / "state.json"
    save_state(path, {"version": 1, "conditions": []})
    save_state(path, {"version": 1, "conditions": []})
    assert sorted(p.name for p in path.parent.iterdir()) == ["state.json"]
