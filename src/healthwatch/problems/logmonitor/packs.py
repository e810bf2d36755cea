"""Rule packs shipped with healthwatch: kernel, container runtime, NVIDIA Xid, MetaX.

A pack is a YAML file in ``healthwatch/problems/packs/`` holding default
``conditions`` and ``rules`` in our rule schema; a log monitor includes packs
by name (``packs: [kernel, nvidia-xid]``) so nobody copies regexes around.
Packs are read and checked once per process, when first used.
"""

from __future__ import annotations

from functools import cache
from importlib import resources
from importlib.resources.abc import Traversable

import msgspec

from healthwatch.config.yamlfile import convert, load_yaml
from healthwatch.model.errors import ConfigError
from healthwatch.problems.logmonitor.rules import Rule
from healthwatch.problems.logmonitor.specs import (
    ConditionSpec,
    DefaultCondition,
    RuleSpec,
    check_rules,
    merge_conditions,
    rule_from_spec,
)

__all__ = ["PackFile", "load_pack", "pack_names"]

_PACKAGE = "healthwatch.problems"
_DIRECTORY = "packs"
_CHECK_BUFFER = 10


class PackFile(msgspec.Struct, forbid_unknown_fields=True, frozen=True, kw_only=True):
    """The content of one pack file."""

    description: str = ""
    conditions: list[ConditionSpec] = msgspec.field(default_factory=list)
    rules: list[RuleSpec] = msgspec.field(default_factory=list)


def _directory() -> Traversable:
    return resources.files(_PACKAGE).joinpath(_DIRECTORY)


@cache
def pack_names() -> tuple[str, ...]:
    """Names of the shipped packs, sorted."""
    return tuple(
        sorted(
            entry.name.removesuffix(".yaml")
            for entry in _directory().iterdir()
            if entry.name.endswith(".yaml") and entry.is_file()
        )
    )


@cache
def load_pack(name: str) -> tuple[tuple[DefaultCondition, ...], tuple[Rule, ...]]:
    """The default conditions and rules of pack ``name``.

    ValueError naming the known packs if there is no such pack; ConfigError if
    the pack file itself is broken.
    """
    if name not in pack_names():
        raise ValueError(f"unknown rule pack {name!r}; shipped packs: {', '.join(pack_names())}")
    with resources.as_file(_directory().joinpath(f"{name}.yaml")) as path:
        data, lines = load_yaml(path)
        source = f"rule pack {name} ({path})"
        if not isinstance(data, dict):
            raise ConfigError(f"{source}: the top level must be a mapping")
        pack = convert(data, PackFile, source=source, lines=lines)

    def where(field: str) -> str:
        line = lines.get(field) or lines.get(field.rpartition(".")[0])
        return f"{source}:{line}" if line else source

    conditions = merge_conditions(
        [
            (
                "conditions",
                [
                    DefaultCondition(type=c.type, reason=c.reason, message=c.message)
                    for c in pack.conditions
                ],
                False,
            )
        ],
        where=where,
    )
    rules = [
        (f"rules[{i}]", rule_from_spec(spec, field=f"rules[{i}]", where=where))
        for i, spec in enumerate(pack.rules)
    ]
    check_rules(rules, conditions, buffer_size=_CHECK_BUFFER, where=where)
    return conditions, tuple(rule for _, rule in rules)
