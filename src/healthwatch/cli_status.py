"""``healthwatch status``: how the running agent is, for people and for scripts.

It asks the agent's web listener (found through the runtime file the agent
writes in its state directory, unless ``--url`` says where) for its health
report and its checks, and shows them: on a terminal as coloured tables, with
the dashboard's address and what the agent decided by itself and why ("why is
this on"); otherwise as plain lines; with ``--json`` as the health report plus
``dashboard`` and ``checks``. Colour follows the usual conventions (none when
``NO_COLOR`` is set or the output is not a terminal).

Kept apart from ``cli.py`` so the command line stays a thin table of commands;
``rich`` is imported only when drawing for a terminal.
"""

from __future__ import annotations

import json
import sys
import urllib.error
import urllib.request
from typing import Any, Final

import click

from healthwatch.config.agent import default_state_dir
from healthwatch.model.errors import HealthwatchError

__all__ = ["RUNTIME_FILE", "agent_url", "fetch_status", "show_status"]

RUNTIME_FILE: Final = "agent.json"
"""The agent's runtime file (``healthwatch.agent.RUNTIME_FILE``, which this must equal;
not imported from there, so ``status`` does not pay for importing the whole agent)."""
_MAX_BODY: Final = 4 * 1024 * 1024
_COLOURS: Final = {
    "ok": "green",
    "healthy": "green",
    "degraded": "yellow",
    "unhealthy": "red",
    "failing": "red",
    "unknown": "dim",
    "pending": "dim",
    "starting": "cyan",
}


def agent_url(explicit: str | None) -> str:
    """``explicit``, else the web URL in this machine's runtime file, else the default."""
    if explicit:
        return explicit.rstrip("/")
    runtime = default_state_dir() / RUNTIME_FILE
    try:
        data = json.loads(runtime.read_text(encoding="utf-8"))
        if isinstance(data, dict) and isinstance(data.get("web"), str):
            return str(data["web"]).rstrip("/")
    except (OSError, ValueError):
        pass
    return "http://127.0.0.1:9800"


def _get(url: str, timeout: float) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310 - checked
            return int(response.status), response.read(_MAX_BODY)
    except urllib.error.HTTPError as error:
        with error:
            return error.code, error.read(_MAX_BODY)


def fetch_status(base: str, *, timeout: float) -> dict[str, Any]:
    """The agent's health report, with ``dashboard`` and ``checks`` (None if unavailable).

    Raises :class:`HealthwatchError` when no agent answers at ``base``.
    """
    if not base.startswith(("http://", "https://")):
        raise HealthwatchError(f"--url must be http(s)://HOST:PORT, got {base!r}")
    try:
        _, body = _get(f"{base}/api/v1/health", timeout)
    except (OSError, ValueError) as error:
        raise HealthwatchError(
            f"no agent answered at {base}: {getattr(error, 'reason', error)}"
        ) from None
    try:
        report = json.loads(body)
    except ValueError:
        raise HealthwatchError(f"{base}/api/v1/health did not answer with JSON") from None
    if not isinstance(report, dict):
        raise HealthwatchError(f"{base}/api/v1/health did not answer with a JSON object")
    report["dashboard"] = f"{base}/"
    report["checks"] = None
    try:
        code, body = _get(f"{base}/api/v1/checks", timeout)
        checks = json.loads(body).get("checks") if code == 200 else None
        report["checks"] = checks if isinstance(checks, list) else None
    except (OSError, ValueError, AttributeError):
        pass  # an agent without checks still has a status
    return report


def _decisions(report: dict[str, Any]) -> dict[str, str]:
    agent = (report.get("components") or {}).get("agent") or {}
    metadata = agent.get("metadata") or {}
    return {str(k): str(v) for k, v in metadata.items() if k != "version"}


