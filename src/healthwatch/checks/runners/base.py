"""The contract every check runner keeps: run once, never raise, report what was observed.

A runner performs one attempt of one check kind and returns a :class:`Probe`:
whether the attempt itself worked (the connection was made, the command ran),
how long it took, an error when it did not, and the observed values the
conditions language reads (``status``, ``latency``, ``headers``, ``body``,
``json``, ``cert``, ``tcp``, ``exit_code``, ``stdout``, ...). Conditions decide
whether the check passed; the runner only observes. Every runner bounds its
time (the ``timeout`` it is given) and the size of what it reads.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

__all__ = ["MAX_BODY", "Probe"]

MAX_BODY = 1024 * 1024
"""Bytes of a response body or command output kept for conditions; the rest is discarded."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Probe:
    """What one attempt observed."""

    reached: bool
    """True when the target answered at all (connected, resolved, the command ran)."""
    duration: float
    """Seconds the attempt took."""
    error: str = ""
    """Why the target was not reached (or what went wrong on the way); empty otherwise."""
    context: Mapping[str, object] = field(default_factory=lambda: MappingProxyType({}))
    """Observed values by accessor root, for the conditions language."""
