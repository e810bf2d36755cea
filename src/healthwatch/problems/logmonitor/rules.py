"""Log rules and the engine that matches lines against them, as node-problem-detector does.

NPD keeps the last ``bufferSize`` messages, and for each new one searches every
rule's pattern, anchored to the end (``pattern\\z``), in the buffer joined with
newlines; the matched lines become the message. We keep those semantics but
not the cost:

- a pattern that cannot match a newline is searched in the new line alone
  (its ``^`` is the start of that line, where NPD's would be the start of the
  buffer), a multi-line pattern in the joined buffer;
- a pattern is wrapped as ``(?:pattern)\\Z``, so a top-level alternation is
  anchored as a whole (NPD anchors only its last branch);
- a *gate* regex built from literals every match must contain (see
  ``prefilter``) is run once per line; only when it hits are the rules run.
  A literal of a multi-line rule seen on line *j* makes lines *j* to
  *j + buffer_size - 1* candidates for that rule.

``RuleEngine(ruleset, naive=True)`` runs every rule on every line; the tests
hold the two modes to the same results.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from itertools import repeat
from re import Match as ReMatch
from re import Pattern
from typing import Literal

from healthwatch.problems.logmonitor.prefilter import Literals, analyse, literal_regex
from healthwatch.problems.logmonitor.re2 import compile_pattern

__all__ = ["CompiledRule", "Match", "Rule", "RuleEngine", "RuleSet", "compile_rules"]

RuleKind = Literal["temporary", "permanent", "recovery"]
MAX_BUFFER_SIZE = 10_000


@dataclass(frozen=True, slots=True, kw_only=True)
class Rule:
    """One log rule, in NPD's terms plus our extensions."""

    kind: RuleKind
    """``temporary`` → an event; ``permanent`` → the condition becomes True; ``recovery``
    (ours) → the condition goes back to False."""
    reason: str
    """Reason of the event, and of the condition for a permanent rule."""
    pattern: str
    """RE2 pattern (Python extensions accepted); must match up to the end of the message."""
    condition: str | None = None
    """Condition type a permanent or recovery rule sets."""
    message_suffix: str = ""
    """NPD's ``patternGeneratedMessageSuffix``: the message becomes ``"<msg>; <suffix>"``."""
    clear_after: float | None = None
    """Ours: seconds without a new match after which a permanent condition clears."""
    severity: Literal["info", "warn"] = "warn"
    """Severity of the events this rule causes."""
    action: str = ""
    """Suggested action for whoever sees the problem (e.g. for an Xid code)."""
    labels: tuple[str, ...] = ()
    """Named groups of the pattern exposed as labels of a match."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Match:
    """A rule matched the latest line."""

    rule: Rule
    """The rule."""
    message: str
    """The matched lines joined by newlines, plus ``"; <suffix>"`` when the rule has one."""
    first_stamp: float | None
    """Timestamp fed with the first matched line (None if it was fed without one)."""
    first_line: str
    """Text of the first matched line, so the caller can parse its timestamp."""
    labels: dict[str, str] = field(default_factory=dict)
    """Values of the rule's label groups ("" for a group that did not take part)."""


@dataclass(frozen=True, slots=True)
class CompiledRule:
    """A rule with its regex and what the prefilter learnt about it."""

    index: int
    rule: Rule
    regex: Pattern[str]
    """``(?:pattern)\\Z`` in Python syntax."""
    multiline: bool
    """True when the pattern can match a newline: it is searched in the joined buffer."""
    literals: Literals | None
    """One of these occurs in every match; None: every line is a candidate."""


@dataclass(frozen=True, slots=True)
class RuleSet:
    """Compiled rules, the gate, and the per-literal checks; shareable between engines."""

    rules: tuple[CompiledRule, ...]
    buffer_size: int
    gate: Pattern[str] | None
    """Finds any rule literal in a line; None when no rule has literals."""
    always: tuple[int, ...]
    """Rules without literals: candidates on every line."""
    checks: tuple[tuple[Callable[[str], bool], tuple[int, ...]], ...]
    """Distinct literal tests and the rules each one admits."""

    @property
    def has_multiline(self) -> bool:
        """Whether any rule needs the buffer."""
        return any(r.multiline for r in self.rules)


def compile_rules(rules: Iterable[Rule], *, buffer_size: int) -> RuleSet:
    """Compile ``rules``; ValueError naming the rule and pattern when one is invalid."""
    if not 1 <= buffer_size <= MAX_BUFFER_SIZE:
        raise ValueError(f"buffer size must be between 1 and {MAX_BUFFER_SIZE}, got {buffer_size}")
    compiled: list[CompiledRule] = []
    for index, rule in enumerate(rules):
        try:
            regex = compile_pattern(rule.pattern, suffix=r"\Z")
        except ValueError as error:
            raise ValueError(
                f"rule {index} ({rule.reason}): invalid pattern {rule.pattern!r}: {error}"
            ) from None
        missing = [name for name in rule.labels if name not in regex.groupindex]
        if missing:
            raise ValueError(
                f"rule {index} ({rule.reason}): labels {missing} are not named groups "
                f"of pattern {rule.pattern!r}"
            )
        multiline, literals = analyse(regex)
        compiled.append(CompiledRule(index, rule, regex, multiline, literals))
    by_literals: dict[Literals, list[int]] = {}
    for c in compiled:
        if c.literals is not None:
            by_literals.setdefault(c.literals, []).append(c.index)
    return RuleSet(
        rules=tuple(compiled),
        buffer_size=buffer_size,
        gate=literal_regex(by_literals) if by_literals else None,
        always=tuple(c.index for c in compiled if c.literals is None),
        checks=tuple((lit.check(), tuple(idx)) for lit, idx in by_literals.items()),
    )


