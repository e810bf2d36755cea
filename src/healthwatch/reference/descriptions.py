"""One description per config field: the source's own words first, then the generator's table.

Why both: attribute docstrings are the best place for a field's meaning, but
most of the config structs were written without them, and the reference may
not edit other parts' modules to add ``msgspec.Meta(description=...)``. So a
field's text is, in order: its docstring or line comment in the source
(``sourcenotes``), else its entry in the tables of ``texts_agent`` and
``texts_problems``; the facts the code knows (``facts``) are appended to either.
:func:`audit` lists every field that has no text, and every table entry that is
stale (its field is gone) or redundant (the source now documents the field).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Final

import msgspec
import msgspec.inspect as mi

from healthwatch.reference.facts import field_facts
from healthwatch.reference.sourcenotes import source_notes
from healthwatch.reference.texts_agent import AGENT_TEXTS
from healthwatch.reference.texts_problems import PROBLEM_TEXTS

__all__ = ["TEXTS", "audit", "describe", "inner_types", "nested_structs", "struct_info"]

TEXTS: Final[Mapping[type, Mapping[str, str]]] = {**AGENT_TEXTS, **PROBLEM_TEXTS}
"""Every table entry: struct → field name → text."""


def describe(cls: type, name: str) -> str:
    """The text of field ``name`` (its Python name) of struct ``cls``; empty when none."""
    text = source_notes(cls).get(name) or TEXTS.get(cls, {}).get(name, "")
    facts = field_facts(cls, name)
    return f"{text} {facts}".strip()


def struct_info(cls: type) -> mi.StructType:
    """``msgspec.inspect``'s view of the struct ``cls``; TypeError if it is not one."""
    info = mi.type_info(cls)
    if not isinstance(info, mi.StructType):
        raise TypeError(f"{cls!r} is not a msgspec struct")
    return info


def inner_types(info: mi.Type) -> Iterator[mi.Type]:
    """``info`` and the types it is made of (union members, list items, mapping values)."""
    yield info
    if isinstance(info, mi.UnionType):
        for member in info.types:
            yield from inner_types(member)
    elif isinstance(info, mi.ListType | mi.SetType | mi.FrozenSetType | mi.VarTupleType):
        yield from inner_types(info.item_type)
    elif isinstance(info, mi.DictType):
        yield from inner_types(info.value_type)


def nested_structs(cls: type[msgspec.Struct]) -> list[tuple[mi.Field, type[msgspec.Struct]]]:
    """The structs the fields of ``cls`` hold: (field, struct), in field order."""
    return [
        (field, inner.cls)
        for field in struct_info(cls).fields
        for inner in inner_types(field.type)
        if isinstance(inner, mi.StructType)
    ]


def _all_structs(roots: list[type[msgspec.Struct]]) -> list[type[msgspec.Struct]]:
    seen: list[type[msgspec.Struct]] = []
    pending = list(roots)
    while pending:
        cls = pending.pop(0)
        if cls not in seen:
            seen.append(cls)
            pending += [inner for _, inner in nested_structs(cls)]
    return seen


def audit(roots: list[type[msgspec.Struct]]) -> list[str]:
    """What keeps the reference from being complete and exact; empty when nothing."""
    problems: list[str] = []
    structs = _all_structs(roots)
    for cls in structs:
        where = f"{cls.__module__}.{cls.__qualname__}"
        own = source_notes(cls)
        table = TEXTS.get(cls, {})
        fields = {f.name for f in struct_info(cls).fields}
        for name in sorted(fields):
            if not (own.get(name) or table.get(name)):
                problems.append(f"{where}.{name}: no description (add a docstring to the field)")
            elif name in own and name in table:
                problems.append(f"{where}.{name}: documented in the source; drop its table entry")
        stale = sorted(table.keys() - fields)
        problems += [f"{where}.{name}: not a field; drop its table entry" for name in stale]
    problems += [
        f"{cls.__module__}.{cls.__qualname__}: not in any section; drop its table entry"
        for cls in TEXTS
        if cls not in structs
    ]
    return problems
