"""Property tests: the prefilter never changes what matches.

Random rule sets are drawn from a pool of realistic patterns (single- and
multi-line, with and without literals, anchored, alternations, classes, case-
blind) and fed random lines built from fragments of those patterns plus noise.
The prefiltered engine must return exactly what the naive engine (every rule
on every line) returns, ``scan`` exactly what ``feed`` returns, and the
single-line shortcut exactly what NPD's joined-buffer search returns.
"""

from __future__ import annotations

import itertools
from collections import deque

from hypothesis import given, settings
from hypothesis import strategies as st

from healthwatch.problems.logmonitor.rules import Match, Rule, RuleEngine, RuleSet, compile_rules

SINGLE = [
    r"task \S+:\d+ blocked for more than \d+ seconds\.",
    r"Killed process \d+ \(.+\) total-vm:\d+kB.*",
    r"EXT4-fs (?:error|warning) .*",
    r"(?i)no space left on device.*",
    r"NVRM: Xid \((?P<pci>[0-9a-f:]+)\): (?P<code>79|48|63)(?:,.*)?",
    r"[Hh]ardware [Ee]rror.*",
    r"foo|bar baz",
    r"(?:abc){2}def",
    r"\[Hardware Error\]: event severity: (?:corrected|fatal)",
    r"x{1,3}yz",
    r"kernel: \w+ started$",
    r"(?i:ABC)def",
    r"error \d+",
]
ANCHORED = [r"^kernel: \w+ started$", r"^noise", r"\Afoo.*"]
LITERAL_FREE = [r"\d{4,}", r".*[a-c]{3}", r"\w+$", r"(?:ab|cd)"]
MULTI = [
    r"alpha one\n.*\nalpha three",
    r"start (?P<id>\d+)(?:.*\n){0,3}.*end \d+",
    r"(?s)begin.*?finish",
    r"[^;]*; done",
    r"(?m)^first$\n^second$",
    r"lorem\s+ipsum",
    r"\nsecond",
]
POOL = SINGLE + ANCHORED + LITERAL_FREE + MULTI
NPD_POOL = SINGLE + LITERAL_FREE + MULTI  # NPD's ^ and \A mean the buffer's start, ours the line's

FRAGMENTS = [
    "task ",
    "kworker/0:1",
    "runc:[2:INIT]",
    ":",
    "77",
    " blocked for more than ",
    "120",
    " seconds.",
    "Killed process ",
    "(java)",
    " total-vm:",
    "kB",
    "EXT4-fs ",
    "error ",
    "warning ",
    "kernel: ",
    "started",
    "No Space Left on DEVICE",
    "NVRM: Xid (",
    "0000:3b:00",
    "): ",
    "79",
    "48",
    ",",
    " pid=1",
    "foo",
    "bar baz",
    "abc",
    "ABC",
    "def",
    "Hardware Error",
    "[Hardware Error]: event severity: ",
    "corrected",
    "fatal",
    "x",
    "yz",
    "1234",
    "alpha one",
    "alpha three",
    "start ",
    "end ",
    "begin",
    "finish",
    "; done",
    ";",
    "first",
    "second",
    "lorem",
    " ipsum",
    "ipsum",
    " ",
    "noise",
    "\t",
    "é",
]

lines_strategy = st.lists(
    st.lists(st.sampled_from(FRAGMENTS), min_size=0, max_size=6).map("".join),
    max_size=30,
)


MULTI_LINES = st.lists(
    st.sampled_from(
        [
            "start 1",
            "end 2",
            "x",
            "alpha one",
            "alpha three",
            "first",
            "second",
            "begin",
            "finish",
            "; done",
            "lorem",
            "ipsum",
            "noise",
        ]
    ),
    max_size=30,
)


def rules_strategy(pool: list[str]) -> st.SearchStrategy[list[Rule]]:
    rule = st.builds(
        lambda pattern, kind, suffix: Rule(
            kind=kind,
            reason=f"R{pool.index(pattern)}",
            pattern=pattern,
            condition="C" if kind != "temporary" else None,
            message_suffix=suffix,
        ),
        st.sampled_from(pool),
        st.sampled_from(["temporary", "permanent", "recovery"]),
        st.sampled_from(["", "suffix"]),
    )
    return st.lists(rule, min_size=1, max_size=7)


