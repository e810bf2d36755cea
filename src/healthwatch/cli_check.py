"""``healthwatch check``: run one check once and show what it observed.

For trying a URL or a condition before writing it into the config, and for
asking "why does this check fail?" without waiting for the agent's next run.
The check is built by the same spec loader and run by the same engine as in
the agent (attempts, retries, conditions), so what it prints is what the agent
would record. An ``external`` check with ``argv`` gets a temporary reporting
server on loopback for the one run; one without ``argv`` runs elsewhere and
reports to the agent, so it cannot be run from here.

Kept apart from ``cli.py`` so the command line stays a thin table of commands,
and so ``rich`` is imported only when drawing for a terminal.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import sys
from collections.abc import Sequence

import aiohttp
import click
from aiohttp import web

from healthwatch.agent_checks import configured_checks
from healthwatch.aio.clock import SystemClock
from healthwatch.aio.sites import AppSite
from healthwatch.checks.engine import run_check
from healthwatch.checks.expressions import compile_condition
from healthwatch.checks.reports import RunRegistry
from healthwatch.checks.runners.external import ExternalTarget
from healthwatch.checks.runners.http import HttpTarget, redact_url, timing_trace_config
from healthwatch.checks.spec import CheckSpec, build_checks
from healthwatch.config.agent import load_config
from healthwatch.config.durations import parse_duration
from healthwatch.health.serializers import iso_time
from healthwatch.model.checks import CheckResult
from healthwatch.model.errors import ConfigError
from healthwatch.web.reports import MAX_REPORT, add_report_routes

__all__ = ["check_of_config", "check_of_url", "result_json", "run_and_show"]

_SOURCE = "command line"


def _seconds(timeout: str) -> float:
    try:
        seconds = parse_duration(timeout)
    except ValueError as error:
        raise ConfigError(f"--timeout: {error}") from None
    if not 0 < seconds <= 3600:
        raise ConfigError(f"--timeout: must be more than 0 and at most 1h, got {timeout!r}")
    return seconds


def check_of_url(
    url: str, *, conditions: Sequence[str], timeout: str | None, retries: int
) -> CheckSpec:
    """An http check of ``url``: status < 400 unless ``conditions`` are given."""
    for text in conditions:
        try:
            compile_condition(text)
        except ConfigError as error:
            raise ConfigError(f"--condition: {error}") from None
    entry: dict[str, object] = {
        "name": "url",
        "namespace": "cli",
        "kind": "http",
        "url": url,
        "interval": "365d",  # one run only: the interval just has to exceed the timeout
        "conditions": list(conditions),
        "retries": retries,
    }
    if timeout is not None:
        entry["timeout"] = _seconds(timeout)
    try:
        (spec,) = build_checks([entry], source=_SOURCE)
    except ConfigError as error:
        message = str(error).replace(f"{_SOURCE}: checks[0].", "--", 1)
        raise ConfigError(message.replace("--url:", "URL:", 1)) from None
    return spec


def check_of_config(path: str, name: str, *, timeout: str | None) -> CheckSpec:
    """The check ``name`` (or ``namespace/name``) of the agent config at ``path``."""
    specs = configured_checks(load_config(path))
    if "/" in name:
        found = [spec for spec in specs if spec.id == name]
    else:
        found = [spec for spec in specs if spec.name == name]
    if not found:
        known = ", ".join(spec.id for spec in specs) or "none"
        raise ConfigError(f"{path}: no check named {name!r} (the checks: {known})")
    if len(found) > 1:
        ids = ", ".join(spec.id for spec in found)
        raise ConfigError(f"{path}: {len(found)} checks are named {name!r} ({ids}); say which")
    spec = found[0]
    if isinstance(spec.target, ExternalTarget) and spec.target.argv is None:
        raise ConfigError(
            f"{path}: {spec.id} is an external check without argv: it runs elsewhere and "
            "reports to the running agent, whose result `healthwatch status` shows"
        )
    if timeout is not None:
        spec = dataclasses.replace(spec, timeout=_seconds(timeout))
    return spec


async def _run(spec: CheckSpec) -> CheckResult:
    clock = SystemClock()
    async with aiohttp.ClientSession(
        cookie_jar=aiohttp.DummyCookieJar(), trace_configs=[timing_trace_config()]
    ) as session:
        if not isinstance(spec.target, ExternalTarget):
            return await run_check(spec, clock=clock, session=session)
        runs = RunRegistry(clock=clock)
        app = web.Application(client_max_size=MAX_REPORT)
        add_report_routes(app, runs)
        site = AppSite(app, name="reporting", host="127.0.0.1", port=0)
        await site.start()
        try:
            return await run_check(spec, clock=clock, session=session, reporting=(runs, site.url))
        finally:
            await site.stop()


def _what(spec: CheckSpec) -> str:
    if isinstance(spec.target, HttpTarget):
        return redact_url(spec.target.url)
    return f"{spec.id} ({spec.kind})"


def _took(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms" if seconds < 1 else f"{seconds:.2f} s"


def _other_errors(result: CheckResult) -> list[str]:
    """Errors that are not just a failed condition (those are shown with their values)."""
    shown = {f"{o.condition} (observed {o.observed})" for o in result.observations if not o.ok}
    return [error for error in result.errors if error not in shown]


def result_json(spec: CheckSpec, result: CheckResult) -> dict[str, object]:
    """The result as the agent's checks API shows a latest run, plus the check's id and kind."""
    return {
        "check": spec.id,
        "kind": spec.kind,
        "target": _what(spec),
        "ok": result.ok,
        "errors": list(result.errors),
        "run_id": result.run_id,
        "started_at": iso_time(result.started_at),
        "duration_seconds": round(result.duration, 6),
        "attempts": result.attempts,
        "passed_after_retry": result.ok and result.attempts > 1,
        "observations": [
            {"condition": o.condition, "ok": o.ok, "observed": o.observed}
            for o in result.observations
        ],
    }


def _show_plain(spec: CheckSpec, result: CheckResult) -> None:
    attempts = f"{result.attempts} attempt{'s' if result.attempts > 1 else ''}"
    verdict = "PASS" if result.ok else "FAIL"
    click.echo(f"{verdict} {_what(spec)} in {_took(result.duration)}, {attempts}")
    width = max((len(o.condition) for o in result.observations), default=0)
    for o in result.observations:
        mark = "ok" if o.ok else "FAILED"
        click.echo(f"  {mark:<7} {o.condition:<{width}}  observed {o.observed}")
    for error in _other_errors(result):
        click.echo(f"  error: {error}")


def _show_rich(spec: CheckSpec, result: CheckResult) -> None:
    from rich.console import Console  # noqa: PLC0415 - only when drawing for a terminal
    from rich.markup import escape  # noqa: PLC0415
    from rich.table import Table  # noqa: PLC0415

    console = Console(highlight=False)
    attempts = f"{result.attempts} attempt{'s' if result.attempts > 1 else ''}"
    verdict = "[bold green]PASS[/]" if result.ok else "[bold red]FAIL[/]"
    console.print(f"{verdict} {escape(_what(spec))} in {_took(result.duration)}, {attempts}")
    if result.observations:
        table = Table(show_edge=False, pad_edge=False)
        for column in ("", "condition", "observed"):
            table.add_column(column)
        for o in result.observations:
            mark = "[green]ok[/]" if o.ok else "[red]FAILED[/]"
            table.add_row(mark, escape(o.condition), escape(o.observed))
        console.print(table)
    for error in _other_errors(result):
        console.print(f"[red]error:[/] {escape(error)}")


def run_and_show(spec: CheckSpec, *, as_json: bool) -> bool:
    """Run ``spec`` once and print the result (JSON, a table on a terminal, else text)."""
    waiting: contextlib.AbstractContextManager[object] = contextlib.nullcontext()
    if not as_json and sys.stderr.isatty():
        from rich.console import Console  # noqa: PLC0415 - a spinner only on a terminal

        waiting = Console(stderr=True).status(f"checking {_what(spec)} …")
    with waiting:
        result = asyncio.run(_run(spec))
    if as_json:
        click.echo(json.dumps(result_json(spec, result), indent=2))
    elif sys.stdout.isatty():
        _show_rich(spec, result)
    else:
        _show_plain(spec, result)
    return result.ok
