"""The hourly repair budget on a manual clock, and its saved history."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from healthwatch.aio.clock import ManualClock
from healthwatch.problems.servicemonitor.repair import BUDGET_WINDOW, RepairBudget


def test_sliding_hour() -> None:
    clock = ManualClock()
    budget = RepairBudget(2, clock=clock)
    assert not budget.exhausted() and budget.refills_in() == 0.0
    budget.spend()
    clock.advance(600)
    budget.spend()
    assert budget.exhausted() and budget.used() == 2
    assert budget.refills_in() == BUDGET_WINDOW - 600
    clock.advance(BUDGET_WINDOW - 600)
    assert not budget.exhausted() and budget.used() == 1


def test_history_survives_a_restart(tmp_path: Path) -> None:
    clock = ManualClock()
    path = tmp_path / "state" / "m.json"
    first = RepairBudget(3, clock=clock, path=path)
    first.spend()
    clock.advance(100)
    first.spend()
    saved = json.loads(path.read_text())["repairs"]
    assert saved == [clock.time() - 100, clock.time()]
    clock.advance(BUDGET_WINDOW - 50)
    second = RepairBudget(3, clock=clock, path=path)
    second.load()
    assert second.used() == 1  # the first repair is more than an hour old


@pytest.mark.parametrize(
    "text",
    [
        "not json",
        "[]",
        '{"repairs": 5}',
        '{"repairs": ["x", true, null, 1e400, NaN]}',
        "",
    ],
)
def test_unreadable_history_is_ignored(tmp_path: Path, text: str) -> None:
    path = tmp_path / "m.json"
    path.write_text(text)
    budget = RepairBudget(1, clock=ManualClock(), path=path)
    budget.load()
    assert budget.used() == 0


def test_future_repairs_are_ignored_and_saving_may_fail(tmp_path: Path) -> None:
    clock = ManualClock()
    path = tmp_path / "m.json"
    path.write_text(json.dumps({"repairs": [clock.time() + 999, clock.time() - 10]}))
    budget = RepairBudget(2, clock=clock, path=path)
    budget.load()
    assert budget.used() == 1
    blocked = RepairBudget(1, clock=clock, path=tmp_path / "m.json" / "under-a-file.json")
    blocked.spend()  # cannot save: logged, and the repair still counts
    assert blocked.exhausted()
