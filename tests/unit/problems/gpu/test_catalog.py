"""Xid handling by code and PCI bus ids as NVML, the kernel log and sysfs write them."""

from __future__ import annotations

import pytest

from healthwatch.problems.gpu.adapter import normalize_bus_id
from healthwatch.problems.gpu.xids import (
    APPLICATION_XIDS,
    CATALOG,
    DEFAULT_FATAL_XIDS,
    XidKind,
    xid_info,
)

NONE: frozenset[int] = frozenset()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("00000000:3B:00.0", "0000:3b:00.0"),  # NVML busId
        ("0000:3B:00.0", "0000:3b:00.0"),  # NVML busIdLegacy
        ("PCI:0000:3b:00", "0000:3b:00.0"),  # an Xid line
        ("0018:01:00", "0018:01:00.0"),
        ("3b:00.1", "0000:3b:00.1"),
        (" 0000:b3:1f.7 ", "0000:b3:1f.7"),
    ],
)
def test_bus_ids_are_normalised(text: str, expected: str) -> None:
    assert normalize_bus_id(text) == expected


@pytest.mark.parametrize(
    "text",
    ["", "GPU-509665ad", "0000:3b", "0000:3b:00.8", "0000:3b:20.0", "100000:3b:00.0", "x" * 10_000],
)
def test_what_is_not_a_bus_id_is_refused(text: str) -> None:
    with pytest.raises(ValueError, match="PCI"):
        normalize_bus_id(text)


def test_the_default_fatal_set() -> None:
    assert {46, 48, 54, 62, 64, 74, 79, 92, 94, 95, 119, 120, 140, 158} <= DEFAULT_FATAL_XIDS
    assert not APPLICATION_XIDS & DEFAULT_FATAL_XIDS
    assert 63 not in DEFAULT_FATAL_XIDS and CATALOG[63].kind is XidKind.RESET


@pytest.mark.parametrize(
    ("code", "kind"),
    [
        (79, XidKind.FATAL),
        (109, XidKind.APPLICATION),
        (13, XidKind.APPLICATION),
        (63, XidKind.RESET),
        (162, XidKind.INFO),
        (145, XidKind.WARN),
        (500, XidKind.WARN),
    ],
)
def test_default_handling(code: int, kind: XidKind) -> None:
    assert xid_info(code, fatal=DEFAULT_FATAL_XIDS, ignore=NONE).kind is kind


def test_config_sets_override_the_catalog() -> None:
    assert xid_info(79, fatal=DEFAULT_FATAL_XIDS, ignore=frozenset({79})).kind is XidKind.IGNORED
    assert xid_info(79, fatal=frozenset({13}), ignore=NONE).kind is XidKind.WARN
    assert xid_info(13, fatal=frozenset({13}), ignore=NONE).kind is XidKind.FATAL
    unknown = xid_info(500, fatal=frozenset({500}), ignore=NONE)
    assert (unknown.kind, unknown.title) == (XidKind.FATAL, "not in the Xid catalog")
