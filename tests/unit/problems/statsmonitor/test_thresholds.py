"""Pressure conditions with hysteresis: set at the high mark, cleared at the low mark, per mount."""

from __future__ import annotations

from pathlib import Path

import pytest

from healthwatch.model.problems import ConditionStatus, Severity
from healthwatch.problems.statsmonitor.collectors import CollectOptions, collect
from healthwatch.problems.statsmonitor.thresholds import (
    DEFAULT_CONDITIONS,
    Threshold,
    ThresholdBook,
)
from tests.unit.problems.statsmonitor.fakehost import FakeHost

MEMORY = Threshold(
    key="memory_available_percent",
    condition="MemoryPressure",
    reason="MemoryAvailableLow",
    direction="below",
    set_at=10,
    clear_at=15,
)
DISK = Threshold(
    key="disk_used_percent",
    condition="DiskPressure",
    reason="DiskSpaceLow",
    direction="above",
    set_at=90,
    clear_at=85,
)
INODES = Threshold(
    key="inodes_used_percent",
    condition="DiskPressure",
    reason="InodesLow",
    direction="above",
    set_at=90,
    clear_at=85,
)


class Rounds:
    """A fake host and a book judged round by round."""

    def __init__(self, root: Path, *thresholds: Threshold) -> None:
        self.host = FakeHost(root)
        types = dict.fromkeys(t.condition for t in thresholds)
        self.book = ThresholdBook(thresholds, [DEFAULT_CONDITIONS[t] for t in types], now=0.0)
        self.at = 0.0
        watch = tuple(p for t in thresholds for p in (t.mounts or ()))
        self.options = CollectOptions(watch_paths=watch)

    def step(self) -> tuple[bool, list[str]]:
        self.at += 10
        snap = collect(self.host.files(), self.options, monotonic=self.at, wall=self.at)
        changed, events = self.book.update(snap, now=self.at)
        return changed, [e.message for e in events]

    def condition(self, type_: str) -> tuple[ConditionStatus, str, str, float]:
        (found,) = [c for c in self.book.conditions() if c.type == type_]
        return found.status, found.reason, found.message, found.transition


def test_memory_pressure_sets_below_the_low_mark_and_clears_above_the_high_one(
    tmp_path: Path,
) -> None:
    rounds = Rounds(tmp_path, MEMORY)
    assert rounds.step() == (False, [])
    assert rounds.condition("MemoryPressure")[:2] == (ConditionStatus.FALSE, "NoMemoryPressure")
    rounds.host.set_memory_available(9.5)
    changed, events = rounds.step()
    assert changed
    status, reason, message, transition = rounds.condition("MemoryPressure")
    assert (status, reason, transition) == (ConditionStatus.TRUE, "MemoryAvailableLow", 20.0)
    assert message == "9.5% of memory available (below 10%)"
    assert events == [
        "Node condition MemoryPressure is now: True, reason: MemoryAvailableLow, "
        'message: "9.5% of memory available (below 10%)"'
    ]
    for between in (12.0, 14.9, 15.0):  # inside the band: no flapping
        rounds.host.set_memory_available(between)
        assert rounds.step() == (False, [])
        assert rounds.condition("MemoryPressure")[0] is ConditionStatus.TRUE
    rounds.host.set_memory_available(15.5)
    changed, events = rounds.step()
    assert changed and len(events) == 1
    assert rounds.condition("MemoryPressure") == (
        ConditionStatus.FALSE,
        "NoMemoryPressure",
        "memory available is above its low mark",
        60.0,
    )


def test_consecutive_samples_are_needed_both_ways(tmp_path: Path) -> None:
    slow = Threshold(
        key="memory_available_percent",
        condition="MemoryPressure",
        reason="MemoryAvailableLow",
        direction="below",
        set_at=10,
        clear_at=15,
        samples=3,
    )
    rounds = Rounds(tmp_path, slow)
    pattern = [5, 5, 50, 5, 5, 5]  # a blip in the middle restarts the count
    statuses = []
    for percent in pattern:
        rounds.host.set_memory_available(percent)
        rounds.step()
        statuses.append(rounds.condition("MemoryPressure")[0] is ConditionStatus.TRUE)
    assert statuses == [False, False, False, False, False, True]
    for percent, expected in ((50, True), (50, True), (50, False)):
        rounds.host.set_memory_available(percent)
        rounds.step()
        assert (rounds.condition("MemoryPressure")[0] is ConditionStatus.TRUE) is expected


