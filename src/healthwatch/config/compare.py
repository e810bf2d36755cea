"""Whether two validated config objects say the same thing, for reloads that keep what is unchanged.

A reload rebuilds every check spec and daemon config from the new file, so the
objects are new even where nothing changed, and some of them hold compiled
parts (regexes, condition closures, rule-set tests) that compare by identity.
:func:`config_key` reduces a config object to plain, comparable values: the
public fields of dataclasses and of our own plain classes, every field of
``msgspec`` structs, a regex's pattern and flags, mappings and sequences item by
item. Private fields (a leading ``_``) and callables are what compiling derived
from the public fields, so they are left out. Any other object stands for
itself and compares with its own ``==`` (by identity, for most), so an
unrecognised part makes two configs differ: a reload then restarts what it
belongs to, which is safe.
"""

from __future__ import annotations

import dataclasses
import enum
import functools
import inspect
import re
from collections.abc import Collection, Mapping
from pathlib import PurePath

import msgspec

__all__ = ["config_key", "same_config"]

_PLAIN = (str, bytes, int, float, bool, type(None))
_DERIVED = "<derived>"
_MAX_DEPTH = 64


def same_config(a: object, b: object, *, ignore: Collection[str] = ()) -> bool:
    """True when ``a`` and ``b`` configure the same behaviour.

    ``ignore`` names top-level fields left out of the comparison (``origin``: where
    a config was read from is not what it does).
    """
    return config_key(a, ignore=ignore) == config_key(b, ignore=ignore)


def config_key(value: object, *, ignore: Collection[str] = ()) -> object:
    """``value`` as nested tuples of plain values, equal for configs that behave alike."""
    return _key(value, ignore, 0)


def _key(value: object, ignore: Collection[str], depth: int) -> object:
    if depth > _MAX_DEPTH:
        raise ValueError("config object nested too deeply to compare")
    down = depth + 1
    if isinstance(value, enum.Enum):
        return (type(value).__qualname__, value.value)
    if isinstance(value, _PLAIN):
        return value
    if isinstance(value, PurePath):
        return str(value)
    if isinstance(value, re.Pattern):
        return ("re", value.pattern, value.flags)
    if isinstance(value, functools.partial) or inspect.isroutine(value):
        return _DERIVED
    if isinstance(value, msgspec.Struct):
        names = [f.name for f in msgspec.structs.fields(value) if f.name not in ignore]
        return _fields(value, names, down)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        names = [
            f.name
            for f in dataclasses.fields(value)
            if not f.name.startswith("_") and f.name not in ignore
        ]
        return _fields(value, names, down)
    if isinstance(value, Mapping):
        items = [(_key(k, (), down), _key(v, (), down)) for k, v in value.items()]
        return ("mapping", tuple(sorted(items, key=repr)))
    if isinstance(value, frozenset | set):
        return ("set", tuple(sorted((_key(v, (), down) for v in value), key=repr)))
    if isinstance(value, tuple | list):
        return tuple(_key(v, (), down) for v in value)
    if _is_own_plain_object(value):
        names = [n for n in _attribute_names(value) if n not in ignore]
        return _fields(value, names, down)
    return value


def _fields(value: object, names: list[str], depth: int) -> object:
    return (
        type(value).__qualname__,
        tuple((name, _key(getattr(value, name), (), depth)) for name in names),
    )


def _is_own_plain_object(value: object) -> bool:
    """An object of one of our classes that compares by identity: compared by its state."""
    kind = type(value)
    return kind.__module__.startswith("healthwatch.") and kind.__eq__ is object.__eq__


def _attribute_names(value: object) -> list[str]:
    names: list[str] = []
    for kind in type(value).__mro__:
        slots = kind.__dict__.get("__slots__", ())
        names += [slots] if isinstance(slots, str) else list(slots)
    names += list(getattr(value, "__dict__", {}))
    return sorted({n for n in names if not n.startswith("_") and hasattr(value, n)})
