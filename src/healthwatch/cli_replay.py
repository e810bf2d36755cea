"""``healthwatch replay``: rules over a log, with line numbers, a progress bar and JSON.

Kept apart from ``cli.py`` so the command line stays a thin table of commands,
and so ``rich`` is imported only by the commands that draw something.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from collections.abc import Callable
from contextlib import ExitStack
from typing import BinaryIO

import click

from healthwatch.model.errors import ConfigError
from healthwatch.problems.logmonitor.config import load_any
from healthwatch.problems.logmonitor.replay import ReplayHit, replay
from healthwatch.problems.logmonitor.specs import LogMonitorConfig

__all__ = ["run_replay"]

_PROGRESS_FROM = 8 * 1024 * 1024
"""Files at least this large get a progress bar (when stderr is a terminal)."""


def _load(paths: tuple[str, ...]) -> list[LogMonitorConfig]:
    configs: list[LogMonitorConfig] = []
    for path in paths:
        if not os.path.exists(path) or os.path.isdir(path):
            raise ConfigError(f"{path}: no such file")
        configs += load_any(path)
    return configs


def _open(log: str, stack: ExitStack) -> tuple[BinaryIO, int | None]:
    if log == "-":
        return sys.stdin.buffer, None
    try:
        stream = stack.enter_context(open(log, "rb"))  # noqa: SIM115 - closed by the stack
    except OSError as error:
        raise ConfigError(f"{log}: cannot read: {error.strerror or error}") from None
    return stream, os.fstat(stream.fileno()).st_size


def run_replay(paths: tuple[str, ...], log: str, *, as_json: bool) -> bool:
    """Replay ``log`` through the monitors of ``paths``; True if any rule matched."""
    configs = _load(paths)
    with ExitStack() as stack:
        stream, size = _open(log, stack)
        on_progress: Callable[[int], None] | None = None
        if size is not None and size >= _PROGRESS_FROM and sys.stderr.isatty():
            from rich.progress import Progress  # noqa: PLC0415 - only when drawing one

            progress = stack.enter_context(Progress(transient=True))
            task = progress.add_task(f"replaying {log}", total=size)

            def on_progress(done: int) -> None:
                progress.advance(task, done)

        def show(hit: ReplayHit) -> None:
            where = f"{log}:{hit.lineno}" if hit.lineno is not None else log
            labels = "".join(f" {k}={v}" for k, v in sorted(hit.labels.items()))
            click.echo(f"{where}: {hit.monitor}: {hit.kind} {hit.reason}{labels}: {hit.message}")

        result = asyncio.run(
            replay(configs, stream, on_progress=on_progress, on_hit=None if as_json else show)
        )
    if as_json:
        data = {
            "lines": result.lines,
            "problems": dict(sorted(result.problems.items())),
            "conditions": result.conditions,
            "matches": [
                {
                    "line": h.lineno,
                    "monitor": h.monitor,
                    "kind": h.kind,
                    "reason": h.reason,
                    "condition": h.condition,
                    "message": h.message,
                    "labels": h.labels,
                }
                for h in result.hits
            ],
        }
        click.echo(json.dumps(data, indent=2))
    else:
        summary = ", ".join(f"{k} {v}" for k, v in sorted(result.problems.items())) or "none"
        click.echo(
            f"{result.lines} lines, {len(result.hits)} matches; problems: {summary}", err=True
        )
    return bool(result.hits)
