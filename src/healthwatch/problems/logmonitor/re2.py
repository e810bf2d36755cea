"""Go RE2 patterns, as node-problem-detector configs write them, compiled with Python's ``re``.

NPD's rule patterns and its ``filelog`` regexps are RE2. Most RE2 syntax means
the same in Python; the differences that would silently change a match or make
Python reject a valid pattern are translated here:

- ``\\z`` (end of text) becomes ``\\Z``; ``\\Q...\\E`` becomes escaped text;
  ``\\x{10FFFF}`` and octal ``\\123`` become Python escapes;
- ``(?<name>...)`` becomes ``(?P<name>...)``;
- an inline flag group ``(?i)`` anywhere (Python only allows them at the very
  start) becomes a scoped group ``(?i:...)`` covering what RE2 covers: the rest
  of its alternative and every later alternative of the enclosing group;
- POSIX classes ``[[:alpha:]]`` become ranges; ``[``, ``&``, ``~``, ``|`` and a
  second ``-`` inside a class are escaped (Python warns about nested sets);
- patterns compile with ``re.ASCII``, so ``\\d``, ``\\w``, ``\\s`` and ``\\b`` are
  ASCII as in RE2.

RE2 constructs Python lacks (``\\C``, ``\\p{...}`` Unicode classes, the ``U``
flag, negated POSIX classes) are rejected with a ValueError naming them. Python
extensions RE2 does not have (look-around, back-references, possessive
repeats) are accepted: our own rules may use them.
"""

from __future__ import annotations

import re
import warnings
from dataclasses import dataclass, field

__all__ = ["compile_pattern", "translate"]

_POSIX = {
    "alnum": "0-9A-Za-z",
    "alpha": "A-Za-z",
    "ascii": r"\x00-\x7f",
    "blank": r"\t ",
    "cntrl": r"\x00-\x1f\x7f",
    "digit": "0-9",
    "graph": "!-~",
    "lower": "a-z",
    "print": " -~",
    "punct": r"!-/:-@\[-`{-~",
    "space": r"\t\n\v\f\r ",
    "upper": "A-Z",
    "word": "0-9A-Za-z_",
    "xdigit": "0-9A-Fa-f",
}
_POSIX_RE = re.compile(r"\[:(\^?)([a-z]*):\]")
_FLAGS_RE = re.compile(r"\(\?([a-zA-Z]*)(?:-([a-zA-Z]*))?([:)])")
_NAMED_RE = re.compile(r"\(\?<([A-Za-z_][A-Za-z0-9_]*)>")
_OCTAL_RE = re.compile(r"0[0-7]{0,2}|[1-7][0-7]{1,2}")
_HEX_BRACE_RE = re.compile(r"x\{([0-9A-Fa-f]{1,6})\}")


@dataclass
class _Group:
    """One open group: scoped-flag wrappers to close, flags later alternatives inherit."""

    open: int = 0
    carry: list[str] = field(default_factory=list)


def _char(code: int) -> str:
    if code > 0x10FFFF:
        raise ValueError(f"character code {code:#x} is out of range")
    return f"\\U{code:08x}"


def _escape(pattern: str, i: int, *, in_class: bool) -> tuple[str, int]:
    """Translate the escape at ``pattern[i]`` (a backslash); return text and next index."""
    if i + 1 >= len(pattern):
        raise ValueError("trailing backslash")
    nxt = pattern[i + 1]
    if nxt == "z" and not in_class:
        return r"\Z", i + 2
    if nxt == "C":
        raise ValueError(r"\C (any byte) has no Python equivalent")
    if nxt in "pP":
        raise ValueError(f"Unicode class \\{nxt}... is not supported; use an explicit range")
    if nxt == "Q" and not in_class:
        end = pattern.find(r"\E", i + 2)
        text = pattern[i + 2 :] if end < 0 else pattern[i + 2 : end]
        return re.escape(text), len(pattern) if end < 0 else end + 2
    hex_brace = _HEX_BRACE_RE.match(pattern, i + 1)
    if hex_brace is not None:
        return _char(int(hex_brace.group(1), 16)), hex_brace.end()
    octal = _OCTAL_RE.match(pattern, i + 1)
    if octal is not None:
        return _char(int(octal.group(0), 8)), octal.end()
    return pattern[i : i + 2], i + 2


