"""Runs that wait for a Kuberhealthy-style check to report in, and the reports they accept.

A Kuberhealthy check does not answer a probe: it is started with a run uuid
and a deadline and later ``POST``s ``{"OK": ..., "Errors": [...]}`` back. The
:class:`RunRegistry` is the only place that knows which runs may still report,
so the web handler and the runner never share anything else. It follows the
v3 server's answers (COMPAT 1.3/1.4): an unknown uuid is 400, a run that has
already reported or whose deadline has passed is 410, a bad body is 400.

Memory stays bounded: a run lives in the registry only until it finishes
(reported, deadline passed, or its waiter gave up), after which only its uuid is
remembered, among at most ``keep_finished`` recent ones, to answer 410 rather
than 400 to a late or repeated report.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections import OrderedDict
from dataclasses import dataclass
from typing import Final

from healthwatch.aio.clock import Clock

__all__ = ["DEFAULT_KEEP_FINISHED", "Report", "RunRegistry", "parse_report"]

DEFAULT_KEEP_FINISHED: Final = 1024
"""Finished run uuids remembered to answer 410; older ones get 400 like unknown ones."""
_MAX_UUID_SHOWN: Final = 64


@dataclass(frozen=True, slots=True)
class Report:
    """What a check reported about one run."""

    ok: bool
    errors: tuple[str, ...]
    received_at: float
    """Wall time the report was accepted."""


@dataclass(slots=True)
class _Run:
    check_id: str
    deadline: float
    future: asyncio.Future[Report]


def _shown(run_uuid: str) -> str:
    """A uuid as it may appear in an answer: bounded, since it came from the caller."""
    return run_uuid[:_MAX_UUID_SHOWN]


def parse_report(body: bytes) -> tuple[bool, tuple[str, ...]] | str:
    """``(ok, errors)`` from a report body, or why it is rejected.

    Keys match case-insensitively, as Go's decoder does for the v2/v3 servers'
    untagged ``Report`` struct; unknown keys are ignored (the v3 Go client sends
    its whole status object). ``OK:false`` needs at least one error, every error
    must be a non-blank string, and ``OK:true`` must come without errors (v3).
    """
    try:
        data = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        return "body is not valid JSON"
    if not isinstance(data, dict):
        return "body must be a JSON object"
    found: dict[str, object] = {}
    for key, value in data.items():
        if key.lower() in ("ok", "errors"):
            found[key.lower()] = value  # the last spelling wins, as in Go
    if "ok" not in found:
        return 'missing "OK"'
    ok = found["ok"]
    if not isinstance(ok, bool):
        return '"OK" must be true or false'
    raw_errors = found.get("errors")
    if raw_errors is None:
        raw_errors = []
    if not isinstance(raw_errors, list) or not all(isinstance(e, str) for e in raw_errors):
        return '"Errors" must be a list of strings'
    errors = tuple(str(e) for e in raw_errors)
    if any(not e.strip() for e in errors):
        return "errors must not be blank"
    if not ok and not errors:
        return '"OK": false needs at least one error'
    if ok and errors:
        return '"OK": true must not carry errors'
    return ok, errors


class RunRegistry:
    """The runs currently allowed to report, and the uuids of recently finished ones.

    Must be used from the event loop's thread (the futures belong to it).
    """

    def __init__(self, *, clock: Clock, keep_finished: int = DEFAULT_KEEP_FINISHED) -> None:
        self._clock = clock
        self._keep = max(0, keep_finished)
        self._open: dict[str, _Run] = {}
        self._finished: OrderedDict[str, None] = OrderedDict()

    @property
    def clock(self) -> Clock:
        """The clock deadlines are judged on, so callers compute them on the same one."""
        return self._clock

    def open_run(self, check_id: str, *, deadline: float) -> str:
        """Start a run that may report until ``deadline`` (wall time); its new uuid."""
        self._sweep()
        run_uuid = str(uuid.uuid4())
        loop = asyncio.get_running_loop()
        self._open[run_uuid] = _Run(check_id, deadline, loop.create_future())
        return run_uuid

    def is_open(self, run_uuid: str) -> bool:
        """True while ``run_uuid`` may still report."""
        run = self._open.get(run_uuid)
        return run is not None and self._clock.time() < run.deadline

    async def wait(self, run_uuid: str) -> Report | None:
        """The run's report, or None when its deadline passes first (or it is unknown).

        The run is finished when this returns, however it returns (also when
        cancelled), so a report arriving afterwards gets 410.
        """
        run = self._open.get(run_uuid)
        if run is None:
            return None
        try:
            remaining = run.deadline - self._clock.time()
            if not run.future.done() and remaining > 0:
                await asyncio.wait([run.future], timeout=remaining)
            if run.future.done() and not run.future.cancelled():
                return run.future.result()
            return None
        finally:
            self._finish(run_uuid)

    def submit(self, run_uuid: str, body: bytes, *, header_uuid: str | None) -> tuple[int, str]:
        """Offer a report for ``run_uuid``; the HTTP status and a message. Never raises."""
        if header_uuid is not None and header_uuid != run_uuid:
            return 400, "kh-run-uuid header and URL name different runs"
        run = self._open.get(run_uuid)
        if run is None:
            if run_uuid in self._finished:
                return 410, f"run {_shown(run_uuid)} has already finished"
            return 400, f"run uuid {_shown(run_uuid)} is invalid or expired"
        if run.future.done() or self._clock.time() >= run.deadline:
            if not run.future.done():
                self._finish(run_uuid)
            return 410, f"run {_shown(run_uuid)} has already finished"
        parsed = parse_report(body)
        if isinstance(parsed, str):
            return 400, parsed
        ok, errors = parsed
        run.future.set_result(Report(ok=ok, errors=errors, received_at=self._clock.time()))
        # The waiter finishes the run when it wakes; until then, repeat reports see
        # the done future above and get 410.
        return 200, "report accepted"

    def close(self, run_uuid: str) -> None:
        """Finish a run now (its check could not start, or its runner gave up); idempotent."""
        if run_uuid in self._open:
            self._finish(run_uuid)

    def _finish(self, run_uuid: str) -> None:
        run = self._open.pop(run_uuid, None)
        if run is not None and not run.future.done():
            run.future.cancel()
        self._finished[run_uuid] = None
        self._finished.move_to_end(run_uuid)
        while len(self._finished) > self._keep:
            self._finished.popitem(last=False)

    def _sweep(self) -> None:
        """Finish runs whose deadline has passed and that nobody waits for."""
        now = self._clock.time()
        for run_uuid in [u for u, r in self._open.items() if now >= r.deadline]:
            self._finish(run_uuid)
