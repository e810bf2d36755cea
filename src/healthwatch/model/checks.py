"""The outcome of one run of a synthetic check.

Every check kind (HTTP, TCP, DNS, TLS, command, external) reports a
:class:`CheckResult`; the store keeps them, the dashboard shows them and the
exporters count them. Each failed condition carries the value actually observed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

__all__ = ["CheckHistory", "CheckResult", "Observation"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Observation:
    """One condition of a check, with what was expected and what was seen."""

    condition: str
    """The condition as written (``status == 200``)."""
    ok: bool
    """Whether it held."""
    observed: str
    """The value seen, rendered for people (``503``, ``412ms``)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class CheckResult:
    """One run of one check."""

    check_id: str
    """``namespace/name`` of the check."""
    run_id: str
    """Unique id of this run (the Kuberhealthy run uuid for external checks)."""
    ok: bool
    """Whether the run passed."""
    errors: tuple[str, ...] = ()
    """Why it failed, one entry per problem; empty when ``ok``."""
    started_at: float
    """Wall time the run started."""
    duration: float
    """Seconds the run took."""
    observations: tuple[Observation, ...] = ()
    """The conditions evaluated, each with its observed value."""
    attempts: int = 1
    """Attempts made in this run: more than 1 means it passed (or failed) after retrying."""


class CheckHistory(Protocol):
    """Where check results and threshold state are kept (the store implements it)."""

    async def add_result(self, result: CheckResult, *, wait: bool = True) -> bool:
        """Keep one result; False if it had to be dropped (``wait=False`` and the queue full)."""

    async def save_state(self, check_id: str, state: dict[str, Any]) -> None:
        """Keep a check's threshold and alert state."""

    async def load_states(self) -> dict[str, dict[str, Any]]:
        """Every saved state, by check id."""

    async def results(
        self,
        check_id: str,
        *,
        since: float | None = None,
        until: float | None = None,
        limit: int = 1000,
    ) -> list[CheckResult]:
        """Stored results of one check, newest first."""
