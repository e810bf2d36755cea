"""The field rules of Kuberhealthy manifests: Go durations exactly as Go reads them."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from healthwatch.checks.khfields import Problems, parse_go_duration, string_map


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("0", 0.0),
        ("300ms", 0.3),
        ("1h30m", 5400.0),
        ("1.5h", 5400.0),
        (".5s", 0.5),
        ("1.s", 1.0),
        ("2h45m30.5s", 9930.5),
        ("10us", 1e-5),
        ("10µs", 1e-5),
        ("+5m", 300.0),
        ("-5m", -300.0),
        ("100ns", 1e-7),
    ],
)
def test_go_durations(text: str, seconds: float) -> None:
    assert parse_go_duration(text) == pytest.approx(seconds)


@pytest.mark.parametrize("text", ["", "5", "1d", "5 m", "m", "1h 30m", "1.2.3s", "-", "0s0", "∞s"])
def test_not_go_durations(text: str) -> None:
    with pytest.raises(ValueError, match="not a Go duration"):
        parse_go_duration(text)


@given(st.integers(0, 10_000), st.integers(0, 59), st.integers(0, 59))
def test_go_durations_add_up(hours: int, minutes: int, seconds: int) -> None:
    assert (
        parse_go_duration(f"{hours}h{minutes}m{seconds}s") == hours * 3600 + minutes * 60 + seconds
    )


_GO_GRAMMAR = re.compile(r"[-+]?(0|(([0-9]+\.?[0-9]*|\.[0-9]+)(ns|us|µs|μs|ms|s|m|h))+)")


@given(st.text(max_size=40))
def test_any_text_is_a_go_duration_or_a_value_error(text: str) -> None:
    if _GO_GRAMMAR.fullmatch(text):
        assert isinstance(parse_go_duration(text), float)
    else:
        with pytest.raises(ValueError, match="not a Go duration"):
            parse_go_duration(text)


def test_only_ascii_digits_count() -> None:
    with pytest.raises(ValueError, match="not a Go duration"):
        parse_go_duration("\u0661s")  # ARABIC-INDIC DIGIT ONE: Python reads it, Go does not


@pytest.mark.parametrize(
    "key",
    ["app", "app.kubernetes.io/name", "example.com/a_b-c.d", "A1", "x" * 63, "a.b/" + "c" * 63],
)
def test_valid_label_keys(key: str) -> None:
    problems = Problems(source="f", lines={})
    assert string_map(problems, "spec.extraLabels", {"extraLabels": {key: "v"}}, labels=True) == {
        key: "v"
    }
    assert problems.found == []


@pytest.mark.parametrize("key", ["", "/x", "a/b/c", "-x", "x-", "x" * 64, "Example.com/x", "a b"])
def test_invalid_label_keys(key: str) -> None:
    problems = Problems(source="f", lines={"spec.extraLabels": 7})
    assert string_map(problems, "spec.extraLabels", {"extraLabels": {key: "v"}}, labels=True) == {}
    assert problems.messages() == [
        f"f:7: spec.extraLabels.{key}: not a valid key: [prefix/]name, name at most 63 "
        f"characters (got {key!r})"
    ]


def test_annotation_values_are_any_text_but_label_values_are_not() -> None:
    problems = Problems(source="f", lines={}, line=3, label="X ns/n: ")
    text = {"notes": {"a": "any text: with spaces, colons; and more than 63 characters " * 2}}
    assert string_map(problems, "spec.notes", text, labels=False) == text["notes"]
    assert string_map(problems, "spec.notes", text, labels=True) == {}
    assert problems.messages() == [
        "f:3: X ns/n: spec.notes.a: not a valid label value: at most 63 letters, digits, "
        f"'-', '_', '.' (got {text['notes']['a']!r:.120})"
    ]


def test_a_problem_takes_the_line_of_its_nearest_field() -> None:
    problems = Problems(source="f", lines={"spec": 4, "spec.podSpec.containers[1]": 9}, line=1)
    problems.add("spec.podSpec.containers[1].env[0].value", "bad", 1)
    problems.add("spec.timeout", "missing")
    problems.add("kind", "wrong", "X")
    assert problems.messages() == [
        "f:1: kind: wrong (got 'X')",
        "f:4: spec.timeout: missing",
        "f:9: spec.podSpec.containers[1].env[0].value: bad (got 1)",
    ]