def _never(_line: str) -> None:
    return None


class RuleEngine:
    """Feeds lines through a :class:`RuleSet`; one engine per log stream (it keeps the buffer)."""

    __slots__ = (
        "_count",
        "_gate",
        "_hot_until",
        "_keep",
        "_lines",
        "_naive",
        "_stamps",
        "_until",
        "ruleset",
    )

    def __init__(self, ruleset: RuleSet, *, naive: bool = False) -> None:
        self.ruleset = ruleset
        self._naive = naive
        self._keep = naive or ruleset.has_multiline
        self._lines: deque[str] = deque(maxlen=ruleset.buffer_size)
        self._stamps: deque[float | None] = deque(maxlen=ruleset.buffer_size)
        gate: Callable[[str], object] = _never
        if naive or ruleset.always:
            gate = _always
        elif ruleset.gate is not None:
            gate = ruleset.gate.search
        self._gate = gate
        self._count = 0
        self._until = [0] * len(ruleset.rules)
        self._hot_until = 0

    def reset(self) -> None:
        """Forget the buffered lines (a new stream starts)."""
        self._lines.clear()
        self._stamps.clear()
        self._until = [0] * len(self.ruleset.rules)
        self._hot_until = 0

    def feed(self, line: str, stamp: float | None = None) -> list[Match] | None:
        """Add one message; the matches it completes, in rule order, or None (or empty).

        ``stamp`` is the line's time when the source knows it; it comes back as
        :attr:`Match.first_stamp`.
        """
        if self._keep:
            self._lines.append(line)
            self._stamps.append(stamp)
            self._count += 1
            if self._gate(line) is None and self._count > self._hot_until:
                return None
        elif self._gate(line) is None:
            return None
        return self._process(line, stamp)

    def scan(
        self, lines: Sequence[str], stamps: Sequence[float | None] | None = None
    ) -> list[tuple[int, Match]]:
        """Feed a batch; return (index in ``lines``, match) pairs. Faster than ``feed`` per line."""
        found: list[tuple[int, Match]] = []
        gate = self.ruleset.gate
        text = "\n".join(lines)
        if gate is None or self._gate is _always or text.count("\n") != len(lines) - 1:
            # nothing to skip, or a line holds a newline (a multi-line journal entry)
            for i, line in enumerate(lines):
                for m in self.feed(line, stamps[i] if stamps is not None else None) or ():
                    found.append((i, m))
            return found
        search = gate.search
        i, pos, total = 0, 0, len(lines)
        while i < total:
            if self._keep and self._count < self._hot_until:  # inside a multi-line window
                j, start = i, pos
            else:
                hit = search(text, pos)
                if hit is None:
                    self._skip(lines, stamps, i, total)
                    break
                j = i + text.count("\n", pos, hit.start())
                start = text.rfind("\n", 0, hit.start()) + 1
                self._skip(lines, stamps, i, j)
            for m in self.feed(lines[j], stamps[j] if stamps is not None else None) or ():
                found.append((j, m))
            i, pos = j + 1, start + len(lines[j]) + 1
        return found

    def _skip(
        self, lines: Sequence[str], stamps: Sequence[float | None] | None, i: int, j: int
    ) -> None:
        """Account for lines ``i..j-1`` that the gate proved cannot match."""
        if j <= i or not self._keep:
            return
        self._count += j - i
        low = max(i, j - self.ruleset.buffer_size)
        self._lines.extend(lines[low:j])
        self._stamps.extend(stamps[low:j] if stamps is not None else repeat(None, j - low))

    def _process(self, line: str, stamp: float | None) -> list[Match] | None:
        ruleset = self.ruleset
        if self._naive:
            candidates: Iterable[int] = range(len(ruleset.rules))
        else:
            chosen = set(ruleset.always)
            n, window = self._count, ruleset.buffer_size - 1
            for check, members in ruleset.checks:
                if check(line):
                    chosen.update(members)
                    for index in members:
                        if ruleset.rules[index].multiline:
                            self._until[index] = n + window
                            self._hot_until = max(self._hot_until, n + window)
            if self._count <= self._hot_until:
                chosen.update(i for i, until in enumerate(self._until) if until >= n)
            candidates = sorted(chosen)
        found: list[Match] | None = None
        for index in candidates:
            compiled = ruleset.rules[index]
            match = self._match(compiled, line, stamp)
            if match is not None:
                if found is None:
                    found = []
                found.append(match)
        return found

    def _match(self, compiled: CompiledRule, line: str, stamp: float | None) -> Match | None:
        rule = compiled.rule
        if not compiled.multiline:
            found = compiled.regex.search(line)
            if found is None:
                return None
            return _make(rule, found, line, stamp, line)
        lines = self._lines
        text = "\n".join(lines)
        found = compiled.regex.search(text)
        if found is None:
            return None
        first = text.count("\n", 0, found.start() + 1)  # a leading "\n" belongs to the next line
        return _make(rule, found, text[_offset(text, first) :], self._stamps[first], lines[first])


def _always(_line: str) -> bool:
    return True


def _offset(text: str, line_index: int) -> int:
    pos = 0
    for _ in range(line_index):
        pos = text.index("\n", pos) + 1
    return pos


def _make(rule: Rule, found: ReMatch[str], message: str, stamp: float | None, first: str) -> Match:
    if rule.message_suffix:
        message = f"{message}; {rule.message_suffix}"
    labels = {name: found.group(name) or "" for name in rule.labels}
    return Match(rule=rule, message=message, first_stamp=stamp, first_line=first, labels=labels)
