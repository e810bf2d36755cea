"""What the source itself says about a config field: its attribute docstring or line comment.

Attribute docstrings (a string right after ``name: type = default``) are not
kept at run time, so the class's source is read and parsed with :mod:`ast`; a
comment at the end of the field's line counts too, unless it is a directive for
a tool (``# noqa``, ``# type:``, ``# pragma``). What the source says wins over
the generator's own table (``descriptions``), so documenting a field where it is
declared is always enough.
"""

from __future__ import annotations

import ast
import functools
import inspect
import io
import re
import textwrap
import tokenize

__all__ = ["clean_text", "source_notes"]

_DIRECTIVE = re.compile(r"^(noqa|type:|pragma|fmt:)", re.IGNORECASE)
_ROLE = re.compile(r":(?:class|func|data|meth|attr|mod|exc):`~?(?:[\w.]+\.)?([\w]+)`")


def clean_text(text: str) -> str:
    """One line of Markdown from a docstring: reST roles and double backquotes made plain."""
    text = _ROLE.sub(r"`\1`", inspect.cleandoc(text))
    text = text.replace("``", "`")
    return " ".join(text.split())


def _comments(source: str) -> dict[int, str]:
    """The comment at the end of each line that has one (line numbers from 1)."""
    found: dict[int, str] = {}
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type == tokenize.COMMENT:
            text = token.string.lstrip("#").strip()
            if text and not _DIRECTIVE.match(text):
                found[token.start[0]] = text
    return found


def _docstring(node: ast.stmt | None) -> str | None:
    if (
        isinstance(node, ast.Expr)
        and isinstance(node.value, ast.Constant)
        and isinstance(node.value.value, str)
    ):
        return node.value.value
    return None


@functools.cache
def source_notes(cls: type) -> dict[str, str]:
    """Field name → what the source of ``cls`` says about it (docstring, else line comment).

    Fields the source says nothing about are absent. A class whose source cannot be
    read (built at run time) has no notes.
    """
    try:
        lines, _ = inspect.getsourcelines(cls)
    except (OSError, TypeError):
        return {}
    source = textwrap.dedent("".join(lines))
    tree = ast.parse(source)
    classdef = next((n for n in tree.body if isinstance(n, ast.ClassDef)), None)
    if classdef is None:
        return {}
    comments = _comments(source)
    notes: dict[str, str] = {}
    body = classdef.body
    for index, node in enumerate(body):
        if not isinstance(node, ast.AnnAssign) or not isinstance(node.target, ast.Name):
            continue
        following = body[index + 1] if index + 1 < len(body) else None
        text = _docstring(following)
        if text is None:
            text = comments.get(node.end_lineno or node.lineno)
        if text:
            notes[node.target.id] = clean_text(text)
    return notes
