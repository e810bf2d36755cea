"""What compiled conditions do at run time: look values up, compare, combine, render.

The parser in :mod:`healthwatch.checks.expressions` turns a condition into a
tree of the small closures built here once, at load time, so a check run only
calls functions. Nothing here raises on odd data: a value that is absent is
:data:`MISSING` (the condition then fails), and comparing values of kinds that
do not go together (a number with a string) is simply false. Logic is
three-valued: ``and``/``or``/``not`` pass :data:`MISSING` through as "unknown",
so ``not (status == 200)`` does not pass when there is no status at all.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Mapping
from typing import Final

from healthwatch.config.durations import format_duration

__all__ = [
    "MISSING",
    "RENDER_LIMIT",
    "Context",
    "Evaluator",
    "Step",
    "accessor",
    "all_of",
    "any_of",
    "comparison",
    "constant",
    "list_of",
    "matches",
    "negate",
    "render",
    "render_duration",
    "truth",
]


class _Missing:
    """The type of :data:`MISSING`."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "<missing>"


MISSING: Final = _Missing()
"""A value the context does not have; any comparison with it is unknown."""
RENDER_LIMIT: Final = 200
"""Longest rendering of one observed value, in characters."""
_MAX_ITEMS: Final = 20
_MAX_RENDER_DEPTH: Final = 6
_MAX_SECONDS: Final = 10 * 365 * 86400.0

Context = Mapping[str, object]
"""What a check run observed: ``status``, ``latency``, ``json``, ``headers``..."""
Evaluator = Callable[[Context], object]
"""One compiled node: takes the context, returns a value, a bool or :data:`MISSING`."""
Step = str | int
"""One step of an accessor path: a key of a mapping or an index into a list."""


def constant(value: object) -> Evaluator:
    """A node that always gives ``value``."""

    def run(_context: Context) -> object:
        return value

    return run


def accessor(candidates: tuple[tuple[str, tuple[Step, ...]], ...], *, fold_case: bool) -> Evaluator:
    """A node looking a path up in the context.

    ``candidates`` are (flat key, remaining steps) pairs tried in order, so
    ``cert.expiry`` finds either ``{"cert.expiry": ...}`` or ``{"cert": {"expiry": ...}}``.
    ``fold_case`` makes string keys match case-insensitively (for headers).
    """

    def run(context: Context) -> object:
        for key, steps in candidates:
            value = context.get(key, MISSING)
            if value is not MISSING:
                return _walk(value, steps, fold_case=fold_case)
        return MISSING

    return run


def _walk(value: object, steps: tuple[Step, ...], *, fold_case: bool) -> object:
    for step in steps:
        if isinstance(step, str):
            if not isinstance(value, Mapping):
                return MISSING
            found = value.get(step, MISSING)
            if found is MISSING and fold_case:
                wanted = step.casefold()
                found = next(
                    (v for k, v in value.items() if isinstance(k, str) and k.casefold() == wanted),
                    MISSING,
                )
            value = found
        elif isinstance(value, list | tuple) and -len(value) <= step < len(value):
            value = value[step]
        else:
            return MISSING
        if value is MISSING:
            return MISSING
    return value


def list_of(items: tuple[Evaluator, ...]) -> Evaluator:
    """A node building a list from ``items``; missing if any item is."""

    def run(context: Context) -> object:
        values: list[object] = []
        for item in items:
            value = item(context)
            if value is MISSING:
                return MISSING
            values.append(value)
        return values

    return run


def _kind(value: object) -> str | None:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list | tuple):
        return "list"
    if isinstance(value, Mapping):
        return "mapping"
    return None


def _equal(left: object, right: object) -> bool | None:
    """Whether the values are equal; None when their kinds cannot be compared."""
    kind = _kind(left)
    if kind == "null" or _kind(right) == "null":
        return left is right
    if kind is None or kind != _kind(right):
        return None
    if isinstance(left, list | tuple) and isinstance(right, list | tuple):
        return len(left) == len(right) and all(
            _equal(a, b) is True for a, b in zip(left, right, strict=True)
        )
    if isinstance(left, Mapping) and isinstance(right, Mapping):
        return len(left) == len(right) and all(
            _equal(v, right.get(k, MISSING)) is True for k, v in left.items()
        )
    return left == right


def _member(item: object, container: object) -> bool | None:
    """Whether ``item`` is in ``container``; None when that question makes no sense."""
    if isinstance(container, str):
        return item in container if isinstance(item, str) else None
    if isinstance(container, list | tuple):
        return any(_equal(item, element) is True for element in container)
    if isinstance(container, Mapping):
        return item in container if isinstance(item, str) else None
    return None


def _order(left: object, right: object) -> int | None:
    """-1, 0 or 1 for two numbers or two strings; None for anything else (and NaN)."""
    if isinstance(left, str) and isinstance(right, str):
        return (left > right) - (left < right)
    if (
        isinstance(left, int | float)
        and isinstance(right, int | float)
        and not isinstance(left, bool)
        and not isinstance(right, bool)
    ):
        if left < right:
            return -1
        if left > right:
            return 1
        return 0 if left == right else None
    return None


