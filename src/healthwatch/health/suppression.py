"""Suppression windows: planned periods during which a probe passes regardless.

Used around planned restarts of a dependency, or during a slow warm-up, so that
a blip does not fail readiness or restart the pod. Windows only ever extend an
existing one unless the caller asks to replace them, expire on their own
(judged on the monotonic clock, so a wall-clock step changes nothing), and can
be cleared explicitly. Every active window is shown in the report.
"""

from __future__ import annotations

from dataclasses import dataclass

from healthwatch.model.health import SuppressionWindow

__all__ = ["Suppressions"]


@dataclass(frozen=True, slots=True)
class _Window:
    until_mono: float
    shown: SuppressionWindow


class Suppressions:
    """The windows of every probe. Not thread-safe: the registry holds its lock around it."""

    def __init__(self) -> None:
        self._windows: dict[str, list[_Window]] = {}

    def add(
        self,
        probe: str,
        *,
        seconds: float,
        reason: str,
        wall: float,
        mono: float,
        replace: bool = False,
    ) -> SuppressionWindow:
        """Open a window of ``seconds`` from now; with ``replace``, drop the others first."""
        if seconds <= 0:
            raise ValueError(f"a suppression window needs a positive duration, got {seconds}")
        if not reason.strip():
            raise ValueError("a suppression window needs a reason")
        shown = SuppressionWindow(probe=probe, until=wall + seconds, reason=reason)
        window = _Window(until_mono=mono + seconds, shown=shown)
        if replace:
            self._windows[probe] = [window]
        else:
            self._windows.setdefault(probe, []).append(window)
        return shown

    def clear(self, probe: str | None = None, *, mono: float) -> int:
        """Close the windows of one probe, or of all probes; return how many were still open."""
        if probe is None:
            closed = [w for items in self._windows.values() for w in items]
            self._windows.clear()
        else:
            closed = self._windows.pop(probe, [])
        return sum(1 for w in closed if w.until_mono > mono)

    def active(self, probe: str, *, mono: float) -> tuple[SuppressionWindow, ...]:
        """The windows still open for ``probe``, latest-ending first; expired ones are dropped."""
        windows = self._windows.get(probe)
        if not windows:
            return ()
        live = [w for w in windows if w.until_mono > mono]
        if len(live) != len(windows):
            if live:
                self._windows[probe] = live
            else:
                del self._windows[probe]
        live.sort(key=lambda w: w.until_mono, reverse=True)
        return tuple(w.shown for w in live)
