"""What a pattern needs from a line, found once at compile time so most lines skip every regex.

Running each rule's regex on each line costs microseconds per rule; a kernel log
is almost entirely lines no rule matches. So each compiled pattern is walked
(``re._parser``, the parse tree ``re`` itself compiles from) to find:

- whether it can match a newline at all (if not, it is matched against the
  current line alone rather than the joined buffer);
- a set of literal strings one of which every match must contain (the most
  selective such set found; none when the pattern has no usable literal).

All rules' literals go into one trie-shaped regex, the *gate*: a line on which
the gate finds nothing cannot match any rule that has literals.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

__all__ = ["Literals", "analyse", "literal_regex"]

_parser: Any = importlib.import_module("re._parser")
_c: Any = importlib.import_module("re._constants")

MIN_LITERAL = 3
"""Shorter literals occur on too many lines to be worth a gate."""
MAX_LITERAL = 64
"""Longer literals are cut (a prefix of a required string is required too)."""
_MAX_SET = 64
_REPEATS = (_c.MAX_REPEAT, _c.MIN_REPEAT, _c.POSSESSIVE_REPEAT)
_NEWLINE_CATEGORIES = frozenset(
    {_c.CATEGORY_SPACE, _c.CATEGORY_NOT_DIGIT, _c.CATEGORY_NOT_WORD, _c.CATEGORY_LINEBREAK}
)


@dataclass(frozen=True, slots=True)
class Literals:
    """Every match contains at least one of ``strings`` (compared case-blind if ``icase``)."""

    strings: frozenset[str]
    icase: bool = False

    @property
    def weight(self) -> tuple[int, int]:
        """Higher is better: the shortest string's length, less 2 per doubling of strings
        (each string costs the gate a branch), then fewer strings."""
        count = len(self.strings)
        return min(len(s) for s in self.strings) - 2 * (count - 1).bit_length(), -count

    def check(self) -> Callable[[str], bool]:
        """A fast test of one line."""
        if len(self.strings) == 1 and not self.icase:
            (text,) = self.strings
            return lambda line: text in line
        search = literal_regex([self]).search
        return lambda line: search(line) is not None


def _class_has_newline(items: list[tuple[Any, Any]]) -> bool:
    negate = False
    hit = False
    for op, av in items:
        if op is _c.NEGATE:
            negate = True
        elif op is _c.LITERAL:
            hit = hit or av == 10
        elif op is _c.RANGE:
            hit = hit or av[0] <= 10 <= av[1]
        elif op is _c.CATEGORY:
            hit = hit or av in _NEWLINE_CATEGORIES
        else:
            return True  # unknown item: assume the worst
    return hit != negate


_SIMPLE_NEWLINE: dict[Any, Callable[[Any, int], bool]] = {
    _c.LITERAL: lambda av, _flags: bool(av == 10),
    _c.NOT_LITERAL: lambda av, _flags: bool(av != 10),
    _c.ANY: lambda _av, flags: bool(flags & _c.SRE_FLAG_DOTALL),
    _c.IN: lambda av, _flags: _class_has_newline(av),
    _c.AT: lambda _av, _flags: False,
}


def _newline(seq: Iterable[tuple[Any, Any]], flags: int) -> bool:
    """Can this sequence of nodes consume a newline character?"""
    return any(_node_newline(op, av, flags) for op, av in seq)


def _node_newline(op: Any, av: Any, flags: int) -> bool:
    simple = _SIMPLE_NEWLINE.get(op)
    if simple is not None:
        return simple(av, flags)
    if op in _REPEATS:
        return bool(av[1] != 0 and _newline(av[2], flags))
    if op is _c.SUBPATTERN:
        return _newline(av[3], (flags | av[1]) & ~av[2])
    if op is _c.BRANCH:
        return any(_newline(branch, flags) for branch in av[1])
    if op in (_c.ASSERT, _c.ASSERT_NOT):
        return _newline(av[1], flags)
    if op is _c.ATOMIC_GROUP:
        return _newline(av, flags)
    if op is _c.GROUPREF_EXISTS:
        return _newline(av[1], flags) or (av[2] is not None and _newline(av[2], flags))
    return True  # back-references and anything new: assume the worst


Exact = tuple[frozenset[str], bool]
_EMPTY: Exact = (frozenset({""}), False)


def _product(left: Exact, right: Exact) -> Exact | None:
    if len(left[0]) * len(right[0]) > _MAX_SET:
        return None
    return frozenset(a + b for a in left[0] for b in right[0]), left[1] or right[1]


def _exact_seq(seq: Iterable[tuple[Any, Any]], flags: int) -> Exact | None:
    result: Exact | None = _EMPTY
    for node in seq:
        part = _exact(node, flags)
        if part is None or result is None:
            return None
        result = _product(result, part)
    return result


def _exact_class(items: list[tuple[Any, Any]], icase: bool) -> Exact | None:
    chars: set[str] = set()
    for item, value in items:
        if item is _c.LITERAL:
            chars.add(chr(value))
        elif item is _c.RANGE and value[1] - value[0] < 8:
            chars.update(chr(code) for code in range(value[0], value[1] + 1))
        else:
            return None
    return (frozenset(chars), icase) if len(chars) <= 8 else None


def _exact_branch(branches: list[Any], flags: int) -> Exact | None:
    strings: set[str] = set()
    icase = False
    for branch in branches:
        part = _exact_seq(branch, flags)
        if part is None:
            return None
        strings |= part[0]
        icase = icase or part[1]
    return (frozenset(strings), icase) if len(strings) <= _MAX_SET else None


def _exact_repeat(low: int, high: int, body: Any, flags: int) -> Exact | None:
    part = _exact_seq(body, flags)
    if part is None or high > 4:
        return None
    options: set[str] = set()
    for count in range(low, high + 1):
        power: Exact | None = _EMPTY
        for _ in range(count):
            power = None if power is None else _product(power, part)
        if power is None:
            return None
        options |= power[0]
    return (frozenset(options), part[1]) if len(options) <= _MAX_SET else None


def _exact(node: tuple[Any, Any], flags: int) -> Exact | None:
    """The finite set of strings this node can match, when it is small."""
    op, av = node
    if op is _c.LITERAL:
        return frozenset({chr(av)}), bool(flags & _c.SRE_FLAG_IGNORECASE)
    if op in (_c.AT, _c.ASSERT, _c.ASSERT_NOT):
        return _EMPTY  # zero width
    if op is _c.IN:
        return _exact_class(av, bool(flags & _c.SRE_FLAG_IGNORECASE))
    if op is _c.SUBPATTERN:
        return _exact_seq(av[3], (flags | av[1]) & ~av[2])
    if op is _c.BRANCH:
        return _exact_branch(av[1], flags)
    if op in _REPEATS:
        return _exact_repeat(av[0], av[1], av[2], flags)
    return None


def _usable(exact: Exact) -> Literals | None:
    """Literals from an exact set: newline-free pieces, cut to MAX_LITERAL; None if too short."""
    pieces = set()
    for text in exact[0]:
        piece = max(text.split("\n"), key=len)[:MAX_LITERAL]
        if len(piece) < MIN_LITERAL:
            return None
        pieces.add(piece.lower() if exact[1] else piece)
    return Literals(frozenset(pieces), exact[1]) if pieces else None


def _best(found: Iterable[Literals | None]) -> Literals | None:
    usable = [lit for lit in found if lit is not None]
    return max(usable, key=lambda lit: lit.weight) if usable else None


def _requirements(seq: Iterable[tuple[Any, Any]], flags: int) -> list[Literals | None]:
    """Literal sets, each of which every match of the sequence must satisfy."""
    found: list[Literals | None] = []
    run: Exact = _EMPTY
    for node in seq:
        part = _exact(node, flags)
        joined = _product(run, part) if part is not None else None
        if joined is not None:
            run = joined
            continue
        found.append(_usable(run))
        run = part if part is not None else _EMPTY
        if part is None:
            found.extend(_inner(node, flags))
    found.append(_usable(run))
    return found


def _inner(node: tuple[Any, Any], flags: int) -> list[Literals | None]:
    op, av = node
    if op is _c.SUBPATTERN:
        return _requirements(av[3], (flags | av[1]) & ~av[2])
    if op in _REPEATS and av[0] >= 1:
        return _requirements(av[2], flags)
    if op is _c.ATOMIC_GROUP:
        return _requirements(av, flags)
    if op is _c.BRANCH:
        strings: set[str] = set()
        icase = False
        for branch in av[1]:
            best = _best(_requirements(branch, flags))
            if best is None:
                return []
            strings |= best.strings
            icase = icase or best.icase
        if icase:
            strings = {s.lower() for s in strings}
        return [Literals(frozenset(strings), icase)]
    return []


def analyse(pattern: re.Pattern[str]) -> tuple[bool, Literals | None]:
    """(can it match a newline?, the most selective literals every match contains)."""
    tree = _parser.parse(pattern.pattern, pattern.flags)
    flags = int(tree.state.flags)
    nodes = list(tree)
    return _newline(nodes, flags), _best(_requirements(nodes, flags))


def _char(ch: str, *, blind: bool) -> str:
    if blind and ch.lower() != ch.upper():
        return f"[{re.escape(ch.lower())}{re.escape(ch.upper())}]"
    return re.escape(ch)


def _spellings(word: str, *, blind: bool) -> list[list[str]]:
    """Token sequences spelling ``word``; a case-blind word uses classes, except its first
    character, which gets one spelling per case: ``re`` builds its fast first-character
    skip only when every alternative starts with a plain character (measured: 3x)."""
    rest = [_char(ch, blind=blind) for ch in word[1:]]
    firsts = {word[0].lower(), word[0].upper()} if blind else {word[0]}
    return [[re.escape(first), *rest] for first in sorted(firsts)]


def _trie(spellings: Iterable[list[str]]) -> str:
    """A regex matching any spelling, shaped as a trie so shared prefixes are tried once."""
    root: dict[str, Any] = {}
    for tokens in spellings:
        node = root
        for token in tokens:
            node = node.setdefault(token, {})
        node[""] = {}

    def emit(node: dict[str, Any]) -> str:
        if "" in node:
            return ""  # a shorter word already suffices
        branches = []
        for token, child in sorted(node.items()):
            text, rest = token, child
            while len(rest) == 1 and "" not in rest:  # follow single-child chains flatly
                (nxt, rest) = next(iter(rest.items()))
                text += nxt
            branches.append(text + emit(rest))
        return branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"

    return emit(root)


def _minimal(words: set[str]) -> set[str]:
    """Drop words that contain another: finding the shorter one is enough for a gate."""
    return {w for w in words if not any(o != w and o in w for o in words)}


def literal_regex(sets: Iterable[Literals]) -> re.Pattern[str]:
    """One regex finding any string of any of ``sets`` (the gate, or one rule's check)."""
    exact: set[str] = set()
    blind: set[str] = set()
    for lit in sets:
        if lit.icase:
            blind.update(s.lower() for s in lit.strings)
        else:
            exact.update(lit.strings)
    spellings = [t for w in _minimal(exact) for t in _spellings(w, blind=False)]
    spellings += [t for w in _minimal(blind) for t in _spellings(w, blind=True)]
    return re.compile(_trie(spellings) if spellings else "(?!)")
