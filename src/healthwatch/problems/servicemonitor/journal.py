"""Counting a unit's journal lines that match configured patterns, since the unit started.

node-problem-detector pipes ``journalctl --unit U --since START`` into ``grep -i |
wc -l`` on every check, re-reading everything the unit ever logged. Here the
journal is read as JSON (cursor, time and message of each entry) and counted in
Python, and each poll continues after the last entry seen (``--after-cursor``),
so a long-running kubelet costs only its new lines. The count starts again when
the unit restarts, when the cursor is refused (journal rotated), and, with a
``loopback``, drops matches older than the window.

Output is capped per poll; when the cap or the timeout cuts a poll short, the
complete entries read are counted and the next poll carries on from the last of
them, so a huge journal is caught up over a few polls instead of being lost.
"""

from __future__ import annotations

import json
import re
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

import msgspec

from healthwatch.aio.processes import Command, run_command
from healthwatch.problems.servicemonitor.validation import Where, fail

__all__ = [
    "JOURNAL_OUTPUT_CAP",
    "MAX_KEPT",
    "JournalCounter",
    "JournalReading",
    "LogPattern",
    "LogPatternSpec",
    "compile_patterns",
]

JOURNAL_OUTPUT_CAP: Final = 4 * 1024 * 1024
"""Bytes of journal JSON read per poll."""
MAX_KEPT: Final = 10_000
"""Match times kept per pattern with a loopback window (the count saturates there)."""
MAX_PATTERNS: Final = 64
MAX_PATTERN_COUNT: Final = 10_000
_CURSOR = re.compile(r"[A-Za-z0-9=;_-]{1,512}")


class LogPatternSpec(msgspec.Struct, forbid_unknown_fields=True, frozen=True, kw_only=True):
    """One ``log_patterns`` entry: a regex and how many matching lines make the unit unhealthy."""

    pattern: str
    count: int = 1


@dataclass(frozen=True, slots=True, kw_only=True)
class LogPattern:
    """A compiled log pattern with its threshold."""

    text: str
    """The pattern as written (also the metric label)."""
    regex: re.Pattern[str]
    """Compiled, case-insensitive (as ``grep -i``), searched anywhere in a message."""
    count: int
    """Matching lines since the unit started (or within ``loopback``) that make it unhealthy."""


def compile_patterns(
    where: Where, label: str, specs: Sequence[LogPatternSpec]
) -> tuple[LogPattern, ...]:
    """Compile the ``log_patterns`` entries; errors name each bad field."""
    if len(specs) > MAX_PATTERNS:
        raise fail(where, f"{label}log_patterns", f"at most {MAX_PATTERNS} patterns", len(specs))
    built = []
    for i, spec in enumerate(specs):
        field = f"{label}log_patterns[{i}]"
        if not spec.pattern.strip():
            raise fail(where, f"{field}.pattern", "must not be empty", spec.pattern)
        if not 1 <= spec.count <= MAX_PATTERN_COUNT:
            raise fail(
                where, f"{field}.count", f"must be between 1 and {MAX_PATTERN_COUNT}", spec.count
            )
        try:
            regex = re.compile(spec.pattern, re.IGNORECASE)
        except re.error as error:
            raise fail(where, f"{field}.pattern", f"invalid regex: {error}", spec.pattern) from None
        built.append(LogPattern(text=spec.pattern, regex=regex, count=spec.count))
    return tuple(built)


@dataclass(frozen=True, slots=True, kw_only=True)
class JournalReading:
    """The counts after one poll."""

    counts: tuple[int, ...]
    """Matching lines per pattern (same order as the config)."""
    entries: int
    """Entries read by this poll."""
    partial: bool
    """Cut short by the output cap or the timeout: counts are still catching up."""
    error: str
    """Why journalctl failed (empty when it did not)."""


