"""The rule engine keeps node-problem-detector's matching semantics (COMPAT 2.1)."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from healthwatch.problems.logmonitor.rules import Match, Rule, RuleEngine, compile_rules

OLD_OOM = (
    r"Memory cgroup out of memory: Kill process \d+ \(.+\) score \d+ or sacrifice child\n"
    r"Killed process \d+ \(.+\) total-vm:\d+kB, anon-rss:\d+kB, file-rss:\d+kB"
)
OOM_LINES = (
    "Memory cgroup out of memory: Kill process 1234 (java) score 998 or sacrifice child",
    "Killed process 1234 (java) total-vm:1048576kB, anon-rss:524288kB, file-rss:0kB",
)


def temporary(pattern: str, reason: str = "R", **extra: object) -> Rule:
    return Rule(kind="temporary", reason=reason, pattern=pattern, **extra)  # type: ignore[arg-type]


def engines(rules: Sequence[Rule], buffer_size: int = 10) -> list[RuleEngine]:
    """The prefiltered engine and the naive one: every expectation must hold for both."""
    ruleset = compile_rules(rules, buffer_size=buffer_size)
    return [RuleEngine(ruleset), RuleEngine(ruleset, naive=True)]


def feed_all(engine: RuleEngine, lines: Sequence[str]) -> list[list[Match]]:
    return [engine.feed(line, float(i)) or [] for i, line in enumerate(lines)]


@pytest.mark.parametrize("naive", [False, True])
def test_a_temporary_match_carries_the_whole_line_and_its_stamp(naive: bool) -> None:
    rule = temporary(r"Killed process \d+ \(.+\) total-vm:\d+kB.*", "OOMKilling")
    engine = RuleEngine(compile_rules([rule], buffer_size=10), naive=naive)
    line = "Out of memory: Killed process 42 (java) total-vm:100kB, anon-rss:5kB"
    assert engine.feed("unrelated line", 1.0) in (None, [])
    assert engine.feed(line, 2.0) == [
        Match(rule=rule, message=line, first_stamp=2.0, first_line=line, labels={})
    ]


def test_the_suffix_is_appended_after_a_semicolon() -> None:
    rule = temporary(r"NVRM: Xid .*: 79,.*", message_suffix="GPU fell off the bus")
    for engine in engines([rule]):
        (match,) = engine.feed("NVRM: Xid (PCI:0000:3b:00): 79, pid=1, GPU has fallen off") or []
        assert (
            match.message
            == "NVRM: Xid (PCI:0000:3b:00): 79, pid=1, GPU has fallen off; GPU fell off the bus"
        )


def test_one_line_can_match_several_rules_in_rule_order() -> None:
    task_hung = temporary(r"task \S+:\w+ blocked for more than \w+ seconds\.", "TaskHung")
    docker_hung = Rule(
        kind="permanent",
        condition="KernelDeadlock",
        reason="DockerHung",
        pattern=r"task docker:\w+ blocked for more than \w+ seconds\.",
    )
    other = temporary(r"blocked for more", "Other")  # does not reach the end of the line
    for engine in engines([task_hung, other, docker_hung]):
        found = engine.feed("INFO: task docker:1234 blocked for more than 120 seconds.") or []
        assert [m.rule.reason for m in found] == ["TaskHung", "DockerHung"]


@pytest.mark.parametrize(
    ("pattern", "line", "matches"),
    [
        ("foo", "x foo", True),  # not anchored at the start
        ("foo", "foo bar", False),  # but must reach the end of the message
        (r"foo\z", "a foo", True),  # RE2's \z is the end of text
        (r"foo\z", "foo a", False),
        ("foo$", "a foo", True),
        ("foo|bar", "foo baz", False),  # the alternation is anchored as a whole
        ("foo|bar", "x foo", True),
        ("^foo", "foo", True),  # ^ is the start of the line
        ("^foo", "x foo", False),
        (
            "(?i)remounting filesystem READ-only",
            "EXT4-fs (sda1): Remounting filesystem read-only",
            True,
        ),
        (r"\d+ errors", "disk: 12 errors", True),  # no literal ≥ 3 chars: always a candidate
    ],
)
def test_patterns_must_match_up_to_the_end_of_the_message(
    pattern: str, line: str, matches: bool
) -> None:
    for engine in engines([temporary(pattern)]):
        engine.feed("an earlier line that says foo")
        assert bool(engine.feed(line)) is matches


def test_a_two_line_pattern_matches_over_the_buffer() -> None:
    rule = temporary(OLD_OOM, "OOMKilling")
    for engine in engines([rule]):
        results = feed_all(engine, ["noise", *OOM_LINES, "more noise"])
        assert [len(r) for r in results] == [0, 0, 1, 0]
        match = results[2][0]
        assert match.message == "\n".join(OOM_LINES)
        assert match.first_line == OOM_LINES[0]
        assert match.first_stamp == 1.0


def test_a_multi_line_pattern_cannot_span_more_than_the_buffer() -> None:
    three = temporary(r"alpha one\n.*\nalpha three")
    lines = ["alpha one", "middle", "alpha three"]
    for engine in engines([three], buffer_size=2):
        assert not any(feed_all(engine, lines))
    for engine in engines([three], buffer_size=3):
        assert [bool(r) for r in feed_all(engine, lines)] == [False, False, True]


def test_a_literal_keeps_a_multi_line_rule_alive_for_buffer_size_lines() -> None:
    # the literal is on the first line; the match completes up to buffer_size - 1 lines later
    rule = temporary(r"The NVIDIA GPU 0000:b3:00\.0(?:.*\n){0,8}.*\d+ s")
    start = "NVRM: The NVIDIA GPU 0000:b3:00.0"
    end = "NVRM: gone for 5 s"
    assert compile_rules([rule], buffer_size=6).rules[0].literals is not None
    for gap, expected in ((3, True), (4, True), (5, False)):
        for engine in engines([rule], buffer_size=6):
            results = feed_all(engine, [start] + ["filler"] * gap + [end])
            assert bool(results[-1]) is expected, gap
            if expected:
                assert results[-1][0].first_line == start


def test_a_match_starting_at_a_newline_belongs_to_the_next_line() -> None:
    # NPD counts the separator before a line as part of that line
    for engine in engines([temporary(r"\nsecond")]):
        results = feed_all(engine, ["first", "second"])
        assert [m.message for m in results[1]] == ["second"]


def test_labels_are_the_named_groups_listed() -> None:
    rule = temporary(
        r"NVRM: Xid \((?:PCI:)?(?P<pci>[0-9a-f:]+)\): (?P<code>\d+)(?:, pid=(?P<pid>\d+))?,.*",
        labels=("pci", "code", "pid"),
    )
    for engine in engines([rule]):
        (match,) = engine.feed("NVRM: Xid (0000:03:00): 14, Channel 00000001") or []
        assert match.labels == {"pci": "0000:03:00", "code": "14", "pid": ""}


def test_scan_finds_what_feed_finds_at_the_same_lines() -> None:
    rules = [
        temporary(OLD_OOM, "OOMKilling"),
        temporary(r"task \S+:\d+ blocked for more than \d+ seconds\.", "TaskHung"),
        temporary(r"(?i)no space left on device", "DiskFull"),
    ]
    lines = [f"noise {i}" for i in range(40)]
    lines[3:5] = OOM_LINES
    lines[10] = "task kworker/0:1:77 blocked for more than 120 seconds."
    lines[11] = "write failed: No Space Left On Device"
    lines[39] = "task final:1 blocked for more than 240 seconds."
    ruleset = compile_rules(rules, buffer_size=4)
    by_feed = [
        (i, m) for i, found in enumerate(feed_all(RuleEngine(ruleset), lines)) for m in found
    ]
    stamps = [float(i) for i in range(len(lines))]
    scanner = RuleEngine(ruleset)
    by_scan = scanner.scan(lines[:20], stamps[:20])
    by_scan += [(i + 20, m) for i, m in scanner.scan(lines[20:], stamps[20:])]
    assert by_scan == by_feed
    assert [i for i, _ in by_scan] == [4, 10, 11, 39]


def test_scan_carries_the_buffer_across_batches() -> None:
    engine = RuleEngine(compile_rules([temporary(OLD_OOM)], buffer_size=3))
    assert engine.scan(["noise", OOM_LINES[0]]) == []
    (found,) = engine.scan([OOM_LINES[1]])
    assert found[0] == 0
    assert found[1].first_line == OOM_LINES[0]
    assert found[1].first_stamp is None


def test_reset_forgets_the_buffer() -> None:
    engine = RuleEngine(compile_rules([temporary(OLD_OOM)], buffer_size=3))
    engine.feed(OOM_LINES[0])
    engine.reset()
    assert not engine.feed(OOM_LINES[1])


def test_a_rule_set_without_rules_matches_nothing() -> None:
    engine = RuleEngine(compile_rules([], buffer_size=1))
    assert engine.feed("anything") is None
    assert engine.scan(["a", "b"]) == []


@pytest.mark.parametrize(
    ("rule", "message"),
    [
        (temporary("foo(", "Broken"), r"rule 0 \(Broken\): invalid pattern 'foo\('"),
        (temporary(r"\pL+", "Unicode"), "Unicode class"),
        (temporary("(?P<a>x)", "Labels", labels=("b",)), r"labels \['b'\] are not named groups"),
    ],
)
def test_compile_errors_name_the_rule_and_pattern(rule: Rule, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        compile_rules([temporary("fine"), rule][1:], buffer_size=10)


@pytest.mark.parametrize("size", [0, -1, 10_001])
def test_the_buffer_size_is_bounded(size: int) -> None:
    with pytest.raises(ValueError, match="buffer size"):
        compile_rules([], buffer_size=size)


def test_the_ruleset_reports_what_the_prefilter_learnt() -> None:
    ruleset = compile_rules(
        [temporary(OLD_OOM), temporary(r"\d+"), temporary("EXT4-fs error .*")], buffer_size=10
    )
    assert [r.multiline for r in ruleset.rules] == [True, False, False]
    assert ruleset.always == (1,)
    assert ruleset.rules[2].literals is not None
    assert ruleset.rules[2].literals.strings == frozenset({"EXT4-fs error "})
    assert ruleset.has_multiline
