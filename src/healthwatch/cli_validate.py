"""``healthwatch validate``: every error of every config file, each naming file, line and field.

The kind of each file is told by its content: node-problem-detector JSON
monitor configs, Kubernetes manifests holding Kuberhealthy checks
(``KuberhealthyCheck`` and ``HealthCheck``), or our agent YAML. An agent file
is validated section by section (each top-level key, each problem daemon
section, alert routes, history, checks), so a mistake in one section does not
hide those in the others; within a section the loaders stop at the first.

Kept apart from ``cli.py`` so the command line stays a thin table of commands.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Final, ParamSpec, TypeVar

import click
import msgspec

from healthwatch.agent_checks import configured_alerting, configured_history
from healthwatch.agent_problems import configured_daemons, load_npd_file
from healthwatch.checks.alertspec import Alerting, check_alert_routes
from healthwatch.checks.khmanifest import ManifestError, load_kh_manifests
from healthwatch.checks.spec import CheckSpec, build_checks
from healthwatch.config.agent import AgentConfig, ConfigFile, load_config
from healthwatch.config.yamlfile import convert, load_yaml
from healthwatch.model.errors import HealthwatchError

__all__ = ["validate_files"]

T = TypeVar("T")
P = ParamSpec("P")
_HEAD: Final = 64 * 1024
_MANIFEST: Final = re.compile(rb"^(apiVersion|kind)\s*:", re.MULTILINE)
_JSON_MANIFEST: Final = re.compile(rb'"apiVersion"\s*:')
_DAEMON_SECTIONS: Final = (
    "log_monitors",
    "plugin_monitors",
    "stats_monitor",
    "service_monitors",
    "gpu",
)


def _kind_of(path: Path) -> str:
    """``npd``, ``manifest`` or ``agent``, from the start of the file."""
    with path.open("rb") as file:
        head = file.read(_HEAD)
    if head.lstrip().startswith(b"{"):
        return "manifest" if _JSON_MANIFEST.search(head) else "npd"
    return "manifest" if _MANIFEST.search(head) else "agent"


def _count(n: int, what: str) -> str:
    return f"{n} {what}{'' if n == 1 else 's'}"


class _Errors:
    """The errors of one file, each once, in the order found."""

    def __init__(self) -> None:
        self.found: list[str] = []

    def add(self, message: str) -> None:
        if message not in self.found:
            self.found.append(message)

    def attempt(self, step: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T | None:
        """``step(*args, **kwargs)``, or None after recording its error."""
        try:
            return step(*args, **kwargs)
        except ManifestError as error:
            for line in error.errors:
                self.add(line)
        except HealthwatchError as error:
            self.add(str(error))
        return None


def _sections_only(
    path: str, data: dict[object, object], lines: dict[str, int], errors: _Errors
) -> AgentConfig:
    """A config with the file's well-formed sections, for validating them when the whole
    file does not load (the embedded defaults stand in for the rest)."""
    good: dict[object, object] = {}
    known = ConfigFile.__struct_fields__
    for key, value in data.items():
        if key not in known:
            line = lines.get(str(key))
            place = f"{path}:{line}" if line else path
            errors.add(f"{place}: {key}: unknown section; the sections are: {', '.join(known)}")
            continue
        if errors.attempt(convert, {key: value}, ConfigFile, source=path, lines=lines):
            good[key] = value
    sections = errors.attempt(convert, good, ConfigFile, source=path, lines=lines) or ConfigFile()

    def entries(items: list[dict[str, object]] | None) -> tuple[dict[str, object], ...] | None:
        return None if items is None else tuple(items)

    return msgspec.structs.replace(
        load_config(None),
        source=path,
        lines=lines,
        log_monitors=entries(sections.log_monitors),
        checks=entries(sections.checks),
        alerting=sections.alerting,
        history=sections.history,
        plugin_monitors=entries(sections.plugin_monitors),
        stats_monitor=sections.stats_monitor,
        service_monitors=entries(sections.service_monitors),
        gpu=sections.gpu,
    )


def _agent_file(path: str, errors: _Errors) -> str:
    """Validate an agent YAML file into ``errors``; a summary of what it holds."""
    loaded = errors.attempt(lambda: load_yaml(path))
    if loaded is None:
        return ""
    data, lines = loaded[0] if loaded[0] is not None else {}, loaded[1]
    if not isinstance(data, dict):
        errors.add(f"{path}: the top level must be a mapping of sections")
        return ""
    try:
        config = load_config(path)
    except HealthwatchError as error:
        # Each section on its own; the file's error is one of theirs unless none has one.
        config = _sections_only(path, data, lines, errors)
        if not errors.found:
            errors.add(str(error))
    blank: dict[str, object] = dict.fromkeys(_DAEMON_SECTIONS)
    for section in _DAEMON_SECTIONS:
        if getattr(config, section) is not None:
            alone = msgspec.structs.replace(config, **{**blank, section: getattr(config, section)})
            errors.attempt(configured_daemons, alone)
    daemons = errors.attempt(lambda: configured_daemons(config)) if not errors.found else None
    alerting: Alerting | None = errors.attempt(lambda: configured_alerting(config))
    errors.attempt(lambda: configured_history(config))
    specs: list[CheckSpec] | None = None
    if config.checks is not None:
        entries = list(config.checks)
        specs = errors.attempt(lambda: build_checks(entries, source=path, lines=config.lines))
    if specs is not None and alerting is not None:
        found = specs
        errors.attempt(lambda: check_alert_routes(found, alerting, source=path, lines=config.lines))
    parts = [_count(len(specs), "check")] if specs else []
    parts += [_count(len(daemons), "problem daemon")] if daemons else []
    return f" ({', '.join(parts)})" if parts else ""


def _manifest_file(path: str, errors: _Errors) -> str:
    found = errors.attempt(lambda: load_kh_manifests(path))
    if found is None:
        return ""
    skipped = f"; skipped {', '.join(found.skipped)}" if found.skipped else ""
    if not found.checks:
        errors.add(f"{path}: no KuberhealthyCheck or HealthCheck in this file{skipped}")
        return ""
    ids = ", ".join(f"{check.kind} {check.id}" for check in found.checks)
    return f" ({_count(len(found.checks), 'Kuberhealthy check')}: {ids}{skipped})"


def _npd_file(path: str, errors: _Errors) -> str:
    kind = errors.attempt(lambda: load_npd_file(path))
    return f" ({kind})" if kind else ""


_BY_KIND: Final = {"agent": _agent_file, "manifest": _manifest_file, "npd": _npd_file}


def validate_files(files: Sequence[str]) -> bool:
    """Validate each file; print ``FILE: ok (…)`` or every error; True when all are valid."""
    valid = True
    for file in files:
        path = Path(file)
        errors = _Errors()
        try:
            kind = _kind_of(path)
        except OSError as error:
            reason = "no such file" if not path.exists() else f"cannot read: {error.strerror}"
            click.echo(f"{file}: {reason}", err=True)
            valid = False
            continue
        summary = _BY_KIND[kind](file, errors)
        if errors.found:
            valid = False
            for message in errors.found:
                click.echo(message, err=True)
        else:
            click.echo(f"{file}: ok{summary}")
    return valid
