"""The command line: ``healthwatch run | check | probe | replay | status | validate | version``.

A thin table of commands: the work of the bigger ones lives in the ``cli_*``
modules beside this one, imported only by the command that needs them. Only
this module chooses exit codes: 0 success, 1 a probe, check or status that is
not healthy, 2 a usage, configuration or start-up error (with a message naming
what is wrong).
"""

from __future__ import annotations

import asyncio
import sys

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
    from healthwatch.config.agent import default_state_dir, load_config  # noqa: PLC0415
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
            dashboard = urls.pop("dashboard") or (
                "off (--listen off)" if config.listen is None else "not serving (see the log)"
            )
            click.echo(f"dashboard: {dashboard}")
            click.echo(
                f"healthwatch {__version__} on {config.node_name} ({origin}): "
                + ", ".join(f"{k} {v or 'off'}" for k, v in urls.items())
                + f"; state in {config.state_dir}"
            )
            if agent.web is not None:
                here = config.state_dir == default_state_dir()
                click.echo(
                    "what it runs and why: healthwatch status"
                    + ("" if here else f" --url {agent.web.url}")
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


@cli.command()
@click.option("--url", help="Base URL of the agent's web listener (default: this machine's).")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON, for scripts.")
@click.option("--timeout", type=float, default=5.0, show_default=True, help="Seconds to wait.")
def status(url: str | None, as_json: bool, timeout: float) -> None:
    """Ask a running agent how it is; exit 1 unless ok or degraded.

    On a terminal: coloured tables of its components and checks, the dashboard's
    address and what the agent decided by itself and why. Otherwise plain lines.
    """
    from healthwatch.cli_status import show_status  # noqa: PLC0415

    try:
        healthy = show_status(url, as_json=as_json, timeout=timeout)
    except HealthwatchError as error:
        _fail(str(error))
        return
    sys.exit(0 if healthy else EXIT_UNHEALTHY)


@cli.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False))
def validate(files: tuple[str, ...]) -> None:
    """Check config files without running anything; every error is printed.

    Agent YAML files (with their problem daemons and checks), node-problem-detector
    JSON files (system log, custom plugin and system stats monitors) and Kuberhealthy
    check manifests (KuberhealthyCheck, HealthCheck) are recognised by their content.
    Exit status: 0 when every file is valid, 2 otherwise.
    """
    from healthwatch.cli_validate import validate_files  # noqa: PLC0415

    sys.exit(0 if validate_files(files) else EXIT_ERROR)


@cli.command()
@click.argument("url", required=False)
@click.option(
    "--config",
    "config_file",
    type=click.Path(dir_okay=False),
    help="Agent config holding the check to run (with --name).",
)
@click.option("--name", help="The check to run from --config: NAME or NAMESPACE/NAME.")
@click.option(
    "--condition",
    "conditions",
    multiple=True,
    help="A condition the response must meet (repeatable; default: status < 400).",
)
@click.option("--timeout", help="Time allowed for one attempt, e.g. 2s (default 5s).")
@click.option("--retries", type=int, default=0, show_default=True, help="Extra attempts.")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON, for scripts.")
def check(
    url: str | None,
    *,
    config_file: str | None,
    name: str | None,
    conditions: tuple[str, ...],
    timeout: str | None,
    retries: int,
    as_json: bool,
) -> None:
    """Run one check once and print the result with the values it observed.

    Either an http check of URL, or the check --name from the agent config --config.
    Exit status: 0 if it passed, 1 if it failed, 2 on a usage or config error.
    """
    from healthwatch.cli_check import check_of_config, check_of_url, run_and_show  # noqa: PLC0415

    try:
        if url is not None and config_file is None and name is None:
            spec = check_of_url(url, conditions=conditions, timeout=timeout, retries=retries)
        elif url is None and config_file is not None and name is not None:
            if conditions or retries:
                _fail("--condition and --retries are for a URL; a configured check has its own")
            spec = check_of_config(config_file, name, timeout=timeout)
        else:
            _fail("give a URL, or --config FILE with --name NAME")
            return
        ok = run_and_show(spec, as_json=as_json)
    except HealthwatchError as error:
        _fail(str(error))
        return
    sys.exit(0 if ok else EXIT_UNHEALTHY)


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