def test_disk_pressure_space_reason_comes_before_inodes(tmp_path: Path) -> None:
    rounds = Rounds(tmp_path, DISK, INODES)
    rounds.host.set_fs("/", blocks=1000, free=100, available=100, inodes=100, inodes_free=5)
    rounds.step()  # 90.0 % of space is not above 90: only inodes hold
    status, reason, message, _ = rounds.condition("DiskPressure")
    assert (status, reason) == (ConditionStatus.TRUE, "InodesLow")
    assert message == "/: 95.0% of inodes used (above 90%)"
    rounds.host.set_fs("/", blocks=1000, free=50, available=50, inodes=100, inodes_free=5)
    changed, events = rounds.step()
    status, reason, message, transition = rounds.condition("DiskPressure")
    assert (status, reason, transition) == (ConditionStatus.TRUE, "DiskSpaceLow", 20.0)
    assert message == ("/: 95.0% of space used (above 90%); /: 95.0% of inodes used (above 90%)")
    assert changed and len(events) == 1  # a new reason is a change


@pytest.mark.parametrize("used", [93.0, 99.9])
def test_disk_pressure_names_every_full_mount(tmp_path: Path, used: float) -> None:
    rounds = Rounds(tmp_path, DISK, INODES)
    rounds.host.set_used_percent("/", used)
    rounds.host.set_used_percent("/data disk", 91.0)
    rounds.step()
    status, reason, message, _ = rounds.condition("DiskPressure")
    assert (status, reason) == (ConditionStatus.TRUE, "DiskSpaceLow")
    assert (
        message
        == f"/: {used:.1f}% of space used (above 90%); /data disk: 91.0% of space used (above 90%)"
    )
    rounds.host.set_used_percent("/data disk", 50.0)
    changed, events = rounds.step()
    assert changed and events == []  # still True for the same reason: message only
    assert rounds.condition("DiskPressure")[2] == f"/: {used:.1f}% of space used (above 90%)"
    rounds.host.set_used_percent("/", 10.0)
    changed, events = rounds.step()
    assert rounds.condition("DiskPressure")[0] is ConditionStatus.FALSE
    assert len(events) == 1


def test_disk_thresholds_on_listed_mounts_only(tmp_path: Path) -> None:
    watched = Threshold(
        key="disk_used_percent",
        condition="DiskPressure",
        reason="DiskSpaceLow",
        direction="above",
        set_at=90,
        clear_at=85,
        mounts=("/var/lib",),
    )
    rounds = Rounds(tmp_path, watched)
    rounds.host.set_used_percent("/", 99.0)  # not watched
    rounds.host.set_used_percent("/var/lib", 50.0)
    rounds.step()
    assert rounds.condition("DiskPressure")[0] is ConditionStatus.FALSE
    rounds.host.set_used_percent("/var/lib", 96.0)
    rounds.step()
    assert rounds.condition("DiskPressure")[2] == "/var/lib: 96.0% of space used (above 90%)"


def test_a_failing_collector_keeps_the_condition(tmp_path: Path) -> None:
    rounds = Rounds(tmp_path, MEMORY)
    rounds.host.set_memory_available(5)
    rounds.step()
    rounds.host.remove("proc/meminfo")
    assert rounds.step() == (False, [])
    assert rounds.condition("MemoryPressure")[0] is ConditionStatus.TRUE


def test_change_events_are_warnings_when_set_and_info_when_cleared(tmp_path: Path) -> None:
    rounds = Rounds(tmp_path, MEMORY)
    rounds.host.set_memory_available(5)
    rounds.step()
    snap = collect(rounds.host.files(), CollectOptions(), monotonic=1.0, wall=1.0)
    rounds.host.set_memory_available(50)
    snap = collect(rounds.host.files(), CollectOptions(), monotonic=2.0, wall=2.0)
    _, events = rounds.book.update(snap, now=99.0)
    assert [(e.severity, e.reason, e.timestamp) for e in events] == [
        (Severity.INFO, "NoMemoryPressure", 99.0)
    ]
