"""What a log source hands the monitor: batches of lines, and counters of what happened.

Sources (``kmsg``, ``file``, ``journald``) read without blocking the event loop
and yield :class:`Batch` values: the lines' text, their timestamps when the
source knows them (kmsg records and journal entries carry one; a plain file's
line does not, and the monitor parses it from the text only when a rule
matches), and the number of the first line when lines are numbered (files,
replays). Batching keeps the per-line cost at a few hundred nanoseconds.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

__all__ = ["Batch", "LogSource", "SourceStats"]


@dataclass(slots=True)
class Batch:
    """Consecutive lines from one source."""

    lines: list[str]
    """Text of each line, without the line ending (invalid UTF-8 replaced, length capped)."""
    timestamps: list[float] | None = None
    """Wall time of each line when the source knows it; None when it must come from the text."""
    first_lineno: int | None = None
    """1-based number of ``lines[0]`` in its file, when lines are numbered."""


@dataclass(slots=True)
class SourceStats:
    """Counters a source keeps; exported as metrics and shown in its health component."""

    lines: int = 0
    """Lines (records, entries) read."""
    bytes: int = 0
    """Bytes read."""
    lost: int = 0
    """Records known to be lost (kmsg buffer overrun, lines shed under overload)."""
    truncated: int = 0
    """Lines cut at the length cap."""
    decode_errors: int = 0
    """Lines that were not valid UTF-8 (kept, with replacement characters)."""
    reopens: int = 0
    """Times the source reopened its input (rotation, re-creation, restart of journalctl)."""
    errors: int = 0
    """Read errors survived."""
    last_error: str = ""
    """The latest error, for the health component's message."""
    extra: dict[str, int] = field(default_factory=dict)
    """Source-specific counters."""


@runtime_checkable
class LogSource(Protocol):
    """A source of log lines."""

    name: str
    """Short description for messages: ``kmsg``, ``file /var/log/kern.log``, ``journald``."""
    stats: SourceStats

    async def open(self) -> None:
        """Open the input now; raise ``HealthwatchError`` naming what is wrong if it cannot."""

    def batches(self) -> AsyncIterator[Batch]:
        """Yield batches until cancelled (or, for a finite input such as a replay, until EOF)."""

    async def close(self) -> None:
        """Release the input."""
