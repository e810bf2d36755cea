"""The conditions language: every operator and accessor, precedence, and errors that point."""

from __future__ import annotations

from collections.abc import Iterator, Mapping

import pytest

from healthwatch.checks.expressions import (
    MAX_DEPTH,
    MAX_LENGTH,
    ConditionSyntaxError,
    compile_condition,
)
from healthwatch.model.errors import ConfigError

CONTEXT: dict[str, object] = {
    "status": 503,
    "latency": 0.412,
    "headers": {"Content-Type": "application/json; charset=utf-8", "X-Id": "abc"},
    "body": '{"status": "DOWN"} all OK',
    "json": {
        "status": "DOWN",
        "ok": False,
        "count": 3,
        "ratio": 0.5,
        "items": [{"name": "db", "up": True}, {"name": "cache", "up": False}],
        "tags": ["a", "b"],
        "weird-key": "x",
        "nothing": None,
    },
    "cert": {"expiry": 20 * 86400.0, "issuer": "Let's Encrypt"},
    "dns": {"answers": ["10.0.0.1", "10.0.0.2"], "rcode": "NOERROR"},
    "tcp.connected": True,
    "exit_code": 0,
    "stdout": "ready\n",
    "stderr": "",
}


def ok(text: str, context: dict[str, object] | None = None) -> bool:
    return compile_condition(text).evaluate(CONTEXT if context is None else context).ok


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # comparison operators on numbers
        ("status == 503", True),
        ("status == 200", False),
        ("status != 200", True),
        ("status != 503", False),
        ("status < 600", True),
        ("status < 503", False),
        ("status <= 503", True),
        ("status > 500", True),
        ("status > 503", False),
        ("status >= 503", True),
        ("json.ratio == 0.5", True),
        ("json.count == 3.0", True),
        ("-1 < 0", True),
        ("1.5e2 == 150", True),
        # durations
        ("latency < 300ms", False),
        ("latency < 1s", True),
        ("latency > 0.4", True),
        ("latency <= 412ms", True),
        ("cert.expiry > 14d", True),
        ("cert.expiry > 3w", False),
        ("cert.expiry >= 1h30m", True),
        ("latency < 1.5s", True),
        # strings and ordering of strings
        ('json.status == "DOWN"', True),
        ("json.status == 'DOWN'", True),
        ('json.status != "UP"', True),
        ('dns.rcode < "Z"', True),
        ('cert.issuer == "Let\'s Encrypt"', True),
        # constants
        ("json.ok == false", True),
        ("json.nothing == null", True),
        ("json.count != null", True),
        ("tcp.connected", True),
        ("tcp.connected == true", True),
        ("true", True),
        ("false", False),
        ("null", False),
        # membership, contains, matches
        ("status in [500, 502, 503]", True),
        ("status in [200, 204]", False),
        ("status not in [200, 204]", True),
        ("status not in [503]", False),
        ('"10.0.0.1" in dns.answers', True),
        ('dns.answers contains "10.0.0.2"', True),
        ('dns.answers contains "10.0.0.9"', False),
        ('"OK" in body', True),
        ('body contains "DOWN"', True),
        ('"ready" in stdout', True),
        ('"status" in json', True),
        ('json.tags == ["a", "b"]', True),
        ('json.tags == ["a"]', False),
        ('body matches "UP|OK"', True),
        ('body matches "^UP$"', False),
        (r'stdout matches "^re\w+\n$"', True),
        ('json.status matches "(?i)down"', True),
        # accessors
        ('headers["Content-Type"] contains "json"', True),
        ('headers["content-type"] contains "json"', True),
        ('headers["X-ID"] == "abc"', True),
        ('json["status"] == "DOWN"', True),
        ('json["weird-key"] == "x"', True),
        ('json["items"][0]["name"] == "db"', True),
        ('json.items[1].name == "cache"', True),
        ("json.items[-1].up == false", True),
        ("json.items[5].up == false", False),
        ("exit_code == 0", True),
        ('stderr == ""', True),
        ("unknown == 1", False),
        ("unknown.deeper[0] == 1", False),
        # logic
        ("status == 503 and latency < 1s", True),
        ("status == 503 and latency < 1ms", False),
        ("status == 200 or latency < 1s", True),
        ("not status == 200", True),
        ("not (status == 503)", False),
        ("(status == 200 or status == 503) and exit_code == 0", True),
        ("(status == 503) == true", True),
    ],
)
def test_operators_and_accessors(text: str, expected: bool) -> None:
    assert ok(text) is expected