def _check_row(check: dict[str, Any]) -> tuple[str, str, str, str, str]:
    """(state, id, kind, duration, note) of one check of the checks API."""
    latest = check.get("latest")
    if not isinstance(latest, dict):
        return "pending", str(check.get("id")), str(check.get("kind")), "", "not run yet"
    state = "ok" if latest.get("ok") else "failing"
    seconds = float(latest.get("duration_seconds") or 0.0)
    took = f"{seconds * 1000:.1f} ms" if seconds < 1 else f"{seconds:.2f} s"
    note = "; ".join(str(e) for e in latest.get("errors") or [])
    if check.get("alert_status") not in (None, "ok"):
        note = f"alert {check['alert_status']}" + (f": {note}" if note else "")
    return state, str(check.get("id")), str(check.get("kind")), took, note


def _headline(report: dict[str, Any]) -> tuple[str, str]:
    service = report.get("service") or {}
    version, node = service.get("version", "?"), service.get("instance", "?")
    uptime = float(report.get("uptime_seconds") or 0.0)
    return f"healthwatch {version} on {node}", f"up {uptime:.0f}s"


def _show_plain(report: dict[str, Any]) -> None:
    click.echo(f"status: {report.get('status')}  lifecycle: {report.get('lifecycle')}")
    who, uptime = _headline(report)
    click.echo(f"agent: {who}, {uptime}")
    click.echo(f"dashboard: {report['dashboard']}")
    decisions = _decisions(report)
    if decisions:
        click.echo("decisions:")
        for key, why in decisions.items():
            click.echo(f"  {key}: {why}")
    click.echo("components:")
    for name, comp in (report.get("components") or {}).items():
        message = comp.get("message", "")
        click.echo(f"  {comp.get('status', '?'):<10} {name:<24} {message}".rstrip())
    checks = report.get("checks")
    if checks is not None:
        rows = [_check_row(c) for c in checks]
        click.echo(f"checks: {len(rows)}, {sum(r[0] == 'failing' for r in rows)} failing")
        for state, check_id, kind, took, note in rows:
            click.echo(f"  {state:<8} {check_id:<32} {kind:<8} {took:>10}  {note}".rstrip())


def _show_rich(report: dict[str, Any]) -> None:
    from rich.console import Console  # noqa: PLC0415 - only when drawing for a terminal
    from rich.markup import escape  # noqa: PLC0415
    from rich.table import Table  # noqa: PLC0415

    def coloured(word: object) -> str:
        text = escape(str(word))
        colour = _COLOURS.get(str(word))
        return f"[{colour}]{text}[/]" if colour else text

    console = Console(highlight=False)
    who, uptime = _headline(report)
    status = coloured(report.get("status"))
    console.print(f"[bold]{escape(who)}[/]: {status} ({report.get('lifecycle')}, {uptime})")
    console.print(f"dashboard: [link={report['dashboard']}]{escape(report['dashboard'])}[/]")
    decisions = _decisions(report)
    if decisions:
        table = Table(title="why is this on", title_justify="left", show_header=False)
        table.add_column(style="bold")
        table.add_column()
        for key, why in decisions.items():
            table.add_row(escape(key), escape(why))
        console.print(table)
    components = Table(title="components", title_justify="left")
    for column in ("status", "component", "message"):
        components.add_column(column)
    for name, comp in (report.get("components") or {}).items():
        message = escape(str(comp.get("message", "")))
        components.add_row(coloured(comp.get("status", "?")), escape(name), message)
    console.print(components)
    checks = report.get("checks")
    if checks is not None:
        rows = [_check_row(c) for c in checks]
        failing = sum(r[0] == "failing" for r in rows)
        table = Table(title=f"checks: {len(rows)}, {failing} failing", title_justify="left")
        for column in ("result", "check", "kind", "took", "note"):
            table.add_column(column, justify="right" if column == "took" else "left")
        for state, check_id, kind, took, note in rows:
            table.add_row(coloured(state), escape(check_id), kind, took, escape(note))
        console.print(table)


def show_status(url: str | None, *, as_json: bool, timeout: float) -> bool:
    """Print the agent's status; True when it is ok or degraded."""
    report = fetch_status(agent_url(url), timeout=timeout)
    if as_json:
        click.echo(json.dumps(report, indent=2))
    elif sys.stdout.isatty():
        _show_rich(report)
    else:
        _show_plain(report)
    return report.get("status") in ("ok", "degraded")
