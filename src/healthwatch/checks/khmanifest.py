"""Kuberhealthy check manifests, read and validated into :class:`KhCheck` values.

Clusters running Kuberhealthy already describe their checks as custom resources:
v2's ``KuberhealthyCheck`` (``comcast.github.io/v1``, the pod spec directly under
``spec.podSpec``) and v3's ``HealthCheck`` (``kuberhealthy.github.io/v2``, the pod
spec under ``spec.podSpec.spec``). The checks controller reads them from the API
and ``healthwatch validate`` reads them from files; both go through
:func:`parse_kh_check`, so a manifest that validates is one the controller can
run. The fields the controller uses are checked (durations, containers and their
environment, where labels and annotations go); the rest of the pod spec is kept
as a plain dict for the API server to judge. Every problem of a document is
reported, each naming the file, line, field path and value.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Final

import yaml

from healthwatch.checks.khfields import (
    ABSENT,
    Problems,
    duration,
    object_name,
    pod_spec,
    string_map,
    unknown_fields,
    wrapped_pod_spec,
)
from healthwatch.config.yamlfile import read_config_text
from healthwatch.model.errors import ConfigError

__all__ = [
    "KH_V2_API",
    "KH_V2_KIND",
    "KH_V3_API",
    "KH_V3_KIND",
    "KhCheck",
    "KhManifestFile",
    "ManifestError",
    "is_kh_check",
    "load_kh_manifests",
    "parse_kh_check",
]

KH_V2_API: Final = "comcast.github.io/v1"
KH_V2_KIND: Final = "KuberhealthyCheck"
KH_V3_API: Final = "kuberhealthy.github.io/v2"
KH_V3_KIND: Final = "HealthCheck"
_API_OF_KIND: Final = {KH_V2_KIND: KH_V2_API, KH_V3_KIND: KH_V3_API}
_GROUPS: Final = ("comcast.github.io/", "kuberhealthy.github.io/")
_V3_DEFAULT_INTERVAL: Final = 600.0
_V3_DEFAULT_TIMEOUT: Final = 30.0
_MAX_NODES: Final = 200_000
_Loader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_TOP: Final = frozenset({"apiVersion", "kind", "metadata", "spec", "status"})
_SPEC: Final = {
    KH_V2_API: frozenset({"runInterval", "timeout", "podSpec", "extraAnnotations", "extraLabels"}),
    KH_V3_API: frozenset(
        {"singleRunOnly", "runInterval", "timeout", "podSpec", "extraAnnotations", "extraLabels"}
    ),
}
_HINTS: Final = {
    "image": "the image goes in a container of spec.podSpec",
    "containers": "containers go in the pod spec, under spec.podSpec",
}


@dataclass(frozen=True, slots=True, kw_only=True)
class KhCheck:
    """One Kuberhealthy check, as the checks controller runs it."""

    api_version: str
    """``comcast.github.io/v1`` or ``kuberhealthy.github.io/v2``."""
    kind: str
    """``KuberhealthyCheck`` or ``HealthCheck``."""
    name: str
    namespace: str
    """The manifest's namespace; ``default`` when a file leaves it out."""
    interval: float
    """Seconds between runs (``spec.runInterval``)."""
    timeout: float
    """Seconds one run may take, start to report (``spec.timeout``)."""
    pod_spec: dict[str, Any]
    """The core/v1 PodSpec of the check pods, as written."""
    pod_labels: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    """Labels of the check pods: ``spec.podSpec.metadata.labels`` (HealthCheck only)."""
    pod_annotations: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    """Annotations of the check pods: ``spec.podSpec.metadata.annotations`` (HealthCheck only)."""
    extra_labels: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    """``spec.extraLabels``, added to the check pods."""
    extra_annotations: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    """``spec.extraAnnotations``, added to the check pods."""
    single_run_only: bool = False
    """``spec.singleRunOnly`` (HealthCheck only): run once, not every interval."""
    source: str = ""
    """Where the manifest came from (``file:line``, or the API)."""

    @property
    def id(self) -> str:
        """``namespace/name``, as the check's results are keyed."""
        return f"{self.namespace}/{self.name}"