@pytest.mark.parametrize(
    "text",
    [
        'status == "503"',
        'status != "503"',
        'status < "600"',
        "json.ok == 0",
        "json.ok < 1",
        "status in 5",
        '"a" in 5',
        "status contains 5",
        'status matches "5"',
        "json.items < json.tags",
        "headers < 1",
    ],
)
def test_incompatible_types_are_false_not_errors(text: str) -> None:
    observation = compile_condition(text).evaluate(CONTEXT)
    assert observation.ok is False
    assert "<missing>" not in observation.observed


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # not binds tighter than and, which binds tighter than or
        (
            "not a or b and c",
            {
                (False, False, False): True,
                (True, True, False): False,
                (True, True, True): True,
                (True, False, True): False,
            },
        ),
        ("not (a or b) and c", {(False, False, True): True, (True, False, True): False}),
        ("a or b and c", {(True, False, False): True, (False, True, False): False}),
        ("(a or b) and c", {(True, False, False): False, (True, False, True): True}),
        ("not not a", {(True, False, False): True, (False, False, False): False}),
    ],
)
def test_precedence(text: str, expected: dict[tuple[bool, bool, bool], bool]) -> None:
    condition = compile_condition(text)
    for (a, b, c), result in expected.items():
        assert condition.evaluate({"a": a, "b": b, "c": c}).ok is result, (a, b, c)


@pytest.mark.parametrize(
    ("text", "observed"),
    [
        ("status == 200", "status=503"),
        ("latency < 300ms", "latency=412ms"),
        ("json.status == 'UP'", 'json.status="DOWN"'),
        ("cert.expiry > 30d", "cert.expiry=20d"),
        ("json.ratio > 1s", "json.ratio=500ms"),
        ("status == 200 and latency < 1s", "status=503, latency=412ms"),
        ("status == 200 or status == 204", "status=503"),
        ("dns.answers contains 'x'", 'dns.answers=["10.0.0.1", "10.0.0.2"]'),
        ("tcp.connected", "tcp.connected=true"),
        ("json.nothing == 1", "json.nothing=null"),
        ("nope == 1", "nope=<missing>"),
        ("1 == 1", "true"),
    ],
)
def test_observed(text: str, observed: str) -> None:
    assert compile_condition(text).evaluate(CONTEXT).observed == observed


def test_observed_values_are_truncated() -> None:
    observation = compile_condition("body == 'x'").evaluate({"body": "y" * 10_000})
    assert 150 < len(observation.observed) <= 210
    assert observation.observed.endswith("…")
    many = compile_condition("xs == 1").evaluate({"xs": list(range(1000))}).observed
    assert len(many) <= 210


@pytest.mark.parametrize(
    "text",
    [
        "status == 200",
        "status != 200",
        "not status == 200",
        "not (status != 200)",
        "status in [200]",
        "status not in [200]",
        "[status] == [1]",
        "status",
        "not status",
        "status == 200 or false",
    ],
)
def test_missing_values_fail(text: str) -> None:
    observation = compile_condition(text).evaluate({})
    assert observation.ok is False
    assert "<missing>" in observation.observed


def test_missing_is_unknown_but_true_or_wins() -> None:
    assert ok("status == 200 or true", {}) is True
    assert ok("status == 200 and false", {}) is False


def test_flat_and_nested_dotted_names() -> None:
    assert ok("cert.expiry > 1d", {"cert.expiry": 2 * 86400}) is True
    assert ok("cert.expiry > 1d", {"cert": {"expiry": 2 * 86400}}) is True
    assert ok("tcp.connected", {"tcp": {"connected": False}}) is False


def test_list_literal_with_accessors_and_trailing_comma() -> None:
    assert ok("status in [200, 204,]", {"status": 204}) is True
    assert ok("[status, exit_code] == [503, 0]") is True
    assert ok("[] == json.tags") is False


def test_strings_escape_and_keep_unknown_escapes() -> None:
    assert ok(r'body == "a\"b\\c"', {"body": 'a"b\\c'}) is True
    assert ok(r"body == 'it\'s'", {"body": "it's"}) is True
    assert ok(r'body == "x\ty\n"', {"body": "x\ty\n"}) is True
    assert ok(r'body matches "^\d+$"', {"body": "1234"}) is True


def test_header_lookup_folds_case_only_for_headers() -> None:
    assert ok('json["STATUS"] == "DOWN"') is False


def test_roots_restrict_top_level_names() -> None:
    roots = frozenset({"status", "latency", "headers"})
    condition = compile_condition('status == 200 and headers["a"] == "b"', roots=roots)
    assert condition.text == 'status == 200 and headers["a"] == "b"'
    with pytest.raises(ConditionSyntaxError) as caught:
        compile_condition("status == 200 and stauts == 1", roots=roots)
    assert "unknown name 'stauts'" in str(caught.value)
    assert caught.value.column == 19