def run(engine: RuleEngine, lines: list[str]) -> list[tuple[int, Match]]:
    return [(i, m) for i, line in enumerate(lines) for m in engine.feed(line, float(i)) or []]


def npd_reference(ruleset: RuleSet, lines: list[str]) -> list[tuple[int, Match]]:
    """NPD's log_buffer: every rule searched in the joined buffer, lines from the match start."""
    lines_buf: deque[tuple[str, float]] = deque(maxlen=ruleset.buffer_size)
    found: list[tuple[int, Match]] = []
    for i, line in enumerate(lines):
        lines_buf.append((line, float(i)))
        text = "\n".join(text for text, _ in lines_buf)
        for compiled in ruleset.rules:
            hit = compiled.regex.search(text)
            if hit is None:
                continue
            first = text.count("\n", 0, hit.start() + 1)
            spanned = list(lines_buf)[first:]
            rule = compiled.rule
            message = "\n".join(t for t, _ in spanned)
            if rule.message_suffix:
                message += f"; {rule.message_suffix}"
            labels = {name: hit.group(name) or "" for name in rule.labels}
            match = Match(
                rule=rule,
                message=message,
                first_stamp=spanned[0][1],
                first_line=spanned[0][0],
                labels=labels,
            )
            found.append((i, match))
    return found


@settings(max_examples=300, deadline=None)
@given(rules=rules_strategy(POOL), lines=lines_strategy, buffer_size=st.integers(1, 5))
def test_the_prefilter_returns_exactly_what_the_naive_engine_returns(
    rules: list[Rule], lines: list[str], buffer_size: int
) -> None:
    ruleset = compile_rules(rules, buffer_size=buffer_size)
    assert run(RuleEngine(ruleset), lines) == run(RuleEngine(ruleset, naive=True), lines)


@settings(max_examples=300, deadline=None)
@given(rules=rules_strategy(MULTI), lines=MULTI_LINES, buffer_size=st.integers(1, 6))
def test_multi_line_windows_are_exactly_as_long_as_the_buffer(
    rules: list[Rule], lines: list[str], buffer_size: int
) -> None:
    ruleset = compile_rules(rules, buffer_size=buffer_size)
    assert run(RuleEngine(ruleset), lines) == run(RuleEngine(ruleset, naive=True), lines)


@settings(max_examples=200, deadline=None)
@given(
    rules=rules_strategy(POOL),
    lines=lines_strategy,
    buffer_size=st.integers(1, 5),
    cuts=st.lists(st.integers(0, 30), max_size=4),
)
def test_scan_in_any_batches_returns_what_feed_returns(
    rules: list[Rule], lines: list[str], buffer_size: int, cuts: list[int]
) -> None:
    ruleset = compile_rules(rules, buffer_size=buffer_size)
    expected = run(RuleEngine(ruleset), lines)
    scanner = RuleEngine(ruleset)
    bounds = sorted({0, len(lines), *(c for c in cuts if c < len(lines))})
    stamps = [float(i) for i in range(len(lines))]
    got: list[tuple[int, Match]] = []
    for low, high in itertools.pairwise(bounds):
        got += [(low + i, m) for i, m in scanner.scan(lines[low:high], stamps[low:high])]
    assert got == expected


@settings(max_examples=300, deadline=None)
@given(rules=rules_strategy(NPD_POOL), lines=lines_strategy, buffer_size=st.integers(1, 5))
def test_matching_single_line_patterns_per_line_is_what_npd_finds_in_the_buffer(
    rules: list[Rule], lines: list[str], buffer_size: int
) -> None:
    ruleset = compile_rules(rules, buffer_size=buffer_size)
    assert run(RuleEngine(ruleset), lines) == npd_reference(ruleset, lines)


def test_lines_holding_newlines_are_scanned_one_by_one() -> None:
    ruleset = compile_rules(
        [Rule(kind="temporary", reason="Panic", pattern=r"panic: .*")], buffer_size=3
    )
    lines = ["ok", "goroutine 1\npanic: boom", "panic: again"]
    stamps = [float(i) for i in range(len(lines))]
    found = RuleEngine(ruleset).scan(lines, stamps)
    assert found == run(RuleEngine(ruleset), lines)
    assert [i for i, _ in found] == [1, 2]