_TESTS: Final[dict[str, Callable[[object, object], bool]]] = {
    "==": lambda a, b: _equal(a, b) is True,
    "!=": lambda a, b: _equal(a, b) is False,
    "<": lambda a, b: _order(a, b) == -1,
    "<=": lambda a, b: _order(a, b) in (-1, 0),
    ">": lambda a, b: _order(a, b) == 1,
    ">=": lambda a, b: _order(a, b) in (0, 1),
    "in": lambda a, b: _member(a, b) is True,
    "not in": lambda a, b: _member(a, b) is False,
    "contains": lambda a, b: _member(b, a) is True,
}


def comparison(op: str, left: Evaluator, right: Evaluator) -> Evaluator:
    """A node comparing two values with ``op`` (one of ``==``, ``<``, ``in``, ``contains``...)."""
    test = _TESTS[op]

    def run(context: Context) -> object:
        a = left(context)
        if a is MISSING:
            return MISSING
        b = right(context)
        if b is MISSING:
            return MISSING
        return test(a, b)

    return run


def matches(left: Evaluator, pattern: re.Pattern[str]) -> Evaluator:
    """A node testing whether a string value contains a match of ``pattern``."""

    def run(context: Context) -> object:
        value = left(context)
        if value is MISSING:
            return MISSING
        return isinstance(value, str) and pattern.search(value) is not None

    return run


def truth(value: object) -> bool | _Missing:
    """The truth of a value in ``and``/``or``/``not``: unknown for :data:`MISSING`."""
    if value is MISSING:
        return MISSING
    if _kind(value) is None:
        return False
    return bool(value)


def _junction(parts: tuple[Evaluator, ...], decisive: bool) -> Evaluator:
    """``and`` (decisive False) or ``or`` (decisive True), with unknown passed through."""

    def run(context: Context) -> object:
        unknown = False
        for part in parts:
            value = truth(part(context))
            if value is decisive:
                return decisive
            unknown = unknown or value is MISSING
        return MISSING if unknown else not decisive

    return run


def all_of(parts: tuple[Evaluator, ...]) -> Evaluator:
    """``a and b and ...``: false if any is false, else unknown if any is unknown."""
    return _junction(parts, False)


def any_of(parts: tuple[Evaluator, ...]) -> Evaluator:
    """``a or b or ...``: true if any is true, else unknown if any is unknown."""
    return _junction(parts, True)


def negate(inner: Evaluator) -> Evaluator:
    """``not a``; unknown stays unknown."""

    def run(context: Context) -> object:
        value = truth(inner(context))
        return value if value is MISSING else not value

    return run


def render_duration(seconds: float) -> str:
    """Seconds as people write them (``412ms``, ``3.2s``, ``5m``), parsed back by parse_duration."""
    if not math.isfinite(seconds):
        return f"{seconds:g}"
    if abs(seconds) > _MAX_SECONDS:
        return f"{seconds:g}s"
    sign = "-" if seconds < 0 else ""
    seconds = abs(float(seconds))
    if seconds < 1:
        return f"{sign}{_decimal(seconds * 1000)}ms"
    if seconds < 60 or not seconds.is_integer():
        return f"{sign}{_decimal(seconds)}s"
    return sign + format_duration(seconds)


def _decimal(number: float) -> str:
    return f"{number:.3f}".rstrip("0").rstrip(".")


def render(value: object, *, duration: bool = False) -> str:
    """A short rendering of an observed value, at most :data:`RENDER_LIMIT` characters."""
    text = _render(value, duration=duration, depth=0)
    if len(text) > RENDER_LIMIT:
        return text[: RENDER_LIMIT - 1] + "…"
    return text


def _render(value: object, *, duration: bool, depth: int) -> str:
    if value is MISSING:
        return "<missing>"
    kind = _kind(value)
    if kind == "null":
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return _render_number(value, duration=duration)
    if isinstance(value, str):
        return json.dumps(value[: RENDER_LIMIT + 1], ensure_ascii=False)
    if depth >= _MAX_RENDER_DEPTH:
        return "[…]" if kind == "list" else "{…}" if kind == "mapping" else "…"
    if isinstance(value, list | tuple):
        items = [_render(v, duration=duration, depth=depth + 1) for v in value[:_MAX_ITEMS]]
        return "[" + ", ".join(items + (["…"] if len(value) > _MAX_ITEMS else [])) + "]"
    if isinstance(value, Mapping):
        pairs: list[str] = []
        for index, (key, item) in enumerate(value.items()):
            if index == _MAX_ITEMS:
                pairs.append("…")
                break
            rendered_key = _render(key, duration=False, depth=depth + 1)
            pairs.append(f"{rendered_key}: {_render(item, duration=False, depth=depth + 1)}")
        return "{" + ", ".join(pairs) + "}"
    return f"<{type(value).__name__}>"


def _render_number(value: float, *, duration: bool) -> str:
    if isinstance(value, int):
        if value.bit_length() > 128:
            return f"<{value.bit_length()}-bit integer>"
        return render_duration(float(value)) if duration else str(value)
    return render_duration(value) if duration else f"{value:.10g}"