def test_syntax_error_is_a_config_error_with_caret() -> None:
    with pytest.raises(ConfigError) as caught:
        compile_condition("status = = 200")
    assert str(caught.value) == (
        "condition \"status = = 200\": unexpected '=' at column 8\n    status = = 200\n           ^"
    )
    assert isinstance(caught.value, ConditionSyntaxError)
    assert (caught.value.column, caught.value.reason) == (8, "unexpected '='")


@pytest.mark.parametrize(
    ("text", "column", "reason"),
    [
        ("status = = 200", 8, "unexpected '='"),
        ("status ==", 10, "unexpected end of condition"),
        ("== 200", 1, "unexpected '=='"),
        ("status == 200 200", 15, "unexpected '200'"),
        ("(status == 200", 15, "expected ')', found end of condition"),
        ("status == 200)", 14, "unexpected ')'"),
        ('body == "abc', 9, "unterminated string"),
        ("body == 'abc\\'", 9, "unterminated string"),
        ("latency < 5min", 11, "invalid duration '5min'"),
        ("latency < 3x", 11, "invalid duration '3x'"),
        ('body matches "("', 14, "invalid regular expression"),
        ("body matches 1", 14, "'matches' needs a quoted regular expression"),
        ("body matches status", 14, "'matches' needs a quoted regular expression"),
        ("a == b == c", 8, "join comparisons with 'and'"),
        ("a < b not in c", 7, "join comparisons with 'and'"),
        ("status ! 200", 8, "unexpected '!'"),
        ("status == 200 && ok", 15, "unexpected '&'"),
        ("status.", 8, "expected a name after '.'"),
        ("json[status]", 6, "expected a quoted key or an integer index"),
        ("json[1.5]", 6, "expected a quoted key or an integer index"),
        ('json["a"', 9, "expected ']'"),
        ("[1, 2", 6, "expected ','"),
        ("[,]", 2, "unexpected ','"),
        ("status in [1 2]", 14, "expected ','"),
        ("and", 1, "unexpected 'and'"),
        ("status and", 11, "unexpected end of condition"),
        ("not", 4, "unexpected end of condition"),
        ("a not b", 3, "unexpected 'not'"),
        ("- status", 1, "unexpected '-'"),
        ("", 1, "empty condition"),
        ("   ", 1, "empty condition"),
        ("status == 200 @", 15, "unexpected '@'"),
        ("status\n== 2 $", 13, "unexpected '$'"),
    ],
)
def test_syntax_errors_point_at_the_column(text: str, column: int, reason: str) -> None:
    with pytest.raises(ConditionSyntaxError) as caught:
        compile_condition(text)
    assert caught.value.column == column, str(caught.value)
    assert reason in caught.value.reason
    message = str(caught.value)
    assert f"at column {column}" in message
    header, shown, caret = message.split("\n")
    assert header.startswith("condition ")
    assert caret.index("^") - 4 == column - 1
    assert "\n" not in shown


def test_length_limit() -> None:
    compile_condition("status == " + "1" * (MAX_LENGTH - 10))
    with pytest.raises(ConditionSyntaxError) as caught:
        compile_condition("status == " + "1" * (MAX_LENGTH - 9))
    assert f"longer than {MAX_LENGTH} characters" in str(caught.value)


def test_long_condition_error_shows_a_window_around_the_column() -> None:
    text = "a == 1 and " * 50 + "b = 2"
    with pytest.raises(ConditionSyntaxError) as caught:
        compile_condition(text)
    _, shown, caret = str(caught.value).split("\n")
    assert len(shown) < 100
    assert shown[caret.index("^")] == "="


@pytest.mark.parametrize(
    ("opening", "closing"),
    [("(", ")"), ("[", "]"), ("not ", "")],
)
def test_nesting_limit(opening: str, closing: str) -> None:
    compile_condition(opening * MAX_DEPTH + "true" + closing * MAX_DEPTH)
    with pytest.raises(ConditionSyntaxError) as caught:
        compile_condition(opening * (MAX_DEPTH + 1) + "true" + closing * (MAX_DEPTH + 1))
    assert f"nesting deeper than {MAX_DEPTH} levels" in str(caught.value)


def test_compiled_condition_is_reusable() -> None:
    condition = compile_condition("status == 200")
    assert [condition.evaluate({"status": s}).ok for s in (200, 500, 200)] == [True, False, True]


class _ExplodingMapping(Mapping[str, object]):
    def __getitem__(self, key: str) -> object:
        raise RuntimeError("boom")

    def __iter__(self) -> Iterator[str]:
        return iter(())

    def __len__(self) -> int:
        return 0


def test_evaluate_never_raises_even_for_a_broken_mapping() -> None:
    observation = compile_condition("status == 200").evaluate(_ExplodingMapping())
    assert observation.ok is False
    assert observation.observed == "<error: RuntimeError>"
