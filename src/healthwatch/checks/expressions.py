"""The conditions language of synthetic checks, compiled once when the config is loaded.

Users write conditions such as ``status == 200``, ``latency < 300ms``,
``json.status == "UP"`` or ``cert.expiry > 14d`` in YAML. They are untrusted
text, so this module never hands them to Python's ``eval``: a hand-written
tokenizer and recursive-descent parser build a tree of closures from
:mod:`healthwatch.checks.evaluate`, checking regexes and durations up front.
A mistake is a :class:`ConditionSyntaxError` that points at the column.

Grammar, loosest binding first::

    condition  := or_expr
    or_expr    := and_expr ("or" and_expr)*
    and_expr   := not_expr ("and" not_expr)*
    not_expr   := "not" not_expr | comparison
    comparison := operand [("==" | "!=" | "<" | "<=" | ">" | ">=" | "in" | "not" "in"
                            | "contains" | "matches") operand]
    operand    := literal | "[" [operand ("," operand)*] "]" | "(" or_expr ")"
                | NAME ("." NAME | "[" (STRING | ["-"] INTEGER) "]")*
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Final, Literal

from healthwatch.checks import evaluate as ev
from healthwatch.config.durations import parse_duration
from healthwatch.model.checks import Observation
from healthwatch.model.errors import ConfigError

__all__ = ["MAX_DEPTH", "MAX_LENGTH", "Condition", "ConditionSyntaxError", "compile_condition"]

MAX_LENGTH: Final = 2000
"""Longest condition accepted, in characters."""
MAX_DEPTH: Final = 64
"""Deepest nesting of parentheses, lists and ``not`` accepted."""
DURATION_NAMES: Final = frozenset({"latency", "cert.expiry"})
"""Accessors always rendered as durations in observations."""

_KEYWORDS: Final = frozenset({"and", "or", "not", "in", "matches", "contains"})
_CONSTANTS: Final[dict[str, object]] = {"true": True, "false": False, "null": None}
_COMPARISONS: Final = frozenset({"==", "!=", "<", "<=", ">", ">=", "in", "contains", "matches"})
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_NUMBER = re.compile(r"(\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)([A-Za-zµ_][A-Za-z0-9µ_]*)?")
_OPERATORS = ("==", "!=", "<=", ">=", "<", ">", "(", ")", "[", "]", ",", ".", "-")
_ESCAPES: Final = {'"': '"', "'": "'", "\\": "\\", "n": "\n", "t": "\t"}
_WINDOW: Final = 80


class ConditionSyntaxError(ConfigError):
    """A condition does not parse; the message quotes it and points at the column."""

    def __init__(self, text: str, column: int, reason: str) -> None:
        shown, offset = _window(text, column)
        header = _printable(text[:_WINDOW]) + ("…" if len(text) > _WINDOW else "")
        super().__init__(
            f'condition "{header}": {reason} at column {column}\n    {shown}\n    {" " * offset}^'
        )
        self.text = text
        """The condition as written."""
        self.column = column
        """1-based column of the problem."""
        self.reason = reason
        """What is wrong, without the position."""


def _printable(text: str) -> str:
    return "".join(c if c.isprintable() else " " for c in text)


def _window(text: str, column: int) -> tuple[str, int]:
    """The part of ``text`` around ``column`` to show, and the caret's offset in it."""
    if len(text) <= _WINDOW:
        return _printable(text), column - 1
    start = max(0, min(column - 1 - _WINDOW // 2, len(text) - _WINDOW))
    end = start + _WINDOW
    prefix = "…" if start else ""
    suffix = "…" if end < len(text) else ""
    return prefix + _printable(text[start:end]) + suffix, column - 1 - start + len(prefix)


TokenKind = Literal["number", "duration", "string", "name", "op", "end"]


@dataclass(frozen=True, slots=True)
class _Token:
    kind: TokenKind
    text: str
    value: object
    column: int


def _tokenize(text: str) -> list[_Token]:
    tokens: list[_Token] = []
    pos = 0
    while pos < len(text):
        char = text[pos]
        column = pos + 1
        if char.isspace():
            pos += 1
        elif char in "\"'":
            value, pos = _string(text, pos)
            tokens.append(_Token("string", text[column - 1 : pos], value, column))
        elif "0" <= char <= "9" and (match := _NUMBER.match(text, pos)):
            tokens.append(_number(text, match))
            pos = match.end()
        elif name := _NAME.match(text, pos):
            tokens.append(_Token("name", name.group(), name.group(), column))
            pos = name.end()
        else:
            op = next((op for op in _OPERATORS if text.startswith(op, pos)), None)
            if op is None:
                raise ConditionSyntaxError(text, column, f"unexpected {char!r}")
            tokens.append(_Token("op", op, op, column))
            pos += len(op)
    tokens.append(_Token("end", "", None, len(text) + 1))
    return tokens


def _string(text: str, start: int) -> tuple[str, int]:
    quote, pos = text[start], start + 1
    chars: list[str] = []
    while pos < len(text):
        char = text[pos]
        if char == quote:
            return "".join(chars), pos + 1
        if char == "\\" and pos + 1 < len(text):
            nxt = text[pos + 1]
            # Unknown escapes keep their backslash, so regexes like "\d+" work as written.
            chars.append(_ESCAPES.get(nxt, "\\" + nxt))
            pos += 2
        else:
            chars.append(char)
            pos += 1
    raise ConditionSyntaxError(text, start + 1, "unterminated string")


def _number(text: str, match: re.Match[str]) -> _Token:
    column, whole = match.start() + 1, match.group()
    if match.group(2) is None:
        digits = match.group(1)
        value: float = int(digits) if digits.isdigit() else float(digits)
        return _Token("number", whole, value, column)
    try:
        return _Token("duration", whole, parse_duration(whole), column)
    except ValueError:
        raise ConditionSyntaxError(
            text, column, f"invalid duration {whole!r} (use e.g. 300ms, 1.5s, 5m, 2h, 14d)"
        ) from None


@dataclass(frozen=True, slots=True, kw_only=True)
class _Node:
    run: ev.Evaluator
    accessor: str | None = None
    """The accessor's name when the node is a bare accessor."""
    literal: _Token | None = None
    """The token when the node is a single literal."""
    constant: bool = False
    """Whether the node's value is known at compile time."""


class _Parser:
    def __init__(self, text: str, roots: frozenset[str] | None) -> None:
        self.text = text
        self.roots = roots
        self.tokens = _tokenize(text)
        self.pos = 0
        self.depth = 0
        self.accessors: dict[str, ev.Evaluator] = {}
        self.durations: set[str] = set(DURATION_NAMES)

    def error(self, token: _Token, reason: str | None = None) -> ConditionSyntaxError:
        if reason is None:
            shown = "end of condition" if token.kind == "end" else repr(token.text)
            reason = f"unexpected {shown}"
        return ConditionSyntaxError(self.text, token.column, reason)

    def peek(self, ahead: int = 0) -> _Token:
        return self.tokens[min(self.pos + ahead, len(self.tokens) - 1)]

    def take(self) -> _Token:
        token = self.peek()
        self.pos += 1
        return token

    def at(self, text: str, ahead: int = 0) -> bool:
        token = self.peek(ahead)
        return token.kind in ("op", "name") and token.text == text

    def expect(self, text: str) -> _Token:
        if not self.at(text):
            raise self.error(self.peek(), f"expected {text!r}, found {self._describe()}")
        return self.take()

    def _describe(self) -> str:
        token = self.peek()
        return "end of condition" if token.kind == "end" else repr(token.text)

    def enter(self, token: _Token) -> None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise self.error(token, f"nesting deeper than {MAX_DEPTH} levels")

    def parse(self) -> ev.Evaluator:
        node = self.or_expr()
        if self.peek().kind != "end":
            raise self.error(self.peek())
        return node.run

    def or_expr(self) -> _Node:
        parts = [self.and_expr()]
        while self.at("or"):
            self.take()
            parts.append(self.and_expr())
        return parts[0] if len(parts) == 1 else _Node(run=ev.any_of(tuple(p.run for p in parts)))

    def and_expr(self) -> _Node:
        parts = [self.not_expr()]
        while self.at("and"):
            self.take()
            parts.append(self.not_expr())
        return parts[0] if len(parts) == 1 else _Node(run=ev.all_of(tuple(p.run for p in parts)))

    def not_expr(self) -> _Node:
        if not self.at("not"):
            return self.comparison()
        token = self.take()
        self.enter(token)
        inner = self.not_expr()
        self.depth -= 1
        return _Node(run=ev.negate(inner.run))

    def comparison(self) -> _Node:
        left = self.operand()
        token = self.peek()
        if token.kind == "name" and token.text == "not" and self.at("in", 1):
            self.take()
            op = "not in"
        elif token.kind in ("op", "name") and token.text in _COMPARISONS:
            op = token.text
        else:
            return left
        self.take()
        right_token = self.peek()
        right = self.operand()
        after = self.peek()
        if after.kind in ("op", "name") and (after.text in _COMPARISONS or after.text == "not"):
            raise self.error(after, f"unexpected {after.text!r}; join comparisons with 'and'")
        if op == "matches":
            return _Node(run=ev.matches(left.run, self.regex(right, right_token)))
        for one, other in ((left, right), (right, left)):
            if one.accessor and other.literal is not None and other.literal.kind == "duration":
                self.durations.add(one.accessor)
        return _Node(run=ev.comparison(op, left.run, right.run))

    def regex(self, node: _Node, token: _Token) -> re.Pattern[str]:
        pattern = None if node.literal is None else node.literal.value
        if node.literal is None or node.literal.kind != "string" or not isinstance(pattern, str):
            raise self.error(token, "'matches' needs a quoted regular expression")
        try:
            return re.compile(pattern)
        except (re.error, OverflowError, RecursionError, ValueError) as error:
            reason = getattr(error, "msg", None) or str(error) or type(error).__name__
            raise self.error(token, f"invalid regular expression: {reason}") from None

    def operand(self) -> _Node:
        token = self.peek()
        if token.kind in ("number", "duration", "string"):
            self.take()
            return _Node(run=ev.constant(token.value), literal=token, constant=True)
        number = self.peek(1)
        if (
            self.at("-")
            and number.kind in ("number", "duration")
            and isinstance(number.value, int | float)
        ):
            self.pos += 2
            negative = _Token(number.kind, "-" + number.text, -number.value, token.column)
            return _Node(run=ev.constant(-number.value), literal=negative, constant=True)
        if self.at("("):
            self.enter(self.take())
            inner = self.or_expr()
            self.expect(")")
            self.depth -= 1
            return inner
        if self.at("["):
            return self.list_literal()
        if token.kind == "name" and token.text in _CONSTANTS:
            self.take()
            return _Node(run=ev.constant(_CONSTANTS[token.text]), literal=token, constant=True)
        if token.kind == "name" and token.text not in _KEYWORDS:
            return self.accessor()
        raise self.error(token)

    def list_literal(self) -> _Node:
        self.enter(self.take())
        items: list[_Node] = []
        while not self.at("]"):
            if items:
                self.expect(",")
                if self.at("]"):
                    break  # a trailing comma is fine
            items.append(self.operand())
        self.take()
        self.depth -= 1
        if all(item.constant for item in items):
            values = [item.run({}) for item in items]
            return _Node(run=ev.constant(values), constant=True)
        return _Node(run=ev.list_of(tuple(item.run for item in items)))

    def accessor(self) -> _Node:
        first = self.take()
        if self.roots is not None and first.text not in self.roots:
            known = ", ".join(sorted(self.roots)) or "none"
            raise self.error(first, f"unknown name {first.text!r} (known: {known})")
        names = [first.text]
        steps: list[ev.Step] = []
        display = first.text
        while self.at(".") or self.at("["):
            if self.take().text == ".":
                name = self.take()
                if name.kind != "name":
                    raise self.error(name, f"expected a name after '.', found {name.text!r}")
                (steps if steps else names).append(name.text)
                display += "." + name.text
            else:
                step = self.index()
                steps.append(step)
                display += f'["{step}"]' if isinstance(step, str) else f"[{step}]"
        candidates = tuple(
            (".".join(names[:cut]), (*names[cut:], *steps)) for cut in range(len(names), 0, -1)
        )
        run = ev.accessor(candidates, fold_case=names[0] == "headers")
        self.accessors.setdefault(display, run)
        return _Node(run=run, accessor=display)

    def index(self) -> ev.Step:
        negative = self.at("-")
        if negative:
            self.take()
        token = self.take()
        value: ev.Step
        if token.kind == "string" and not negative and isinstance(token.value, str):
            value = token.value
        elif token.kind == "number" and isinstance(token.value, int):
            value = -token.value if negative else token.value
        else:
            raise self.error(token, "expected a quoted key or an integer index inside '[ ]'")
        self.expect("]")
        return value


@dataclass(frozen=True, slots=True, kw_only=True)
class Condition:
    """A compiled condition; evaluating it only calls the closures built at load time."""

    text: str
    """The condition as written."""
    _run: ev.Evaluator = field(repr=False)
    _observed: tuple[tuple[str, ev.Evaluator, bool], ...] = field(repr=False)

    def evaluate(self, context: Mapping[str, object]) -> Observation:
        """Judge one run's ``context``; never raises, a missing value fails the condition."""
        try:
            result = self._run(context)
            parts = [
                f"{name}={ev.render(get(context), duration=duration)}"
                for name, get, duration in self._observed
            ]
            observed = ", ".join(parts) if parts else ev.render(result)
            return Observation(condition=self.text, ok=ev.truth(result) is True, observed=observed)
        except Exception as error:  # a strange Mapping must fail the check, not the run
            return Observation(
                condition=self.text, ok=False, observed=f"<error: {type(error).__name__}>"
            )


def compile_condition(text: str, *, roots: frozenset[str] | None = None) -> Condition:
    """Compile ``text``; with ``roots``, names outside it are errors, else they are missing."""
    if len(text) > MAX_LENGTH:
        raise ConditionSyntaxError(
            text, MAX_LENGTH + 1, f"condition longer than {MAX_LENGTH} characters"
        )
    if not text.strip():
        raise ConditionSyntaxError(text, 1, "empty condition")
    parser = _Parser(text, roots)
    run = parser.parse()
    observed = tuple(
        (name, get, name in parser.durations) for name, get in parser.accessors.items()
    )
    return Condition(text=text, _run=run, _observed=observed)
