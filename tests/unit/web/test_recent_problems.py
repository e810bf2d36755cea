"""The recent-problems exporter keeps the evidence of each problem, within its bounds."""

from __future__ import annotations

import pytest

from healthwatch.exporters.recent import MAX_MESSAGE, RecentProblems
from healthwatch.model.problems import (
    Condition,
    ConditionStatus,
    Event,
    ProblemDeclaration,
    Severity,
    Status,
    StatusExporter,
)


def event(reason: str, at: float, message: str = "line", **labels: str) -> Event:
    return Event(
        severity=Severity.WARN, timestamp=at, reason=reason, message=message, labels=labels
    )


def condition(status: ConditionStatus, reason: str, at: float, message: str = "m") -> Condition:
    return Condition(
        type="DiskBroken", status=status, transition=at, reason=reason, message=message
    )


DECLARED = (
    ProblemDeclaration(reason="Boom", source="app-log", rule=r"BOOM \d+"),
    ProblemDeclaration(reason="Boom", source="app-log", rule=r"KABOOM"),
    ProblemDeclaration(reason="DiskFailed", condition="DiskBroken", source="app-log", rule="disk"),
    ProblemDeclaration(reason="OOMKilling", source="kernel"),
)


def test_it_is_an_exporter_and_declared_reasons_start_at_zero_with_their_rules() -> None:
    recent = RecentProblems()
    assert isinstance(recent, StatusExporter)
    recent.declare(DECLARED)
    boom = recent.problem("app-log", "Boom")
    assert boom is not None
    assert boom.count == 0 and boom.first_seen is None and boom.events == ()
    assert boom.rules == (r"BOOM \d+", "KABOOM")
    assert boom.declared and boom.condition is None
    disk = recent.problem("app-log", "DiskFailed")
    assert disk is not None and disk.condition == "DiskBroken"
    assert recent.problem("kernel", "Boom") is None  # reasons are per daemon
    assert recent.sources() == ["app-log", "kernel"]
    assert [p.reason for p in recent.declarations("app-log")] == ["Boom", "DiskFailed"]


async def test_events_are_counted_with_first_and_last_seen_and_the_latest_lines() -> None:
    recent = RecentProblems(events_per_reason=3)
    recent.declare(DECLARED)
    for n, at in enumerate((50.0, 10.0, 30.0, 40.0, 20.0)):
        await recent.export(Status(source="app-log", events=(event("Boom", at, f"BOOM {n}"),)))
    boom = recent.problem("app-log", "Boom")
    assert boom is not None
    assert boom.count == 5
    assert (boom.first_seen, boom.last_seen) == (10.0, 50.0)  # by the lines' own times
    assert [e.message for e in boom.events] == ["BOOM 4", "BOOM 3", "BOOM 2"]  # newest first
    assert next(p.reason for p in recent.problems()) == "Boom"  # seen ones before unseen


async def test_undeclared_reasons_are_kept_and_said_to_be_undeclared() -> None:
    recent = RecentProblems()
    await recent.export(Status(source="app-log", events=(event("DiskRepaired", 5.0),)))
    found = recent.problem("app-log", "DiskRepaired")
    assert found is not None and found.count == 1 and not found.declared
    assert recent.declarations("app-log") == []


async def test_labels_are_sorted_and_long_messages_capped() -> None:
    recent = RecentProblems()
    huge = "x" * (MAX_MESSAGE * 3)
    await recent.export(Status(source="gpu", events=(event("Xid", 1.0, huge, z="1", a="2"),)))
    (seen,) = recent.timeline()
    assert len(seen.message) == MAX_MESSAGE and seen.message.endswith("…")
    assert seen.labels == (("a", "2"), ("z", "1"))


async def test_conditions_keep_their_current_state_and_earlier_ones() -> None:
    recent = RecentProblems(history_per_condition=2)
    clear = condition(ConditionStatus.FALSE, "DiskIsFine", 1.0)
    await recent.export(Status(source="app-log", conditions=(clear,)))
    await recent.export(Status(source="app-log", conditions=(clear,)))  # unchanged: no news
    version = recent.version
    raised = condition(ConditionStatus.TRUE, "DiskFailed", 2.0, "disk failed at noon")
    await recent.export(Status(source="app-log", conditions=(raised,)))
    assert recent.version == version + 1
    (record,) = recent.conditions()
    assert record.raised and record.current == raised
    assert record.previous == (clear,)
    for at in (3.0, 4.0, 5.0):
        flip = condition(ConditionStatus.FALSE if at % 2 else ConditionStatus.TRUE, "R", at)
        await recent.export(Status(source="app-log", conditions=(flip,)))
    (record,) = recent.conditions()
    assert record.current.transition == 5.0
    assert [c.transition for c in record.previous] == [4.0, 3.0]  # bounded


async def test_raised_conditions_come_first() -> None:
    recent = RecentProblems()
    ok = Condition(type="A", status=ConditionStatus.FALSE, transition=1, reason="Fine", message="")
    bad = Condition(type="Z", status=ConditionStatus.TRUE, transition=1, reason="Bad", message="")
    await recent.export(Status(source="b", conditions=(ok,)))
    await recent.export(Status(source="a", conditions=(ok, bad)))
    assert [(c.source, c.current.type) for c in recent.conditions()] == [
        ("a", "Z"),
        ("a", "A"),
        ("b", "A"),
    ]


async def test_the_limits_hold_and_what_is_not_kept_is_counted() -> None:
    recent = RecentProblems(max_reasons=2, timeline=3, max_conditions=1)
    for n in range(5):
        await recent.export(Status(source="flood", events=(event(f"R{n}", float(n)),)))
    assert len(recent.problems()) == 2
    assert [e.reason for e in recent.timeline()] == ["R4", "R3", "R2"]
    assert recent.timeline(0) == []
    assert recent.overflow == 3
    two = (
        Condition(type="A", status=ConditionStatus.TRUE, transition=1, reason="R", message=""),
        Condition(type="B", status=ConditionStatus.TRUE, transition=1, reason="R", message=""),
    )
    await recent.export(Status(source="flood", conditions=two))
    assert len(recent.conditions()) == 1
    assert recent.overflow == 4


@pytest.mark.parametrize("field", ["events_per_reason", "timeline", "max_reasons"])
def test_limits_below_one_are_refused(field: str) -> None:
    with pytest.raises(ValueError, match=field):
        RecentProblems(**{field: 0})
