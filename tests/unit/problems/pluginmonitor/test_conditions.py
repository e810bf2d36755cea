"""node-problem-detector's condition mapping for plugin results, case by case; persistence."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from healthwatch.aio.processes import PluginStatus
from healthwatch.model.problems import ConditionStatus, Severity
from healthwatch.problems.pluginmonitor.conditions import PluginConditionBook
from healthwatch.problems.pluginmonitor.specs import DefaultCondition
from healthwatch.problems.statefile import load_state, save_state

NTP = DefaultCondition(type="NTPProblem", reason="NTPIsUp", message="ntp service is up")
OTHER = DefaultCondition(type="Other", reason="OtherFine", message="fine")
OK, BAD, UNKNOWN = PluginStatus.OK, PluginStatus.FAILING, PluginStatus.UNKNOWN
T, F, U = ConditionStatus.TRUE, ConditionStatus.FALSE, ConditionStatus.UNKNOWN


def _book(start: ConditionStatus, *, message_change: bool = False) -> PluginConditionBook:
    book = PluginConditionBook([NTP, OTHER], now=1.0, message_change_updates=message_change)
    if start is T:
        book.apply("NTPProblem", status=BAD, reason="NTPIsDown", message="was down", at=2.0)
    elif start is U:
        book.apply("NTPProblem", status=UNKNOWN, reason="NTPIsDown", message="was unknown", at=2.0)
    return book


# (start, result, rule reason, output) -> (status, reason, message) or None for no change
MAPPING = [
    (F, OK, "NTPIsDown", "all good", None),
    (F, BAD, "NTPIsDown", "ntp down", (T, "NTPIsDown", "ntp down")),
    (F, UNKNOWN, "NTPIsDown", "cannot tell", (U, "NTPIsUp", "cannot tell")),
    (T, OK, "NTPIsDown", "all good", (F, "NTPIsUp", "ntp service is up")),
    (T, UNKNOWN, "NTPIsDown", "cannot tell", (U, "NTPIsUp", "cannot tell")),
    (T, BAD, "NTPIsDown", "was down", None),
    (T, BAD, "NTPIsDown", "still down, new words", None),
    (T, BAD, "NTPIsSlow", "slow", (T, "NTPIsSlow", "slow")),
    (U, OK, "NTPIsDown", "all good", (F, "NTPIsUp", "ntp service is up")),
    (U, BAD, "NTPIsDown", "ntp down", (T, "NTPIsDown", "ntp down")),
    (U, UNKNOWN, "NTPIsDown", "other words", None),
]


@pytest.mark.parametrize(("start", "result", "reason", "output", "expected"), MAPPING)
def test_npd_status_mapping(
    start: ConditionStatus,
    result: PluginStatus,
    reason: str,
    output: str,
    expected: tuple[ConditionStatus, str, str] | None,
) -> None:
    book = _book(start)
    before = book.get("NTPProblem")
    event = book.apply("NTPProblem", status=result, reason=reason, message=output, at=10.0)
    after = book.get("NTPProblem")
    assert after is not None
    if expected is None:
        assert event is None
        assert after == before
        return
    status, new_reason, message = expected
    assert (after.status, after.reason, after.message, after.transition) == (
        status,
        new_reason,
        message,
        10.0,
    )
    assert event is not None
    assert event.severity is (Severity.WARN if status is T else Severity.INFO)
    assert event.reason == new_reason
    assert event.timestamp == 10.0
    assert event.message == (
        f'Node condition NTPProblem is now: {status}, reason: {new_reason}, message: "{message}"'
    )


def test_message_change_updates_a_condition_that_stays_true() -> None:
    book = _book(T, message_change=True)
    event = book.apply("NTPProblem", status=BAD, reason="NTPIsDown", message="worse", at=5.0)
    assert event is not None
    condition = book.get("NTPProblem")
    assert condition is not None
    assert (condition.status, condition.message, condition.transition) == (T, "worse", 5.0)
    assert book.apply("NTPProblem", status=BAD, reason="NTPIsDown", message="worse", at=6) is None


def test_the_flag_does_not_make_unknown_follow_messages() -> None:
    book = _book(U, message_change=True)
    assert book.apply("NTPProblem", status=UNKNOWN, reason="R", message="new words", at=5) is None


def test_other_conditions_are_untouched_and_order_is_kept() -> None:
    book = _book(T)
    types = [c.type for c in book.conditions()]
    assert types == ["NTPProblem", "Other"]
    other = book.get("Other")
    assert other is not None
    assert (other.status, other.reason, other.message, other.transition) == (
        F,
        "OtherFine",
        "fine",
        1.0,
    )


def test_an_undeclared_condition_is_a_bug() -> None:
    book = _book(F)
    with pytest.raises(KeyError, match="Nope"):
        book.apply("Nope", status=BAD, reason="R", message="m", at=1.0)


def test_messages_are_go_quoted_in_events() -> None:
    book = _book(F)
    event = book.apply("NTPProblem", status=BAD, reason="R", message='say "x"\n', at=3.0)
    assert event is not None
    assert event.message.endswith('message: "say \\"x\\"\\n"')


def test_state_round_trip_and_retirement(tmp_path: Path) -> None:
    book = _book(T)
    path = tmp_path / "state" / "ntp.json"
    save_state(path, book.to_json())
    saved = load_state(path)
    assert saved is not None
    again = PluginConditionBook([NTP, OTHER], now=50.0)
    again.restore(saved, now=50.0)
    assert again.conditions() == book.conditions()

    fewer = PluginConditionBook([OTHER], now=60.0)
    fewer.restore(saved, now=60.0)
    first = fewer.conditions()
    assert [(c.type, c.status, c.reason) for c in first] == [
        ("Other", F, "OtherFine"),
        ("NTPProblem", F, "Retired"),
    ]
    assert first[1].transition == 60.0
    assert [c.type for c in fewer.conditions()] == ["Other"]  # retired once, then dropped


@pytest.mark.parametrize(
    "data",
    [
        {"version": 2, "conditions": []},
        {"version": 1, "conditions": "no"},
        {"version": 1, "conditions": ["no"]},
        {"version": 1, "conditions": [{"type": "NTPProblem"}]},
        {
            "version": 1,
            "conditions": [
                {
                    "type": "NTPProblem",
                    "status": "Maybe",
                    "transition": 1,
                    "reason": "r",
                    "message": "m",
                }
            ],
        },
    ],
)
def test_a_malformed_state_is_refused_and_changes_nothing(data: dict[str, object]) -> None:
    book = _book(T)
    before = book.conditions()
    with pytest.raises((ValueError, KeyError, TypeError)):
        book.restore(data, now=5.0)
    assert book.conditions() == before


def test_unreadable_state_files_mean_defaults(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    assert load_state(tmp_path / "missing.json") is None
    corrupt = tmp_path / "corrupt.json"
    corrupt.write_text("{not json", encoding="utf-8")
    big = tmp_path / "big.json"
    big.write_text(json.dumps({"pad": "x" * (1024 * 1024 + 1)}), encoding="utf-8")
    listed = tmp_path / "list.json"
    listed.write_text("[1, 2]", encoding="utf-8")
    with caplog.at_level(logging.WARNING, logger="healthwatch.problems.pluginmonitor"):
        assert load_state(corrupt) is None
        assert load_state(big) is None
        assert load_state(listed) is None
    assert "corrupt.json" in caplog.text
    assert "too large" in caplog.text
