"""The command line: ``healthwatch run | probe | status | validate | version``.

Only this module chooses exit codes: 0 success, 1 a probe or status that is
not healthy, 2 a usage, configuration or start-up error (with a message naming
what is wrong).
"""

from __future__ import annotations

import asyncio
import json
import sys
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import click

from healthwatch._version import __version__
from healthwatch.model.errors import HealthwatchError

__all__ = ["main"]

EXIT_UNHEALTHY = 1
EXIT_ERROR = 2


def _fail(message: str) -> None:
    click.echo(f"error: {message}", err=True)
    sys.exit(EXIT_ERROR)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", prog_name="healthwatch")
def cli() -> None:
    """healthwatch: honest, fast health for machines, services and clusters."""


@cli.command()
@click.option(
    "--config",
    "config_file",
    type=click.Path(dir_okay=False),
    help="YAML config file (default: the embedded default).",
)
@click.option("--state-dir", help="Where state is kept (default $XDG_STATE_HOME/healthwatch).")
@click.option("--listen", help="Web listener HOST:PORT or 'off' (default 127.0.0.1:9800).")
@click.option("--health-listen", help="Health listener HOST:PORT (default 127.0.0.1:9801).")
@click.option(
    "--metrics-listen", help="Metrics listener HOST:PORT or 'off' (default 127.0.0.1:9802)."
)
@click.option("--node-name", help="Name of this node (default $NODE_NAME, else the host name).")
@click.option("--drain", help="How long to drain on SIGTERM before stopping (default 2s).")
@click.option("--log-format", type=click.Choice(["text", "json"]), help="Log line format.")
@click.option("--log-level", type=click.Choice(["debug", "info", "warning", "error"]))
@click.option("--host-root", help="Where the host's / is mounted, in a container (default /).")
@click.option(
    "--config.system-log-monitor",
    "system_log_monitor",
    multiple=True,
    help="node-problem-detector system-log-monitor JSON file(s), comma-separated or repeated.",
)
@click.option(
    "--config.custom-plugin-monitor",
    "custom_plugin_monitor",
    multiple=True,
    help="node-problem-detector custom-plugin-monitor JSON file(s), comma-separated or repeated.",
)
@click.option(
    "--config.system-stats-monitor",
    "system_stats_monitor",
    multiple=True,
    help="node-problem-detector system-stats-monitor JSON file(s), comma-separated or repeated.",
)
def run(
    config_file: str | None,
    system_log_monitor: tuple[str, ...],
    custom_plugin_monitor: tuple[str, ...],
    system_stats_monitor: tuple[str, ...],
    **flags: str | None,
) -> None:
    """Run the agent until SIGTERM or SIGINT."""
    from healthwatch.agent import Agent  # noqa: PLC0415 - only `run` pays for the agent
    from healthwatch.config.agent import load_config  # noqa: PLC0415
    from healthwatch.logs import setup_logging  # noqa: PLC0415

    def files(values: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(f for value in values for f in value.split(",") if f)

    try:
        config = load_config(
            config_file,
            overrides=flags,
            system_log_monitors=files(system_log_monitor),
            custom_plugin_monitors=files(custom_plugin_monitor),
            system_stats_monitors=files(system_stats_monitor),
        )
    except HealthwatchError as error:
        _fail(str(error))
        return
    setup_logging(level=config.log_level, fmt=config.log_format)

    origin = config.source
    npd_files = (
        len(config.system_log_monitors)
        + len(config.custom_plugin_monitors)
        + len(config.system_stats_monitors)
    )
    if npd_files:
        origin += f" + {npd_files} node-problem-detector file(s)"

    async def main() -> int:
        agent = Agent(config)
        running = asyncio.ensure_future(agent.run())
        started = asyncio.ensure_future(agent.started.wait())
        await asyncio.wait({running, started}, return_when=asyncio.FIRST_COMPLETED)
        started.cancel()
        if not running.done():
            urls = agent.urls()
            click.echo(
                f"healthwatch {__version__} on {config.node_name} ({origin}): "
                + ", ".join(f"{k} {v or 'off'}" for k, v in urls.items()),
                err=False,
            )
        return await running

    try:
        code = asyncio.run(main())
    except HealthwatchError as error:
        _fail(str(error))
        return
    sys.exit(code)


@cli.command()
@click.argument("url")
@click.option(
    "--kind",
    type=click.Choice(["live", "ready", "startup"]),
    default=None,
    help="Which probe, when URL is a bare base URL (default ready).",
)
@click.option("--timeout", type=float, default=5.0, show_default=True, help="Seconds to wait.")
@click.option("--quiet", "-q", is_flag=True, help="Print nothing; only the exit status.")
def probe(url: str, kind: str | None, timeout: float, quiet: bool) -> None:
    """Exit 0 if the probe at URL passes, 1 if not: for HEALTHCHECK and exec probes."""
    from healthwatch.health.probe import probe as ask  # noqa: PLC0415

    try:
        result = ask(url, kind=kind, timeout=timeout)
    except ValueError as error:
        _fail(str(error))
        return
    if not quiet:
        what = f"HTTP {result.status}" if result.status is not None else result.error
        click.echo(f"{result.url}: {what}: {result.body.strip()[:200]}".rstrip(": "))
    sys.exit(0 if result.ok else EXIT_UNHEALTHY)


def _default_status_url() -> str:
    from healthwatch.agent import RUNTIME_FILE  # noqa: PLC0415
    from healthwatch.config.agent import default_state_dir  # noqa: PLC0415

    runtime = default_state_dir() / RUNTIME_FILE
    try:
        data = json.loads(runtime.read_text(encoding="utf-8"))
        if isinstance(data, dict) and isinstance(data.get("web"), str):
            return str(data["web"])
    except (OSError, ValueError):
        pass
    return "http://127.0.0.1:9800"


@cli.command()
@click.option("--url", help="Base URL of the agent's web listener (default: this machine's).")
@click.option("--json", "as_json", is_flag=True, help="Print the raw JSON report.")
@click.option("--timeout", type=float, default=5.0, show_default=True)
def status(url: str | None, as_json: bool, timeout: float) -> None:
    """Ask a running agent how it is; exit 1 unless ok or degraded."""
    base = (url or _default_status_url()).rstrip("/")
    target = f"{base}/api/v1/health"
    if not target.startswith(("http://", "https://")):
        _fail(f"--url must be http(s)://HOST:PORT, got {base!r}")
    try:
        with urllib.request.urlopen(target, timeout=timeout) as response:  # noqa: S310
            body = response.read(4 * 1024 * 1024)
    except urllib.error.HTTPError as error:
        body = error.read(4 * 1024 * 1024)
    except (OSError, ValueError) as error:
        _fail(f"no agent answered at {base}: {getattr(error, 'reason', error)}")
        return
    try:
        report: dict[str, Any] = json.loads(body)
    except ValueError:
        _fail(f"{target} did not answer with JSON")
        return
    if as_json:
        click.echo(json.dumps(report, indent=2))
    else:
        click.echo(f"status: {report.get('status')}  lifecycle: {report.get('lifecycle')}")
        for name, comp in (report.get("components") or {}).items():
            message = comp.get("message", "")
            click.echo(f"  {comp.get('status', '?'):<10} {name:<24} {message}")
    sys.exit(0 if report.get("status") in ("ok", "degraded") else EXIT_UNHEALTHY)


@cli.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False))
def validate(files: tuple[str, ...]) -> None:
    """Check config files without running anything; every error is printed.

    Agent YAML files (with their problem daemons and checks) and node-problem-detector
    JSON files (system log, custom plugin and system stats monitors) are recognised by
    their content.
    """
    from healthwatch.agent_checks import configured_checks  # noqa: PLC0415
    from healthwatch.agent_problems import configured_daemons, load_npd_file  # noqa: PLC0415
    from healthwatch.config.agent import load_config  # noqa: PLC0415

    failed = False
    for file in files:
        if not Path(file).exists():
            click.echo(f"{file}: no such file", err=True)
            failed = True
            continue
        try:
            if Path(file).read_bytes()[:4096].lstrip().startswith(b"{"):
                kind = load_npd_file(file)
                click.echo(f"{file}: ok ({kind})")
                continue
            config = load_config(file)
            configured_daemons(config)
            configured_checks(config)
        except HealthwatchError as error:
            click.echo(str(error), err=True)
            failed = True
        else:
            click.echo(f"{file}: ok")
    sys.exit(EXIT_ERROR if failed else 0)


@cli.command()
@click.option(
    "--config",
    "configs",
    multiple=True,
    required=True,
    type=click.Path(dir_okay=False),
    help="Rules: our YAML or a node-problem-detector system-log-monitor JSON (repeatable).",
)
@click.argument("log")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON summary for scripts.")
def replay(configs: tuple[str, ...], log: str, as_json: bool) -> None:
    """Run rules over LOG (a file, or - for stdin) and print the problems they would raise.

    Exit status: 0 if anything matched, 1 if nothing did, 2 on a usage or config error.
    """
    from healthwatch.cli_replay import run_replay  # noqa: PLC0415

    try:
        matched = run_replay(configs, log, as_json=as_json)
    except HealthwatchError as error:
        _fail(str(error))
        return
    sys.exit(0 if matched else EXIT_UNHEALTHY)


@cli.command()
def version() -> None:
    """Print the version."""
    click.echo(__version__)


def main() -> None:
    """Entry point of the ``healthwatch`` command."""
    cli(prog_name="healthwatch")