def _char_class(pattern: str, i: int) -> tuple[str, int]:
    """Translate the class starting at ``pattern[i] == '['``."""
    out = ["["]
    i += 1
    if pattern.startswith("^", i):
        out.append("^")
        i += 1
    first, previous = True, ""
    while i < len(pattern):
        ch = pattern[i]
        if ch == "]" and not first:
            out.append("]")
            return "".join(out), i + 1
        first = False
        posix = _POSIX_RE.match(pattern, i) if ch == "[" else None
        if posix is not None:
            negated, name = posix.groups()
            if name not in _POSIX:
                raise ValueError(f"unknown POSIX class [:{name}:]")
            if negated:
                raise ValueError(f"negated POSIX class [:^{name}:] is not supported")
            out.append(_POSIX[name])
            i, previous = posix.end(), ""
            continue
        if ch == "\\":
            text, i = _escape(pattern, i, in_class=True)
            out.append(text)
            previous = ""
            continue
        if ch in "[&~|" or (ch == "-" and previous == "-"):
            out.append("\\" + ch)
            previous = ""
        else:
            out.append(ch)
            previous = ch
        i += 1
    raise ValueError("missing closing ]")


def _open_group(pattern: str, i: int, groups: list[_Group]) -> tuple[str, int]:
    """Translate the ``(`` at ``pattern[i]``; push a group frame when it opens one."""
    top = groups[-1]
    flags = _FLAGS_RE.match(pattern, i)
    if flags is not None:
        on, off, end = flags.groups()
        for flag in (on or "") + (off or ""):
            if flag == "U":
                raise ValueError("flag U (ungreedy) has no Python equivalent")
            if flag not in "ims":
                raise ValueError(f"unknown flag {flag!r} (RE2 flags are i, m, s)")
        spec = on + (f"-{off}" if off else "")
        if not spec and end == ":":  # a plain non-capturing group
            groups.append(_Group())
            return "(?:", flags.end()
        if not spec:
            raise ValueError("empty flag group")
        if end == ")":
            top.open += 1
            top.carry.append(spec)
        else:
            groups.append(_Group())
        return f"(?{spec}:", flags.end()
    named = _NAMED_RE.match(pattern, i)
    if named is not None:
        groups.append(_Group())
        return f"(?P<{named.group(1)}>", named.end()
    for closed in ("(?P=", "(?#"):
        if pattern.startswith(closed, i):
            end = pattern.find(")", i)
            end = len(pattern) - 1 if end < 0 else end
            return pattern[i : end + 1], end + 1
    if pattern.startswith("(?(", i):  # conditional: copy its condition, open the group
        end = pattern.find(")", i + 3)
        end = len(pattern) - 1 if end < 0 else end
        groups.append(_Group())
        return pattern[i : end + 1], end + 1
    groups.append(_Group())
    return "(", i + 1


def translate(pattern: str) -> str:
    """The Python spelling of an RE2 ``pattern``; ValueError naming an unsupported construct."""
    out: list[str] = []
    groups = [_Group()]
    i = 0
    while i < len(pattern):
        ch = pattern[i]
        if ch == "\\":
            text, i = _escape(pattern, i, in_class=False)
        elif ch == "[":
            text, i = _char_class(pattern, i)
        elif ch == "(":
            text, i = _open_group(pattern, i, groups)
        elif ch == ")" and len(groups) > 1:
            text, i = ")" * groups.pop().open + ")", i + 1
        elif ch == "|":
            top = groups[-1]
            text = ")" * top.open + "|" + "".join(f"(?{spec}:" for spec in top.carry)
            top.open = len(top.carry)
            i += 1
        else:
            text, i = ch, i + 1
        out.append(text)
    out.append(")" * groups[-1].open)
    return "".join(out)


def compile_pattern(pattern: str, *, suffix: str = "") -> re.Pattern[str]:
    """Compile an RE2 ``pattern`` (wrapped as ``(?:pattern)suffix`` when a suffix is given).

    Raises ValueError with the reason; the caller names the rule and field.
    """
    python = translate(pattern)
    if suffix:
        python = f"(?:{python}){suffix}"
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        try:
            return re.compile(python, re.ASCII)
        except re.error as error:
            raise ValueError(str(error)) from None
        except (Warning, RecursionError, OverflowError) as error:
            raise ValueError(f"unsupported pattern: {error}") from None
