"""Label and field selectors, parsed from the query string the way the API server reads them.

Label selectors support every form the API server does: ``key=value``,
``key==value``, ``key!=value``, ``key in (a,b)``, ``key notin (a,b)``, ``key``
(exists) and ``!key`` (does not exist), joined by commas. Field selectors
support ``path=value``, ``path==value`` and ``path!=value`` on any dotted path
of the object (``metadata.name``, ``spec.nodeName``); the real server allows
only a few paths per kind, the fake allows all. A malformed selector is a 400.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from healthwatch.testing.kubefake.failures import FakeApiError

__all__ = ["Selector", "field_selector", "label_selector"]

Selector = Callable[[Mapping[str, Any]], bool]
_KEY = r"[A-Za-z0-9]([-A-Za-z0-9_./]*[A-Za-z0-9])?"
_VALUE = r"([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?"
_SET = re.compile(rf"^\s*({_KEY})\s+(in|notin)\s+\(([^()]*)\)\s*$")
_COMPARE = re.compile(rf"^\s*({_KEY})\s*(==|!=|=)\s*({_VALUE})\s*$")
_EXISTS = re.compile(rf"^\s*(!?)\s*({_KEY})\s*$")
_MAX_SELECTOR = 4096


def _split(text: str) -> list[str]:
    """Comma-separated requirements, commas inside ``( )`` kept."""
    parts: list[str] = []
    depth = 0
    current = ""
    for char in text:
        depth += {"(": 1, ")": -1}.get(char, 0)
        if depth < 0 or depth > 1:
            raise FakeApiError(400, f"unbalanced parentheses in selector {text!r}")
        if char == "," and depth == 0:
            parts.append(current)
            current = ""
        else:
            current += char
    parts.append(current)
    return parts


def _labels(obj: Mapping[str, Any]) -> Mapping[str, Any]:
    metadata = obj.get("metadata")
    labels = metadata.get("labels") if isinstance(metadata, Mapping) else None
    return labels if isinstance(labels, Mapping) else {}


def _requirement(text: str) -> Selector:
    if match := _SET.match(text):
        key, operator = match.group(1), match.group(3)
        values = {value.strip() for value in match.group(4).split(",")}
        if operator == "in":
            return lambda obj: _labels(obj).get(key) in values
        return lambda obj: _labels(obj).get(key) not in values
    if match := _COMPARE.match(text):
        key, operator, value = match.group(1), match.group(3), match.group(4)
        if operator == "!=":
            return lambda obj: _labels(obj).get(key) != value
        return lambda obj: _labels(obj).get(key) == value
    if match := _EXISTS.match(text):
        negated, key = match.group(1) == "!", match.group(2)
        return lambda obj: (key in _labels(obj)) != negated
    raise FakeApiError(400, f"unable to parse requirement {text.strip()!r} of a label selector")


def label_selector(text: str | None) -> Selector:
    """A predicate over objects for the ``labelSelector`` query parameter."""
    if not text or not text.strip():
        return lambda _obj: True
    if len(text) > _MAX_SELECTOR:
        raise FakeApiError(400, f"label selector longer than {_MAX_SELECTOR} characters")
    requirements = [_requirement(part) for part in _split(text)]
    return lambda obj: all(requirement(obj) for requirement in requirements)


def _field_value(obj: Mapping[str, Any], path: str) -> str:
    node: Any = obj
    for part in path.split("."):
        node = node.get(part) if isinstance(node, Mapping) else None
    if node is None:
        return ""
    if isinstance(node, bool):
        return "true" if node else "false"
    return str(node)


def field_selector(text: str | None) -> Selector:
    """A predicate over objects for the ``fieldSelector`` query parameter."""
    if not text or not text.strip():
        return lambda _obj: True
    if len(text) > _MAX_SELECTOR:
        raise FakeApiError(400, f"field selector longer than {_MAX_SELECTOR} characters")
    tests: list[tuple[str, bool, str]] = []
    for part in text.split(","):
        match = re.fullmatch(r"\s*([A-Za-z0-9_.]+)\s*(==|!=|=)\s*(.*?)\s*", part)
        if match is None:
            raise FakeApiError(400, f"invalid field selector requirement {part.strip()!r}")
        tests.append((match.group(1), match.group(2) == "!=", match.group(3)))
    return lambda obj: all(
        (_field_value(obj, path) == value) != negated for path, negated, value in tests
    )
