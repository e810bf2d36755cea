"""The custom resource definitions: structural schemas that accept good resources only.

The API server stores a custom resource only if the CRD's ``openAPIV3Schema`` is
structural, and with strict field validation (``kubectl apply``'s default) refuses
fields the schema does not declare. The tests check the first by walking each schema
and emulate the second by closing every object that does not preserve unknown
fields, then run sample resources through ``jsonschema``: the samples shipped in
``deploy/crds/samples`` and Kuberhealthy manifests are accepted, malformed ones refused.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema  # type: ignore[import-untyped]
import pytest
import yaml

from tests.deploy.kustomize import Obj, load_documents
from tests.deploy.manifests import DEPLOY, find, rendered

SAMPLES = sorted((DEPLOY / "crds" / "samples").glob("*.yaml"))
_JUNCTOR_FORBIDDEN = {"type", "description", "default", "additionalProperties", "nullable"}


def _crds() -> list[Obj]:
    return [
        o
        for target in ("crds", "overlays/kuberhealthy-compatible-crds")
        for o in rendered(target)
        if o["kind"] == "CustomResourceDefinition"
    ]


def _crd(name: str) -> Obj:
    return next(c for c in _crds() if c["metadata"]["name"] == name)


def _nodes(schema: dict[str, Any], path: str = "") -> Iterator[tuple[str, dict[str, Any]]]:
    yield path, schema
    for key, child in (schema.get("properties") or {}).items():
        yield from _nodes(child, f"{path}.{key}")
    if isinstance(schema.get("items"), dict):
        yield from _nodes(schema["items"], f"{path}[]")
    if isinstance(schema.get("additionalProperties"), dict):
        yield from _nodes(schema["additionalProperties"], f"{path}{{}}")


def _closed(schema: dict[str, Any]) -> dict[str, Any]:
    """The schema as strict field validation applies it: undeclared fields refused."""
    result = copy.deepcopy(schema)
    for _, node in _nodes(result):
        open_ = node.get("x-kubernetes-preserve-unknown-fields") or "additionalProperties" in node
        if node.get("type") == "object" and "properties" in node and not open_:
            node["additionalProperties"] = False
    return result


def _validator(crd: Obj, version: str) -> jsonschema.Draft202012Validator:
    served = next(v for v in crd["spec"]["versions"] if v["name"] == version)
    schema = _closed(served["schema"]["openAPIV3Schema"])
    return jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker())


@pytest.mark.parametrize("crd", _crds(), ids=lambda c: c["metadata"]["name"])
def test_schemas_are_structural(crd: Obj) -> None:
    names = crd["spec"]["names"]
    assert crd["metadata"]["name"] == f"{names['plural']}.{crd['spec']['group']}"
    assert [v["storage"] for v in crd["spec"]["versions"]].count(True) == 1
    for version in crd["spec"]["versions"]:
        schema = version["schema"]["openAPIV3Schema"]
        for path, node in _nodes(schema):
            assert "type" in node or node.get("x-kubernetes-int-or-string"), f"{path}: no type"
            for junctor in ("anyOf", "allOf", "oneOf"):
                for branch in node.get(junctor, []):
                    for key, sub in _nodes(branch):
                        assert not _JUNCTOR_FORBIDDEN & set(sub), f"{path}.{junctor}{key}"
                    assert set(branch.get("properties", {})) <= set(node["properties"]), path
        for column in version.get("additionalPrinterColumns", []):
            if column["jsonPath"].startswith(".metadata."):
                continue  # every object has its metadata
            steps = column["jsonPath"].lstrip(".").replace("[0]", "").split(".")
            node = schema
            for step in steps:
                node = node.get("items", node)["properties"][step]
            assert node is not None, column


def test_our_health_check_has_the_status_the_controller_keeps() -> None:
    crd = _crd("healthchecks.healthwatch.io")
    (version,) = crd["spec"]["versions"]
    assert version["subresources"] == {"status": {}}
    assert "hc" not in crd["spec"]["names"].get("shortNames", [])  # Kuberhealthy's
    status = version["schema"]["openAPIV3Schema"]["properties"]["status"]["properties"]
    wanted = {"lastRun", "ok", "errors", "durationSeconds", "currentUUID", "consecutiveFailures"}
    assert wanted <= set(status)


def test_kuberhealthy_compatible_definitions_follow_their_documented_shape() -> None:
    v2 = _crd("khchecks.comcast.github.io")
    assert [v["name"] for v in v2["spec"]["versions"]] == ["v1"]
    assert "subresources" not in v2["spec"]["versions"][0]  # state lives in khstates
    spec = v2["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["spec"]
    assert set(spec["required"]) == {"runInterval", "timeout", "podSpec"}
    v3 = _crd("healthchecks.kuberhealthy.github.io")
    assert v3["spec"]["names"]["kind"] == "HealthCheck"
    assert [v["name"] for v in v3["spec"]["versions"]] == ["v2"]
    status = v3["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["status"]
    assert "consecutiveFailures" in status["properties"]  # not pruned, unlike upstream


@pytest.mark.parametrize("sample", SAMPLES, ids=lambda p: p.name)
def test_shipped_samples_are_valid(sample: Path) -> None:
    (resource,) = load_documents(sample)
    assert resource["apiVersion"] == "healthwatch.io/v1alpha1"
    _validator(_crd("healthchecks.healthwatch.io"), "v1alpha1").validate(resource)


def test_a_resource_with_status_written_is_valid() -> None:
    (resource,) = load_documents(DEPLOY / "crds" / "samples" / "http.yaml")
    resource["status"] = {
        "ok": False,
        "errors": ["status == 200 (observed status=503)"],
        "lastRun": "2026-01-02T03:04:05Z",
        "durationSeconds": 0.25,
        "currentUUID": "",
        "consecutiveFailures": 3,
        "observedGeneration": 1,
    }
    _validator(_crd("healthchecks.healthwatch.io"), "v1alpha1").validate(resource)
    resource["status"]["currentUUID"] = "5f0d2765-1c3e-4b0a-9f6e-2d8c1b7a9e01"
    _validator(_crd("healthchecks.healthwatch.io"), "v1alpha1").validate(resource)


def _changed(base: Obj, path: str, value: Any) -> Obj:
    changed = copy.deepcopy(base)
    *parents, last = path.split(".")
    node = changed
    for key in parents:
        node = node.setdefault(key, {})
    if value is _DELETE:
        del node[last]
    else:
        node[last] = value
    return changed


_DELETE = object()
_HTTP = load_documents(DEPLOY / "crds" / "samples" / "http.yaml")[0]
_EXTERNAL = load_documents(DEPLOY / "crds" / "samples" / "external.yaml")[0]


@pytest.mark.parametrize(
    ("resource", "problem"),
    [
        (_changed(_HTTP, "spec.http", _DELETE), "anyOf|not valid under any"),
        (_changed(_HTTP, "spec.kind", "exec"), "exec"),
        (_changed(_HTTP, "spec.interval", "30 seconds"), "does not match"),
        (_changed(_HTTP, "spec.intervl", "30s"), "intervl"),
        (_changed(_HTTP, "spec.retries", 6), "maximum|greater than"),
        (_changed(_HTTP, "spec.http.url", "ftp://example.org/"), "does not match"),
        (_changed(_HTTP, "spec.labels", {"team": 7}), "not of type 'string'"),
        (_changed(_HTTP, "spec", _DELETE), "'spec' is a required property"),
        (_changed(_HTTP, "spec.tcp", {"host": "db", "port": 70000}), "70000"),
        (_changed(_HTTP, "spec.dns", {"query": "x", "recordType": "ANY"}), "ANY"),
        (_changed(_HTTP, "status", {"consecutiveFailures": -1}), "minimum|less than"),
        (_changed(_HTTP, "status", {"currentUUID": "not-a-uuid"}), "does not match"),
        (_changed(_HTTP, "status", {"ok": "yes"}), "not of type 'boolean'"),
        (_changed(_EXTERNAL, "spec.pod", _DELETE), "anyOf|not valid under any"),
        (_changed(_EXTERNAL, "spec.pod.spec.containers", []), "non-empty|too short"),
        (_changed(_EXTERNAL, "spec.pod.metadata.name", "x"), "name"),
    ],
)
def test_malformed_resources_are_refused(resource: Obj, problem: str) -> None:
    validator = _validator(_crd("healthchecks.healthwatch.io"), "v1alpha1")
    errors = [e.message for e in validator.iter_errors(resource)]
    assert errors, "accepted"
    assert any(re.search(problem, e) for e in errors), errors


KH_V2 = """
apiVersion: comcast.github.io/v1
kind: KuberhealthyCheck
metadata: {name: daemonset, namespace: kuberhealthy}
spec:
  runInterval: 15m
  timeout: 12m
  extraLabels: {team: platform}
  podSpec:
    containers:
      - name: main
        image: kuberhealthy/daemonset-check:v3.3.0
        env: [{name: CHECK_DAEMONSET_NAME, value: daemonset}]