@dataclass(frozen=True, slots=True)
class KhManifestFile:
    """What a manifest file holds: its Kuberhealthy checks and the kinds it skipped."""

    checks: tuple[KhCheck, ...]
    skipped: tuple[str, ...] = ()
    """Kinds of the other documents (``ServiceAccount``, ``Role`` ...), in order."""


class ManifestError(ConfigError):
    """One or more problems in Kuberhealthy manifests; ``errors`` holds one line each."""

    def __init__(self, errors: Sequence[str]) -> None:
        super().__init__("\n".join(errors))
        self.errors = tuple(errors)


def is_kh_check(obj: object) -> bool:
    """Whether ``obj`` claims to be a Kuberhealthy check (right or wrong, it is ours to judge).

    A ``KuberhealthyCheck`` of any version, or a ``HealthCheck`` of a Kuberhealthy API
    group; a ``HealthCheck`` of some other group is somebody else's resource.
    """
    if not isinstance(obj, dict):
        return False
    kind, api = obj.get("kind"), obj.get("apiVersion")
    ours = isinstance(api, str) and api.startswith(_GROUPS)
    return kind == KH_V2_KIND or (kind == KH_V3_KIND and ours)


def _schema(problems: Problems, data: dict[str, Any]) -> str:
    """The API version whose schema applies; a kind that does not go with it is an error."""
    kind, api = data.get("kind", ABSENT), data.get("apiVersion", ABSENT)
    expected = _API_OF_KIND.get(kind) if isinstance(kind, str) else None
    if isinstance(api, str) and api in _SPEC:
        wanted = KH_V2_KIND if api == KH_V2_API else KH_V3_KIND
        if kind != wanted:
            also = f", or apiVersion: {expected}" if expected else ""
            problems.add("kind", f"{api} has no {kind}: write kind: {wanted}{also}", kind)
        return api
    if expected is None:
        problems.add("kind", f"must be {KH_V2_KIND} or {KH_V3_KIND}", kind)
        return KH_V2_API
    problems.add("apiVersion", f"must be {expected} for a {kind}", api)
    return expected


def parse_kh_check(
    obj: object, *, source: str, lines: Mapping[str, int] | None = None, line: int | None = None
) -> KhCheck:
    """Validate one ``KuberhealthyCheck`` or ``HealthCheck`` object (from a file or the API).

    ``lines`` maps field paths of the object (``spec.timeout``) to file lines; ``line``
    is where the object starts. Raises :class:`ManifestError` with every problem found.
    """
    if not isinstance(obj, dict):
        where = f"{source}:{line}" if line else source
        raise ManifestError([f"{where}: expected a Kubernetes object (a mapping)"])
    kind = str(obj.get("kind", "?"))
    problems = Problems(source=source, lines=lines or {}, line=line, label=f"{kind}: ")
    api = _schema(problems, obj)
    name, namespace = object_name(problems, obj.get("metadata", ABSENT))
    problems.label = f"{kind} {namespace}/{name}: "
    unknown_fields(problems, "", obj, _TOP)
    raw_spec = obj.get("spec", ABSENT)
    spec: dict[str, Any] = raw_spec if isinstance(raw_spec, dict) else {}
    if not isinstance(raw_spec, dict):
        problems.add("spec", "is required: a mapping", raw_spec)
    unknown_fields(problems, "spec.", spec, _SPEC[api], hints=_HINTS)
    v3 = api == KH_V3_API
    interval = duration(
        problems, "spec.runInterval", spec, default=_V3_DEFAULT_INTERVAL if v3 else None, least=1.0
    )
    timeout = duration(
        problems, "spec.timeout", spec, default=_V3_DEFAULT_TIMEOUT if v3 else None, least=0.0
    )
    labels: Mapping[str, str] = {}
    annotations: Mapping[str, str] = {}
    if v3:
        pod, labels, annotations = wrapped_pod_spec(problems, "spec.podSpec", spec)
    else:
        pod = pod_spec(problems, "spec.podSpec", spec.get("podSpec", ABSENT), v3=False)
    single = spec.get("singleRunOnly", False)
    if not isinstance(single, bool):
        problems.add("spec.singleRunOnly", "must be true or false", single)
    extra_labels = string_map(problems, "spec.extraLabels", spec, labels=True)
    extra_annotations = string_map(problems, "spec.extraAnnotations", spec, labels=False)
    if problems.found:
        raise ManifestError(problems.messages())
    return KhCheck(
        api_version=api,
        kind=kind,
        name=name,
        namespace=namespace,
        interval=interval,
        timeout=timeout,
        pod_spec=pod,
        pod_labels=MappingProxyType(dict(labels)),
        pod_annotations=MappingProxyType(dict(annotations)),
        extra_labels=MappingProxyType(dict(extra_labels)),
        extra_annotations=MappingProxyType(dict(extra_annotations)),
        single_run_only=single is True,
        source=f"{source}:{line}" if line else source,
    )


