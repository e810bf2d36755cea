"""When a repair is allowed: the cool-down since the unit started, and the hourly budget.

A repair kills the unit's main process (``systemctl kill --kill-who=main``) and
lets the unit's ``Restart=`` policy bring it back. ``kill`` rather than
``restart`` is deliberate: the kernel log then tells a repair from an
administrator's restart. Two guards keep repair from making things worse:

* the cool-down: a unit younger than ``cooldown`` is left alone, so a unit that
  systemd just (re)started gets time to become healthy, and a unit systemd keeps
  restarting is never killed in a loop;
* the budget: at most ``max_repairs_per_hour`` repairs in any sliding hour. The
  repair times are saved in the state directory, so restarting the agent does
  not refill the budget.

Docker gets ``SIGUSR1`` first, which makes dockerd write its goroutine stacks to
its log for the post-mortem (node-problem-detector does the same with ``pkill
-SIGUSR1 dockerd``; here the signal goes through systemd to the unit's main
process only, never to every process of that name on the host).
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
from collections import deque
from pathlib import Path
from typing import Final

from healthwatch.aio.clock import Clock
from healthwatch.aio.processes import Command, run_command
from healthwatch.problems.servicemonitor.systemd import kill_argv

__all__ = ["BUDGET_WINDOW", "RepairBudget", "kill_main"]

BUDGET_WINDOW: Final = 3600.0
"""Seconds over which repairs are counted."""
_log = logging.getLogger("healthwatch.problems.servicemonitor")


class RepairBudget:
    """Repairs done in the last hour, on the injected clock, optionally saved to a file."""

    def __init__(self, limit: int, *, clock: Clock, path: Path | None = None) -> None:
        self.limit = limit
        self.clock = clock
        self.path = path
        self._done: deque[float] = deque(maxlen=max(limit, 1))
        """Monotonic times of the latest repairs (at most ``limit`` matter)."""

    def _prune(self) -> None:
        now = self.clock.monotonic()
        while self._done and now - self._done[0] >= BUDGET_WINDOW:
            self._done.popleft()

    def used(self) -> int:
        """Repairs in the last hour."""
        self._prune()
        return len(self._done)

    def exhausted(self) -> bool:
        """True when another repair now would exceed the budget."""
        return self.used() >= self.limit

    def refills_in(self) -> float:
        """Seconds until one more repair is allowed (0 when one is allowed now)."""
        if not self.exhausted():
            return 0.0
        return max(BUDGET_WINDOW - (self.clock.monotonic() - self._done[0]), 0.0)

    def spend(self) -> None:
        """Record a repair made now, and save the record."""
        self._done.append(self.clock.monotonic())
        self.save()

    # ------------------------------------------------------------ persistence
    def save(self) -> None:
        """Write the repair times (as wall times) to ``path``; a failure is only logged."""
        if self.path is None:
            return
        offset = self.clock.time() - self.clock.monotonic()
        data = {"repairs": [at + offset for at in self._done]}
        temp = self.path.with_suffix(".tmp")
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            temp.write_text(json.dumps(data), encoding="utf-8")
            os.replace(temp, self.path)
        except OSError as error:
            _log.warning("%s: cannot save repair history: %s", self.path, error)
            with contextlib.suppress(OSError):
                temp.unlink(missing_ok=True)

    def load(self) -> None:
        """Restore repair times saved by an earlier run; unreadable files are ignored."""
        if self.path is None:
            return
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return
        except (OSError, ValueError) as error:
            _log.warning("%s: ignoring saved repair history: %s", self.path, error)
            return
        saved = data.get("repairs") if isinstance(data, dict) else None
        if not isinstance(saved, list):
            _log.warning("%s: ignoring saved repair history: no 'repairs' list", self.path)
            return
        wall, mono = self.clock.time(), self.clock.monotonic()
        times = sorted(
            float(at)
            for at in saved
            if isinstance(at, int | float) and not isinstance(at, bool) and at <= wall
        )
        for at in times:
            self._done.append(mono - (wall - at))
        self._prune()


async def kill_main(unit: str, *, dump_stacks: bool, timeout: float) -> tuple[bool, str]:  # noqa: ASYNC109
    """Kill ``unit``'s main process through systemd; (done, what happened). Never raises."""
    notes: list[str] = []
    steps = [kill_argv(unit, signal="SIGUSR1")] if dump_stacks else []
    steps.append(kill_argv(unit))
    ok = False
    for argv in steps:
        result = await run_command(Command(argv=argv), timeout=timeout)
        said = result.stderr.decode("utf-8", "replace").strip()[:200]
        if not result.started:
            ok, note = False, result.error
        elif result.timed_out:
            ok, note = False, f"{' '.join(argv[:3])} timed out after {timeout:g}s"
        elif result.exit_code != 0:
            ok, note = False, f"{' '.join(argv[:3])} exited with {result.exit_code}: {said}"
        else:
            ok, note = True, ""
        if note:
            notes.append(note)
    return ok, "; ".join(notes)
