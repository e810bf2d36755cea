"""What the dashboard reads from, and how it words times and withheld details.

The dashboard is built once per web application but the parts it shows may be
replaced while the agent runs (a config reload builds a new checks service), so
the checks service and the store are reached through callables asked on every
request, never held. Everything else here is wording shared by every page: UTC
times with how long ago they were, durations, and the text shown in place of a
message the caller may not see (as on the health listener, messages, log lines
and observed values are details).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Final

from healthwatch.checks.service import CheckService
from healthwatch.exporters.recent import RecentProblems
from healthwatch.health.registry import HealthRegistry
from healthwatch.health.routes import DetailAccess
from healthwatch.health.serializers import ServiceInfo
from healthwatch.store.history import HistoryStore

__all__ = [
    "WITHHELD",
    "DashboardSources",
    "Texts",
    "ago",
    "every",
    "utc",
]

WITHHELD: Final = "withheld (details are shown on loopback or with the token)"


def _none() -> None:
    return None


@dataclass(frozen=True, slots=True, kw_only=True)
class DashboardSources:
    """The live parts of one agent that the dashboard shows."""

    registry: HealthRegistry
    """The agent's own health registry: components, probes, suppression windows, standby."""
    access: DetailAccess
    """Who may see messages, log lines and observed values."""
    info: ServiceInfo
    """Node name and version for the page header."""
    checks: Callable[[], CheckService | None] = field(default=_none)
    """The checks service now (None: no checks)."""
    history: Callable[[], HistoryStore | None] = field(default=_none)
    """The check history store now (None: checks keep no history)."""
    problems: RecentProblems | None = None
    """The recent-problems exporter (None: no problem detection)."""
    refresh_seconds: float = 5.0
    """How often the pages' script asks for changes."""


def every(seconds: float) -> str:
    """A configured period as written: ``30s``, ``5m``, ``1h30m``, ``1.5s``."""
    if seconds != int(seconds) or seconds < 60:
        return f"{seconds:g}s"
    whole, parts = int(seconds), []
    for size, unit in ((86400, "d"), (3600, "h"), (60, "m"), (1, "s")):
        if whole >= size:
            parts.append(f"{whole // size}{unit}")
            whole %= size
    return "".join(parts)


def utc(at: float | None) -> str:
    """``2026-05-01 12:00:03 UTC``; an em dash for None."""
    if at is None:
        return "—"
    return datetime.fromtimestamp(at, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def ago(at: float | None, now: float) -> str:
    """``5s ago``, ``3m ago``, ``2h ago``, ``4d ago``, ``in 2m``; empty for None."""
    if at is None:
        return ""
    delta = now - at
    future = delta < 0
    delta = abs(delta)
    for size, unit in ((86400, "d"), (3600, "h"), (60, "m")):
        if delta >= size:
            amount = f"{int(delta // size)}{unit}"
            break
    else:
        amount = f"{int(delta)}s"
    return f"in {amount}" if future else f"{amount} ago"


@dataclass(frozen=True, slots=True)
class Texts:
    """Details as this caller may see them."""

    details: bool
    """Whether the caller may see messages, log lines and observed values."""

    def shown(self, text: str) -> str:
        """``text``, or the withheld notice."""
        return text if self.details else WITHHELD
