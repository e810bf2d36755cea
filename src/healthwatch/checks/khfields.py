"""The field rules of Kuberhealthy manifests: Go durations, labels, annotations, pod specs.

Kept apart from :mod:`healthwatch.checks.khmanifest` (which knows the two resource
kinds) because these rules are Kubernetes' and Go's, not Kuberhealthy's: a
duration is what Go's ``time.ParseDuration`` accepts, a label what the API server
accepts, and a container needs a name and an image before the controller can put
its ``KH_*`` variables into it. Each rule adds to a :class:`Problems` list
instead of raising, so one pass over a manifest reports every problem in it.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final

__all__ = [
    "ABSENT",
    "NAME",
    "Problems",
    "duration",
    "object_name",
    "parse_go_duration",
    "pod_spec",
    "string_map",
    "unknown_fields",
    "wrapped_pod_spec",
]


ABSENT: Final = object()
"""A field that is not there (distinct from a field that is ``null``)."""
NAME: Final = re.compile(r"[a-z0-9]([-a-z0-9.]*[a-z0-9])?")
"""A Kubernetes object name (DNS subdomain form)."""
_DNS_LABEL: Final = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?")
_LABEL_NAME: Final = re.compile(r"([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?")
_GO_PART: Final = re.compile(r"([0-9]+\.?[0-9]*|\.[0-9]+)(ns|us|µs|μs|ms|s|m|h)")
_GO_UNITS: Final = {"µs": 1e-6, "μs": 1e-6} | dict(ns=1e-9, us=1e-6, ms=1e-3, s=1, m=60, h=3600)
_MAX_SECONDS: Final = 365 * 86400.0
_RESTART_POLICIES: Final = ("Always", "OnFailure", "Never")


@dataclass(slots=True, kw_only=True)
class Problems:
    """The problems found in one manifest, each a line naming file, line, field and value."""

    source: str
    lines: Mapping[str, int]
    line: int | None = None
    """Where the manifest starts, for fields with no line of their own."""
    label: str = ""
    """What the manifest is (``KuberhealthyCheck ns/name: ``), put before each field."""
    found: list[tuple[int, str]] = field(default_factory=list)
    """(line, message) of each problem, in the order found."""

    def add(self, path: str, problem: str, value: object = ABSENT) -> None:
        """Record that the field ``path`` has ``problem``; ``value`` is shown when given."""
        probe, line = path, None
        while line is None and probe:
            line = self.lines.get(probe)
            cut = max(probe.rfind("."), probe.rfind("["))
            probe = probe[:cut] if cut > 0 else ""
        line = line or self.line
        place = f"{self.source}:{line}" if line else self.source
        self.found.append((line or 0, f"{place}: {self.label}{path}: {problem}{_shown(value)}"))

    def messages(self) -> list[str]:
        """Every problem, in the order of the lines they are on."""
        return [message for _, message in sorted(self.found, key=lambda item: item[0])]


def _shown(value: object) -> str:
    if value is ABSENT:
        return ""
    if isinstance(value, dict):
        return " (got a mapping)"
    if isinstance(value, list):
        return " (got a list)"
    return f" (got {value!r:.120})"


def parse_go_duration(text: str) -> float:
    """Seconds in a Go duration (``time.ParseDuration``: ``90s``, ``1h30m``, ``1.5h``, ``0``).

    Raises ValueError when ``text`` is not one; the sign is kept (``-5m`` is -300.0).
    """
    body = text[1:] if text[:1] in ("+", "-") else text
    seconds, pos = 0.0, 0
    if body != "0":
        for match in _GO_PART.finditer(body):
            if match.start() != pos:
                break
            number, unit = match.groups()
            seconds += float(number) * _GO_UNITS[unit]
            pos = match.end()
        if pos == 0 or pos != len(body):
            raise ValueError(f"not a Go duration: {text!r}")
    return -seconds if text.startswith("-") else seconds


def duration(
    problems: Problems, path: str, spec: Mapping[str, Any], *, default: float | None, least: float
) -> float:
    """The duration at ``path`` in seconds (``default`` when absent; required when None)."""
    value = spec.get(path.rpartition(".")[2], ABSENT)
    if value is ABSENT or value is None:
        if default is None:
            problems.add(path, "is required: a Go duration like '30s', '5m' or '1h30m'")
            return 0.0
        return default
    if not isinstance(value, str):
        problems.add(path, "must be a Go duration string like '30s', '5m' or '1h30m'", value)
        return 0.0
    try:
        seconds = parse_go_duration(value.strip())
    except ValueError:
        problems.add(path, "not a Go duration like '30s', '5m' or '1h30m'", value)
        return 0.0
    if not math.isfinite(seconds) or seconds <= 0 or seconds < least or seconds > _MAX_SECONDS:
        low = f"at least {least:g}s" if least else "more than 0"
        problems.add(path, f"must be {low} and at most 365 days", value)
    return seconds


def unknown_fields(
    problems: Problems,
    prefix: str,
    data: Mapping[str, Any],
    allowed: frozenset[str],
    hints: Mapping[str, str] | str | None = None,
) -> None:
    """Every key of ``data`` outside ``allowed`` is a problem (with a hint when known).

    ``hints`` maps keys to hints, or is one hint for every unknown key.
    """
    for key in data:
        if key not in allowed:
            hint = hints if isinstance(hints, str) else (hints or {}).get(str(key))
            known = ", ".join(sorted(allowed))
            problems.add(
                f"{prefix}{key}",
                f"unknown field ({hint})" if hint else f"unknown field; known: {known}",
            )


def object_name(problems: Problems, metadata: object) -> tuple[str, str]:
    """``metadata.name`` and ``metadata.namespace`` (``default`` when absent), checked."""
    meta = metadata if isinstance(metadata, dict) else {}
    if not isinstance(metadata, dict):
        problems.add("metadata", "is required: a mapping with the object's name", metadata)
    name, namespace = meta.get("name", ABSENT), meta.get("namespace", "default")
    if not isinstance(name, str) or not NAME.fullmatch(name) or len(name) > 63:
        problems.add(
            "metadata.name",
            "must be lower-case letters, digits, '-' and '.', starting and ending with a letter "
            "or digit, at most 63 characters (it becomes a label value of the check pods)",
            name,
        )
    if not isinstance(namespace, str) or len(namespace) > 63 or not _DNS_LABEL.fullmatch(namespace):
        problems.add("metadata.namespace", "must be a Kubernetes namespace name", namespace)
    return (name if isinstance(name, str) else "?"), str(namespace)


def _label_key_ok(key: str) -> bool:
    prefix, slash, name = key.rpartition("/")
    if slash and (len(prefix) > 253 or not NAME.fullmatch(prefix)):
        return False
    return 0 < len(name) <= 63 and _LABEL_NAME.fullmatch(name) is not None


def string_map(
    problems: Problems, path: str, parent: Mapping[str, Any], *, labels: bool
) -> dict[str, str]:
    """The string-to-string mapping at ``path`` (labels or annotations), checked as the API is."""
    value = parent.get(path.rpartition(".")[2])
    if value is None:
        return {}
    if not isinstance(value, dict):
        problems.add(path, "must be a mapping of strings to strings", value)
        return {}
    found: dict[str, str] = {}
    for key, item in value.items():
        here = f"{path}.{key}"
        if not isinstance(key, str) or not _label_key_ok(key):
            problems.add(here, "not a valid key: [prefix/]name, name at most 63 characters", key)
        elif not isinstance(item, str):
            problems.add(here, "must be a string (quote numbers and booleans)", item)
        elif labels and (len(item) > 63 or not _LABEL_NAME.fullmatch(item)):
            problems.add(
                here, "not a valid label value: at most 63 letters, digits, '-', '_', '.'", item
            )
        else:
            found[key] = item
    return found


def _strings(problems: Problems, path: str, value: object) -> None:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        problems.add(path, "must be a list of strings", value)


def _env(problems: Problems, path: str, value: object) -> None:
    if not isinstance(value, list):
        problems.add(path, "must be a list of {name, value} entries", value)
        return
    for j, item in enumerate(value):
        here = f"{path}[{j}]"
        if not isinstance(item, dict):
            problems.add(here, "must be a mapping with name and value", item)
            continue
        if not isinstance(item.get("name"), str) or not item["name"]:
            problems.add(
                f"{here}.name", "is required: the variable's name", item.get("name", ABSENT)
            )
        if item.get("value") is not None and not isinstance(item["value"], str):
            problems.add(
                f"{here}.value", "must be a string (quote numbers and booleans)", item["value"]
            )


def _containers(problems: Problems, path: str, value: object, *, required: bool) -> None:
    if value is ABSENT or value is None:
        if required:
            problems.add(path, "is required: a list of at least one container")
        return
    if not isinstance(value, list) or (required and not value):
        problems.add(path, "must be a list of at least one container", value)
        return
    names: set[str] = set()
    for i, container in enumerate(value):
        here = f"{path}[{i}]"
        if not isinstance(container, dict):
            problems.add(here, "must be a container (a mapping with name and image)", container)
            continue
        name = container.get("name", ABSENT)
        if not isinstance(name, str) or len(name) > 63 or not _DNS_LABEL.fullmatch(name):
            problems.add(
                f"{here}.name",
                "is required: lower-case letters, digits and '-', at most 63 characters",
                name,
            )
        elif name in names:
            problems.add(f"{here}.name", "another container of the pod has this name", name)
        else:
            names.add(name)
        image = container.get("image", ABSENT)
        if not isinstance(image, str) or not image.strip():
            problems.add(f"{here}.image", "is required: the container image to run", image)
        for key in ("command", "args"):
            if key in container:
                _strings(problems, f"{here}.{key}", container[key])
        if container.get("env") is not None:
            _env(problems, f"{here}.env", container["env"])


def pod_spec(problems: Problems, path: str, value: object, *, v3: bool) -> dict[str, Any]:
    """The pod spec at ``path``, its containers checked; returned as a plain dict."""
    if not isinstance(value, dict):
        problems.add(path, "is required: a pod spec (a mapping with containers)", value)
        return {}
    if not v3:
        for wrapper in ("spec", "metadata"):
            if wrapper in value:
                problems.add(
                    f"{path}.{wrapper}",
                    "not a pod spec field: in comcast.github.io/v1 the pod's fields sit directly "
                    "under podSpec (the spec/metadata wrapper is HealthCheck's form)",
                )
    _containers(problems, f"{path}.containers", value.get("containers", ABSENT), required=True)
    _containers(problems, f"{path}.initContainers", value.get("initContainers"), required=False)
    policy = value.get("restartPolicy")
    if policy is not None and policy not in _RESTART_POLICIES:
        problems.add(f"{path}.restartPolicy", "must be Always, OnFailure or Never", policy)
    return dict(value)


def wrapped_pod_spec(
    problems: Problems, path: str, spec: Mapping[str, Any]
) -> tuple[dict[str, Any], dict[str, str], dict[str, str]]:
    """HealthCheck's ``podSpec``: ``{metadata: {labels, annotations}, spec: PodSpec}``.

    Returns the pod spec, the pod labels and the pod annotations.
    """
    value = spec.get("podSpec", ABSENT)
    wrapper: Mapping[str, Any] = value if isinstance(value, dict) else {}
    if not isinstance(value, dict):
        problems.add(path, "is required: a mapping with the pod's metadata and spec", value)
    moved = "in kuberhealthy.github.io/v2 the pod's fields go under podSpec.spec"
    unknown_fields(problems, f"{path}.", wrapper, frozenset({"metadata", "spec"}), moved)
    meta = wrapper.get("metadata") or {}
    if not isinstance(meta, dict):
        problems.add(f"{path}.metadata", "must be a mapping with labels and annotations", meta)
        meta = {}
    unknown_fields(problems, f"{path}.metadata.", meta, frozenset({"labels", "annotations"}))
    labels = string_map(problems, f"{path}.metadata.labels", meta, labels=True)
    annotations = string_map(problems, f"{path}.metadata.annotations", meta, labels=False)
    pod = pod_spec(problems, f"{path}.spec", wrapper.get("spec", ABSENT), v3=True)
    return pod, labels, annotations