class JournalCounter:
    """Running per-pattern counts over one unit's journal."""

    def __init__(
        self,
        unit: str,
        patterns: Sequence[LogPattern],
        *,
        loopback: float = 0.0,
        output_cap: int = JOURNAL_OUTPUT_CAP,
    ) -> None:
        self.unit = unit
        self.patterns = tuple(patterns)
        self.loopback = loopback
        self.output_cap = output_cap
        self._since: float | None = None
        self._cursor: str | None = None
        self._fields = True
        self._totals = [0] * len(self.patterns)
        self._stamps: list[deque[float]] = [deque(maxlen=MAX_KEPT) for _ in self.patterns]

    def reset(self) -> None:
        """Forget the cursor and the counts (the unit restarted, or the journal moved)."""
        self._cursor = None
        self._totals = [0] * len(self.patterns)
        for stamps in self._stamps:
            stamps.clear()

    def floor(self, started_at: float, now: float) -> float:
        """Oldest time counted: the unit's start, or ``now - loopback`` when that is later."""
        return max(started_at, now - self.loopback) if self.loopback > 0 else started_at

    def argv(self, *, floor: float) -> list[str]:
        """The journalctl command for the next read."""
        argv = ["journalctl", "--unit", self.unit, "--since", f"@{int(floor)}", "--no-pager"]
        argv.append("--output=json")
        if self._fields:
            argv.append("--output-fields=MESSAGE")
        if self._cursor is not None:
            argv += ["--after-cursor", self._cursor]
        return argv

    def counts(self, floor: float) -> tuple[int, ...]:
        """Current counts, dropping matches older than ``floor`` when a loopback is set."""
        if self.loopback <= 0:
            return tuple(self._totals)
        for stamps in self._stamps:
            while stamps and stamps[0] < floor:
                stamps.popleft()
        return tuple(len(stamps) for stamps in self._stamps)

    def feed(self, output: bytes, *, floor: float) -> int:
        """Count the complete entries in ``output``; return how many were read."""
        complete = output[: output.rfind(b"\n") + 1]
        entries = 0
        for raw in complete.splitlines():
            entry = _entry(raw)
            if entry is None:
                continue
            cursor, stamp, message = entry
            entries += 1
            if cursor is not None:
                self._cursor = cursor
            if stamp is not None and stamp < floor:
                continue
            at = stamp if stamp is not None else floor
            for i, pattern in enumerate(self.patterns):
                if pattern.regex.search(message):
                    self._totals[i] += 1
                    self._stamps[i].append(at)
        return entries

    async def read(self, *, started_at: float, now: float, timeout: float) -> JournalReading:  # noqa: ASYNC109
        """Read what the unit logged since the last poll and return the counts."""
        if started_at != self._since:
            self._since = started_at
            self.reset()
        floor = self.floor(started_at, now)
        used_cursor = self._cursor is not None
        result = await run_command(
            Command(argv=self.argv(floor=floor), output_cap=self.output_cap), timeout=timeout
        )
        stderr = result.stderr.decode("utf-8", "replace").strip()
        if result.exit_code not in (0, None) and self._fields and "output-fields" in stderr:
            self._fields = False  # an old journalctl: whole entries, counted all the same
            result = await run_command(
                Command(argv=self.argv(floor=floor), output_cap=self.output_cap), timeout=timeout
            )
            stderr = result.stderr.decode("utf-8", "replace").strip()
        entries = self.feed(result.stdout, floor=floor)
        error = ""
        if not result.started:
            error = result.error
        elif result.timed_out:
            error = f"journalctl timed out after {timeout:g}s"
        elif result.exit_code != 0:
            error = f"journalctl exited with {result.exit_code}: {stderr[:200]}"
            if used_cursor and entries == 0:
                self.reset()  # the cursor may be gone (rotated, vacuumed): count again
        return JournalReading(
            counts=self.counts(floor),
            entries=entries,
            partial=result.stdout_truncated or result.timed_out,
            error=error,
        )


def _entry(raw: bytes) -> tuple[str | None, float | None, str] | None:
    """(cursor, wall time, message) of one JSON line; None when it is not an entry."""
    try:
        data = json.loads(raw)
    except ValueError:
        return None
    if not isinstance(data, dict):
        return None
    cursor = data.get("__CURSOR")
    if not isinstance(cursor, str) or _CURSOR.fullmatch(cursor) is None:
        cursor = None
    stamp: float | None = None
    realtime = data.get("__REALTIME_TIMESTAMP")
    if isinstance(realtime, str) and realtime.isdigit():
        stamp = int(realtime) / 1e6
    message = data.get("MESSAGE")
    if isinstance(message, list):  # journald's form for messages that are not UTF-8
        message = bytes(b for b in message if isinstance(b, int) and 0 <= b < 256).decode(
            "utf-8", "replace"
        )
    if not isinstance(message, str):
        message = ""
    return cursor, stamp, message