def _walk(root: yaml.Node, lines: dict[str, int], budget: list[int], source: str) -> None:
    """Record the line of each field path (a key's own line); refuse runaway aliases."""
    stack: list[tuple[yaml.Node, str, int]] = [(root, "", root.start_mark.line + 1)]
    while stack:
        node, path, line = stack.pop()
        budget[0] -= 1
        if budget[0] < 0:
            raise ConfigError(f"{source}: more than {_MAX_NODES} values (aliases expanding?)")
        lines.setdefault(path, line)
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                name = key.value if isinstance(key, yaml.ScalarNode) else "?"
                here = f"{path}.{name}" if path else str(name)
                stack.append((value, here, key.start_mark.line + 1))
        elif isinstance(node, yaml.SequenceNode):
            stack.extend(
                (item, f"{path}[{i}]", item.start_mark.line + 1)
                for i, item in enumerate(node.value)
            )


def _documents(text: str, source: str) -> list[tuple[object, dict[str, int], int]]:
    """Each YAML document's data, the lines of its field paths, and its first line."""
    loader = _Loader(text)
    documents: list[tuple[object, dict[str, int], int]] = []
    budget = [_MAX_NODES]
    try:
        while loader.check_node():
            node = loader.get_node()
            if node is None:
                break
            lines: dict[str, int] = {}
            _walk(node, lines, budget, source)
            documents.append((loader.construct_document(node), lines, node.start_mark.line + 1))
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f":{mark.line + 1}:{mark.column + 1}" if mark is not None else ""
        problem = getattr(error, "problem", None) or str(error)
        raise ConfigError(f"{source}{where}: invalid YAML: {problem}") from None
    except RecursionError:
        raise ConfigError(f"{source}: YAML nested too deeply") from None
    finally:
        loader.dispose()
    return documents


def load_kh_manifests(path: str | os.PathLike[str]) -> KhManifestFile:
    """The Kuberhealthy checks of a YAML (or JSON) file of one or more documents.

    Documents of other kinds (the RBAC objects shipped beside a check) are skipped
    and listed. Raises :class:`ManifestError` with every problem of every document,
    or :class:`ConfigError` when the file cannot be read or parsed at all.
    """
    source = str(path)
    checks: list[KhCheck] = []
    skipped: list[str] = []
    errors: list[str] = []
    seen: dict[str, int] = {}
    for data, lines, line in _documents(read_config_text(path), source):
        if data is None:
            continue
        if not is_kh_check(data):
            kind = data.get("kind") if isinstance(data, dict) else None
            if isinstance(data, dict) and isinstance(kind, str):
                skipped.append(kind)
            else:
                errors.append(
                    f"{source}:{line}: expected a Kubernetes object with apiVersion and kind"
                )
            continue
        try:
            check = parse_kh_check(data, source=source, lines=lines, line=line)
        except ManifestError as error:
            errors += error.errors
            continue
        if check.id in seen:
            errors.append(
                f"{source}:{line}: {check.kind} {check.id}: metadata.name: the check at line "
                f"{seen[check.id]} has this namespace/name"
            )
        seen.setdefault(check.id, line)
        checks.append(check)
    if errors:
        raise ManifestError(errors)
    return KhManifestFile(checks=tuple(checks), skipped=tuple(skipped))
