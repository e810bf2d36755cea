"""RE2 patterns from node-problem-detector configs mean the same in Python after translation."""

from __future__ import annotations

import pytest

from healthwatch.problems.logmonitor.re2 import compile_pattern, translate


@pytest.mark.parametrize(
    ("pattern", "text", "matches"),
    [
        (r"foo\z", "a foo", True),
        (r"foo\z", "foo\n", False),  # \z is the very end, unlike Python's $
        # RE2 lets an inline flag start anywhere; it covers the rest of its group
        (
            r"(?i)Currently unreadable.*sectors|(?i)Offline uncorrectable sectors",
            "OFFLINE UNCORRECTABLE SECTORS",
            True,
        ),
        (r"a(?i)b|c", "C", True),  # ... including later alternatives
        (r"a(?i)b|c", "aB", True),
        (r"a(?i)b|c", "AB", False),  # ... but not what came before it
        (r"(?:x(?s)y.|z)w", "xy\nw", True),
        (r"(?:x(?s)y.|z)w", "zw", True),
        (r"(?i)abc(?-i)d", "ABCd", True),
        (r"(?i)abc(?-i)d", "ABCD", False),
        (r"(?<name>ab)c", "abc", True),
        (r"[[:alpha:]]+[[:digit:]]", "abc1", True),
        (r"[[:space:][:punct:]]", "!", True),
        (r"[^[:upper:]]x", "ax", True),
        (r"\Qa.b*\E+", "a.b**", True),
        (r"\Qa.b*\E", "axb", False),
        (r"\x{263a}", "\u263a", True),
        (r"\101\0", "A\x00", True),  # RE2 octal escapes
        (r"[a-z&&[x]]", "&]", True),  # no nested sets: these are plain characters
        (r"[+--]", ",", True),  # a range ending in "-"
        (r"\d+", "\u0661\u0662", False),  # \d is ASCII, as in RE2
        (r"\w+", "é", False),
        (r"(?P<x>a)(?P=x)", "aa", True),  # Python extensions stay available
        (r"(?<=a)b", "ab", True),
    ],
)
def test_translated_patterns_match_as_re2_does(pattern: str, text: str, matches: bool) -> None:
    assert (compile_pattern(pattern).search(text) is not None) is matches


def test_a_suffix_anchors_the_whole_pattern() -> None:
    regex = compile_pattern("foo|bar", suffix=r"\Z")
    assert regex.search("x foo") is not None
    assert regex.search("foo x") is None


def test_plain_patterns_are_left_alone() -> None:
    pattern = r"task [\S ]+:\w+ blocked for more than \w+ seconds\."
    assert translate(pattern) == pattern


@pytest.mark.parametrize(
    ("pattern", "message"),
    [
        (r"\C", r"\\C \(any byte\)"),
        (r"\pL+", "Unicode class"),
        (r"\p{Greek}", "Unicode class"),
        (r"[\PL]", "Unicode class"),
        (r"(?U)a+", "ungreedy"),
        (r"(?x)a b", "unknown flag 'x'"),
        (r"[[:^alpha:]]", "negated POSIX class"),
        (r"[[:nope:]]", "unknown POSIX class"),
        (r"(?)", "empty flag group"),
        (r"[abc", "missing closing"),
        ("abc\\", "trailing backslash"),
        (r"(abc", "missing \\)"),
        (r"a**", "multiple repeat"),
        (r"\x{110000}", "out of range"),
    ],
)
def test_what_python_cannot_do_is_rejected_with_the_reason(pattern: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        compile_pattern(pattern)
