"""Fake problem daemons and exporters, to test the detector and exporters as the agent runs them.

``ScriptedDaemon`` is a problem daemon that reports the statuses you give it;
``RecordingExporter`` records what it is given and can be made slow or failing.
Both satisfy the real protocols, so the detector and exporters are exercised
as they run in the agent.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from healthwatch.model.health import HealthStatus
from healthwatch.model.metrics import MetricFamily
from healthwatch.model.problems import ProblemDeclaration, Status
from healthwatch.problems.base import StatusSink

__all__ = ["RecordingExporter", "ScriptedDaemon"]


class ScriptedDaemon:
    """Reports ``statuses`` (then waits until cancelled); can fail to start or to run."""

    def __init__(
        self,
        name: str,
        statuses: Sequence[Status] = (),
        *,
        declarations: Sequence[ProblemDeclaration] = (),
        start_error: Exception | None = None,
        run_errors: int = 0,
        pause: float | None = None,
    ) -> None:
        self._name = name
        self.statuses = list(statuses)
        self._declarations = tuple(declarations)
        self.start_error = start_error
        self.run_errors = run_errors
        self.pause = pause
        """Seconds to wait between statuses (0 yields to the loop); None sends them at once."""
        self.runs = 0
        self.stopped = False

    @property
    def name(self) -> str:
        """The daemon's name."""
        return self._name

    def declarations(self) -> tuple[ProblemDeclaration, ...]:
        """What it declared."""
        return self._declarations

    async def start(self) -> None:
        """Raise the configured start error, if any."""
        if self.start_error is not None:
            raise self.start_error

    async def run(self, sink: StatusSink) -> None:
        """Fail ``run_errors`` times, then report every status and wait."""
        self.runs += 1
        if self.runs <= self.run_errors:
            raise RuntimeError(f"scripted failure {self.runs}")
        for status in self.statuses:
            sink.report(status)
            if self.pause is not None:
                await asyncio.sleep(self.pause)
        await asyncio.Event().wait()

    async def stop(self) -> None:
        """Record that it was stopped."""
        self.stopped = True

    def health(self) -> tuple[HealthStatus, str]:
        """Always healthy."""
        return HealthStatus.HEALTHY, f"{len(self.statuses)} statuses scripted"

    def metric_families(self, node: str | None) -> list[MetricFamily]:
        """None."""
        del node
        return []


class RecordingExporter:
    """Records statuses; ``gate`` (when set) holds each export until released; can fail."""

    def __init__(self, name: str = "recording", *, fail: bool = False) -> None:
        self.name = name
        self.fail = fail
        self.gate: asyncio.Event | None = None
        self.statuses: list[Status] = []
        self.declared: tuple[ProblemDeclaration, ...] = ()
        self.received = asyncio.Event()

    def declare(self, declarations: tuple[ProblemDeclaration, ...]) -> None:
        """Record the declarations."""
        self.declared = declarations

    async def export(self, status: Status) -> None:
        """Wait for the gate if any, then record (or fail)."""
        if self.gate is not None:
            await self.gate.wait()
        if self.fail:
            raise RuntimeError("exporter told to fail")
        self.statuses.append(status)
        self.received.set()
