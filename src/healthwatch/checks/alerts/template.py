"""Webhook body templates: ``{{placeholder}}`` substitution, and nothing more.

Receivers want their own JSON shape (``{"text": "{{check}} is {{state}}"}``), so a
webhook or Slack route may carry a template. It is not a template language: no
expressions, no loops, no ``eval``; a placeholder is a name from a fixed list
(:data:`PLACEHOLDERS`, plus ``labels.<name>``) and is replaced by its value
escaped for a JSON string, so an error message with quotes or newlines can never
break the body or inject fields. The template is compiled at load time, and an
unknown placeholder, an unclosed ``{{`` or a template that does not render to
JSON is an error then, not at three in the morning.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

__all__ = ["MAX_TEMPLATE_CHARS", "PLACEHOLDERS", "Template", "TemplateError", "compile_template"]

MAX_TEMPLATE_CHARS: Final = 64 * 1024
PLACEHOLDERS: Final = frozenset(
    {
        "check",
        "namespace",
        "name",
        "state",
        "errors",
        "summary",
        "description",
        "started_at",
        "ended_at",
        "url",
        "sequence",
    }
)
"""Names a template may use, besides ``labels.<name>`` (empty when the label is absent)."""

_PLACEHOLDER: Final = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z0-9_.-]+)?)\s*\}\}")
_SAMPLE: Final[Mapping[str, str]] = {
    "check": "default/web",
    "namespace": "default",
    "name": "web",
    "state": "firing",
    "errors": 'status < 400 (observed status=503); body "x"',
    "summary": "check default/web is failing",
    "description": 'status < 400 (observed status=503)\n"quoted"',
    "started_at": "2026-01-01T00:00:00Z",
    "ended_at": "",
    "url": "http://127.0.0.1:9800/",
    "sequence": "1",
}


class TemplateError(ValueError):
    """A template that cannot be compiled; the message says what and where."""


@dataclass(frozen=True, slots=True)
class Template:
    """A compiled template: literal text and placeholder names, alternating."""

    parts: tuple[str, ...]
    """Literal text at even positions, placeholder names at odd positions."""

    @property
    def names(self) -> frozenset[str]:
        """The placeholders used."""
        return frozenset(self.parts[1::2])

    def render(self, values: Mapping[str, str], labels: Mapping[str, str]) -> str:
        """The text with each placeholder replaced by its value, escaped for a JSON string."""
        out: list[str] = []
        for i, part in enumerate(self.parts):
            if i % 2 == 0:
                out.append(part)
                continue
            if part.startswith("labels."):
                value = labels.get(part.removeprefix("labels."), "")
            else:
                value = values.get(part, "")
            out.append(json.dumps(value, ensure_ascii=False)[1:-1])
        return "".join(out)


def compile_template(text: str) -> Template:
    """Compile ``text``; :class:`TemplateError` for unknown placeholders or non-JSON output."""
    if len(text) > MAX_TEMPLATE_CHARS:
        raise TemplateError(
            f"template is {len(text)} characters; the limit is {MAX_TEMPLATE_CHARS}"
        )
    parts: list[str] = []
    position = 0
    for match in _PLACEHOLDER.finditer(text):
        literal = text[position : match.start()]
        _no_stray_braces(literal, position)
        name = match.group(1)
        if name not in PLACEHOLDERS and not (name.startswith("labels.") and len(name) > 7):
            known = ", ".join(sorted(PLACEHOLDERS))
            raise TemplateError(
                f"unknown placeholder {{{{{name}}}}} at character {match.start() + 1}; "
                f"known: {known}, labels.<name>"
            )
        parts += [literal, name]
        position = match.end()
    tail = text[position:]
    _no_stray_braces(tail, position)
    template = Template((*parts, tail))
    rendered = template.render(_SAMPLE, {})
    try:
        json.loads(rendered)
    except ValueError as error:
        raise TemplateError(
            "template does not render to JSON (placeholders go inside quoted strings, e.g. "
            f'{{"text": "{{{{check}}}} is {{{{state}}}}"}}): {error}'
        ) from None
    return template


def _no_stray_braces(literal: str, offset: int) -> None:
    at = literal.find("{{")
    if at >= 0:
        raise TemplateError(
            f"'{{{{' at character {offset + at + 1} does not open a placeholder "
            "such as {{check}} (letters, digits and _ only)"
        )
