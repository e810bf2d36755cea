"""Every object validates offline against the Kubernetes schemas, strictly.

``kubernetes-validate`` holds the OpenAPI schemas of each Kubernetes release; strict
mode refuses unknown fields, as ``kubectl apply`` (server-side field validation
``Strict``) does. The oldest release the manifests support (1.30: the first with
``recursiveReadOnly``) and the newest the package knows are both checked. The
Prometheus Operator's kinds are not built in: they are checked against the fields of
``monitoring.coreos.com/v1`` that ``deploy/`` uses, unknown fields refused.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jsonschema  # type: ignore[import-untyped]
import kubernetes_validate  # type: ignore[import-untyped]
import pytest

from tests.deploy.kustomize import Obj, identity, render
from tests.deploy.manifests import (
    DEPLOY,
    KERNEL_LOG_COMPONENT,
    TARGETS,
    find,
    rendered,
    write_kustomization,
)

VERSIONS = ("1.30", kubernetes_validate.latest_version())
OPERATOR_KINDS = {"ServiceMonitor", "PrometheusRule"}


def _strict(properties: dict[str, Any], required: list[str] | None = None) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": properties,
        "required": required or [],
        "additionalProperties": False,
    }


_STRINGS = {"type": "object", "additionalProperties": {"type": "string"}}
_DURATION = {
    "type": "string",
    "pattern": r"^(0|([0-9]+y)?([0-9]+w)?([0-9]+d)?([0-9]+h)?([0-9]+m)?([0-9]+s)?([0-9]+ms)?)$",
}
_METADATA = _strict(
    {"name": {"type": "string"}, "namespace": {"type": "string"}, "labels": _STRINGS}, ["name"]
)
_OPERATOR_SCHEMAS: dict[str, dict[str, Any]] = {
    "ServiceMonitor": _strict(
        {
            "apiVersion": {"const": "monitoring.coreos.com/v1"},
            "kind": {"const": "ServiceMonitor"},
            "metadata": _METADATA,
            "spec": _strict(
                {
                    "selector": _strict({"matchLabels": _STRINGS}, ["matchLabels"]),
                    "namespaceSelector": _strict(
                        {"matchNames": {"type": "array", "items": {"type": "string"}}}
                    ),
                    "endpoints": {
                        "type": "array",
                        "minItems": 1,
                        "items": _strict(
                            {
                                "port": {"type": "string"},
                                "path": {"type": "string", "pattern": "^/"},
                                "interval": _DURATION,
                                "scrapeTimeout": _DURATION,
                            },
                            ["port"],
                        ),
                    },
                },
                ["selector", "endpoints"],
            ),
        },
        ["apiVersion", "kind", "metadata", "spec"],
    ),
    "PrometheusRule": _strict(
        {
            "apiVersion": {"const": "monitoring.coreos.com/v1"},
            "kind": {"const": "PrometheusRule"},
            "metadata": _METADATA,
            "spec": _strict(
                {
                    "groups": {
                        "type": "array",
                        "minItems": 1,
                        "items": _strict(
                            {
                                "name": {"type": "string", "minLength": 1},
                                "rules": {
                                    "type": "array",
                                    "items": _strict(
                                        {
                                            "alert": {"type": "string"},
                                            "expr": {"type": "string", "minLength": 1},
                                            "for": _DURATION,
                                            "labels": _STRINGS,
                                            "annotations": _STRINGS,
                                        },
                                        ["alert", "expr"],
                                    ),
                                },
                            },
                            ["name", "rules"],
                        ),
                    }
                },
                ["groups"],
            ),
        },
        ["apiVersion", "kind", "metadata", "spec"],
    ),
}


def _validate(obj: Obj, version: str) -> None:
    if obj["kind"] in OPERATOR_KINDS:
        jsonschema.validate(obj, _OPERATOR_SCHEMAS[obj["kind"]])
        return
    try:
        kubernetes_validate.validate(obj, version, strict=True)
    except kubernetes_validate.ValidationError as error:
        where = ".".join(str(p) for p in error.path)
        raise AssertionError(f"{identity(obj)} at {where}: {error.message}") from None


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("target", TARGETS)
def test_every_object_validates_strictly(target: str, version: str) -> None:
    objects = rendered(target)
    assert objects
    for obj in objects:
        _validate(obj, version)


@pytest.mark.parametrize("version", VERSIONS)
def test_the_kernel_log_component_validates(tmp_path: Path, version: str) -> None:
    write_kustomization(tmp_path, resources=[DEPLOY / "base"], components=[KERNEL_LOG_COMPONENT])
    for obj in render(tmp_path):
        _validate(obj, version)


def test_validation_catches_a_misspelt_field_and_a_wrong_type() -> None:
    objects = rendered("base")
    daemonset = find(objects, "DaemonSet", "healthwatch-agent")
    mount = daemonset["spec"]["template"]["spec"]["containers"][0]["volumeMounts"][0]
    mount["readonly"] = mount.pop("readOnly")
    with pytest.raises(AssertionError, match="readonly"):
        _validate(daemonset, VERSIONS[0])
    service = find(objects, "Service", "healthwatch-agent")
    service["spec"]["ports"][0]["port"] = "9802"
    with pytest.raises(AssertionError, match="port"):
        _validate(service, VERSIONS[0])


def test_operator_schemas_catch_a_misspelt_field() -> None:
    rule = find(rendered("prometheus"), "PrometheusRule", "healthwatch")
    rule["spec"]["groups"][0]["rules"][0]["fro"] = "5m"
    with pytest.raises(jsonschema.ValidationError, match="fro"):
        _validate(rule, VERSIONS[0])
    monitor = find(rendered("prometheus"), "ServiceMonitor", "healthwatch")
    monitor["spec"]["endpoints"][0]["interval"] = "thirty seconds"
    with pytest.raises(jsonschema.ValidationError):
        _validate(monitor, VERSIONS[0])


def test_only_known_kinds_are_shipped() -> None:
    kinds = {o["kind"] for target in TARGETS for o in rendered(target)}
    unknown = set()
    for kind in kinds - OPERATOR_KINDS:
        sample = next(o for t in TARGETS for o in rendered(t) if o["kind"] == kind)
        try:
            kubernetes_validate.validate(sample, VERSIONS[0], strict=True)
        except kubernetes_validate.SchemaNotFoundError:
            unknown.add(kind)
    assert unknown == set()
