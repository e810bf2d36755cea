"""Counting journal entries: complete lines only, cursors, the loopback window, odd input."""

from __future__ import annotations

import json

import pytest

from healthwatch.problems.servicemonitor.config import build_service_monitor
from healthwatch.problems.servicemonitor.journal import MAX_KEPT, JournalCounter, LogPattern

START = 1_700_000_000.0


def patterns(*specs: dict[str, object]) -> tuple[LogPattern, ...]:
    config = build_service_monitor(
        {"component": "kubelet", "log_patterns": list(specs)}, source="a.yaml"
    )
    return config.log_patterns


def line(t: float, message: object, cursor: str | None = "s=1;i=1") -> bytes:
    data: dict[str, object] = {"__REALTIME_TIMESTAMP": str(int(t * 1e6)), "MESSAGE": message}
    if cursor is not None:
        data["__CURSOR"] = cursor
    return json.dumps(data).encode() + b"\n"


def test_counts_complete_lines_and_keeps_the_last_cursor() -> None:
    counter = JournalCounter("k.service", patterns({"pattern": "oops"}, {"pattern": "^boom$"}))
    output = (
        line(START + 1, "an OOPS here", "s=a;i=1")
        + line(START + 2, "boom", "s=a;i=2")
        + line(START - 1, "oops, before the start", "s=a;i=3")
        + b'{"__CURSOR": "s=a;i=4", "MESSAGE": "oops cut sh'
    )
    assert counter.feed(output, floor=START) == 3
    assert counter.counts(START) == (1, 1)
    assert counter.argv(floor=START)[-2:] == ["--after-cursor", "s=a;i=3"]


@pytest.mark.parametrize(
    "raw",
    [
        b"not json\n",
        b"[1, 2]\n",
        b'{"MESSAGE": 5}\n',
        b'{"MESSAGE": null, "__CURSOR": "s=x; rm -rf /"}\n',
        b"\xff\xfe\n",
        b"-- No entries --\n",
    ],
)
def test_odd_lines_count_nothing_and_never_become_a_cursor(raw: bytes) -> None:
    counter = JournalCounter("k.service", patterns({"pattern": "."}))
    counter.feed(raw, floor=START)
    assert counter.counts(START) == (0,)
    assert "--after-cursor" not in counter.argv(floor=START)


def test_binary_messages_are_decoded() -> None:
    counter = JournalCounter("k.service", patterns({"pattern": "caf"}))
    counter.feed(line(START + 1, [99, 97, 102, 255, 999, "x"]), floor=START)
    assert counter.counts(START) == (1,)


def test_loopback_window_drops_old_matches() -> None:
    counter = JournalCounter("k.service", patterns({"pattern": "err"}), loopback=60)
    assert counter.floor(START, START + 30) == START
    assert counter.floor(START, START + 600) == START + 540
    counter.feed(line(START + 10, "err") + line(START + 100, "err"), floor=START)
    assert counter.counts(START) == (2,)
    assert counter.counts(START + 50) == (1,)
    assert counter.counts(START + 500) == (0,)


def test_loopback_counts_saturate() -> None:
    counter = JournalCounter("k.service", patterns({"pattern": "e"}), loopback=60)
    counter.feed(line(START + 1, "e") * (MAX_KEPT + 5), floor=START)
    assert counter.counts(START) == (MAX_KEPT,)


def test_reset_forgets_cursor_and_counts() -> None:
    counter = JournalCounter("k.service", patterns({"pattern": "e"}))
    counter.feed(line(START + 1, "e"), floor=START)
    counter.reset()
    assert counter.counts(START) == (0,)
    assert counter.argv(floor=START) == [
        "journalctl",
        "--unit",
        "k.service",
        "--since",
        f"@{int(START)}",
        "--no-pager",
        "--output=json",
        "--output-fields=MESSAGE",
    ]