"""
KH_V3 = """
apiVersion: kuberhealthy.github.io/v2
kind: HealthCheck
metadata: {name: deployment, namespace: kuberhealthy}
spec:
  runInterval: 10m
  timeout: 5m
  podSpec:
    metadata: {labels: {app: deployment-check}}
    spec:
      containers: [{name: main, image: kuberhealthy/deployment-check:v1.9.0}]
status: {ok: true, errors: [], consecutiveFailures: 0, runDuration: 22512278967, currentUUID: ""}
"""


def test_kuberhealthy_manifests_are_accepted_and_v2_pod_specs_in_v3_refused() -> None:
    v2 = _validator(_crd("khchecks.comcast.github.io"), "v1")
    v3 = _validator(_crd("healthchecks.kuberhealthy.github.io"), "v2")
    v2.validate(yaml.safe_load(KH_V2))
    v3.validate(yaml.safe_load(KH_V3))
    misplaced = yaml.safe_load(KH_V3)
    misplaced["spec"]["podSpec"] = {"containers": [{"name": "main", "image": "x"}]}
    assert [e.message for e in v3.iter_errors(misplaced)]
    no_timeout = yaml.safe_load(KH_V2)
    del no_timeout["spec"]["timeout"]
    assert any("timeout" in e.message for e in v2.iter_errors(no_timeout))
    bad_interval = yaml.safe_load(KH_V2)
    bad_interval["spec"]["runInterval"] = "15 minutes"
    assert any("does not match" in e.message for e in v2.iter_errors(bad_interval))


def test_the_controller_may_read_every_kind_it_is_given_definitions_for() -> None:
    role = find(rendered("controller"), "ClusterRole", "healthwatch-controller")
    readable = {
        (group, resource)
        for rule in role["rules"]
        if "list" in rule["verbs"] and "watch" in rule["verbs"]
        for group in rule["apiGroups"]
        for resource in rule["resources"]
    }
    for crd in _crds():
        assert (crd["spec"]["group"], crd["spec"]["names"]["plural"]) in readable
