"""Properties of the conditions language: no input crashes the compiler or the evaluator."""

from __future__ import annotations

import math

from hypothesis import given, settings
from hypothesis import strategies as st

from healthwatch.checks.evaluate import render, render_duration
from healthwatch.checks.expressions import ConditionSyntaxError, compile_condition
from healthwatch.config.durations import parse_duration

_FRAGMENTS = [
    "status",
    "latency",
    "json",
    "headers",
    "body",
    "cert",
    ".",
    "expiry",
    "[",
    "]",
    "(",
    ")",
    ",",
    "==",
    "!=",
    "<",
    "<=",
    ">",
    ">=",
    "=",
    "and",
    "or",
    "not",
    "in",
    "matches",
    "contains",
    "true",
    "false",
    "null",
    "200",
    "-",
    "1.5",
    "300ms",
    "14d",
    "5min",
    '"UP|OK"',
    "'a\\'b'",
    '"(',
    '"',
    "'",
    "\\",
    " ",
    "0",
    "[0]",
    '["k"]',
    "µs",
    "\n",
    "é",
]

_CONDITIONS = [
    "status == 200",
    "latency < 300ms",
    "not a or b and c",
    'headers["Content-Type"] contains "json"',
    'json.items[0].name in ["db", "cache"]',
    'body matches "UP|OK"',
    "cert.expiry > 14d",
    "x.y.z != null",
    "a <= b",
    "a >= b",
    '"k" in a',
    "a not in b",
    "[a, 1] == b",
    "a",
]

_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=30),
    lambda children: (
        st.lists(children, max_size=5)
        | st.tuples(children, children)
        | st.dictionaries(st.text(max_size=8), children, max_size=5)
    ),
    max_leaves=30,
)
_KEYS = st.sampled_from(["status", "latency", "headers", "json", "body", "a", "b", "c", "x", "k"])
_CONTEXTS = st.dictionaries(
    _KEYS | st.text(max_size=10),
    _JSON | st.builds(object) | st.just(math.nan) | st.integers(min_value=10**200),
    max_size=8,
)


@settings(max_examples=500)
@given(st.text(max_size=200))
def test_random_text_compiles_or_raises_syntax_error(text: str) -> None:
    try:
        compile_condition(text)
    except ConditionSyntaxError as caught:
        error = caught
    else:
        return
    assert 1 <= error.column <= len(text) + 1
    assert f"at column {error.column}" in str(error)


@settings(max_examples=500)
@given(st.lists(st.sampled_from(_FRAGMENTS), max_size=25).map(" ".join))
def test_random_token_soup_compiles_or_raises_syntax_error(text: str) -> None:
    try:
        condition = compile_condition(text)
    except ConditionSyntaxError:
        return
    observation = condition.evaluate({"status": 200, "json": {"k": [1]}})
    assert observation.condition == text
    assert isinstance(observation.ok, bool)


@settings(max_examples=300)
@given(st.sampled_from(_CONDITIONS), _CONTEXTS)
def test_random_contexts_never_crash_evaluate(text: str, context: dict[str, object]) -> None:
    observation = compile_condition(text).evaluate(context)
    assert isinstance(observation.ok, bool)
    assert not observation.observed.startswith("<error")
    assert len(observation.observed) < 1000


@given(_JSON)
def test_render_is_short_and_never_raises(value: object) -> None:
    assert len(render(value)) <= 200
    assert len(render(value, duration=True)) <= 200


@given(st.integers(min_value=0, max_value=10 * 365 * 86400 * 1000))
def test_durations_in_milliseconds_round_trip_exactly(milliseconds: int) -> None:
    seconds = milliseconds / 1000
    assert math.isclose(parse_duration(render_duration(seconds)), seconds, abs_tol=1e-9)
    condition = compile_condition(f"latency == {render_duration(seconds)}")
    assert condition.evaluate({"latency": parse_duration(render_duration(seconds))}).ok


@given(st.floats(min_value=0, max_value=10 * 365 * 86400.0))
def test_any_duration_round_trips_to_the_millisecond(seconds: float) -> None:
    assert math.isclose(parse_duration(render_duration(seconds)), seconds, abs_tol=5e-4)


def test_negative_and_odd_durations_render() -> None:
    assert render_duration(-2.5) == "-2.5s"
    assert render_duration(0.412) == "412ms"
    assert render_duration(3.2) == "3.2s"
    assert render_duration(300) == "5m"
    assert render_duration(14 * 86400) == "14d"
    assert render_duration(math.inf) == "inf"
