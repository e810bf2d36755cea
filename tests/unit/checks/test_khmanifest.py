"""Kuberhealthy manifests: both CRD generations read into KhCheck values, every error exact."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from healthwatch.checks.khmanifest import (
    KH_V2_API,
    KH_V3_API,
    ManifestError,
    is_kh_check,
    load_kh_manifests,
    parse_kh_check,
)
from healthwatch.config.yamlfile import MAX_CONFIG_BYTES
from healthwatch.model.errors import ConfigError

V2_WITH_RBAC = """\
apiVersion: comcast.github.io/v1
kind: KuberhealthyCheck
metadata:
  name: deployment
  namespace: kuberhealthy
spec:
  runInterval: 10m
  timeout: 15m
  extraLabels: {team: infra}
  extraAnnotations: {note: "any text: at all"}
  podSpec:
    serviceAccountName: deployment-sa
    containers:
      - name: deployment
        image: kuberhealthy/deployment-check:v1.9.0
        env:
          - {name: CHECK_DEPLOYMENT_REPLICAS, value: "4"}
          - name: POD_IP
            valueFrom: {fieldRef: {fieldPath: status.podIP}}
---
apiVersion: v1
kind: ServiceAccount
metadata: {name: deployment-sa, namespace: kuberhealthy}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: deployment-role}
"""

V3_MINIMAL = """\
apiVersion: kuberhealthy.github.io/v2
kind: HealthCheck
metadata:
  name: dns.internal
spec:
  singleRunOnly: true
  podSpec:
    metadata:
      labels: {app.kubernetes.io/name: dns}
      annotations: {owner: "platform team"}
    spec:
      restartPolicy: Never
      containers:
        - {name: main, image: "kuberhealthy/dns-resolution-check:v1.5.0", args: ["-v"]}
"""


def _write(tmp_path: Path, text: str, name: str = "checks.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def _errors(path: Path) -> list[str]:
    with pytest.raises(ManifestError) as caught:
        load_kh_manifests(path)
    assert str(caught.value) == "\n".join(caught.value.errors)
    return [line.replace(f"{path}:", "F:") for line in caught.value.errors]


def test_a_v2_check_with_its_rbac_documents(tmp_path: Path) -> None:
    path = _write(tmp_path, V2_WITH_RBAC)
    found = load_kh_manifests(path)
    assert found.skipped == ("ServiceAccount", "Role")
    (check,) = found.checks
    assert (check.api_version, check.kind, check.id) == (
        KH_V2_API,
        "KuberhealthyCheck",
        "kuberhealthy/deployment",
    )
    assert (check.interval, check.timeout) == (600.0, 900.0)
    assert check.pod_spec["serviceAccountName"] == "deployment-sa"
    assert check.pod_spec["containers"][0]["image"] == "kuberhealthy/deployment-check:v1.9.0"
    assert dict(check.extra_labels) == {"team": "infra"}
    assert dict(check.extra_annotations) == {"note": "any text: at all"}
    assert dict(check.pod_labels) == {} and check.single_run_only is False
    assert check.source == f"{path}:1"


def test_a_v3_check_takes_the_documented_defaults(tmp_path: Path) -> None:
    (check,) = load_kh_manifests(_write(tmp_path, V3_MINIMAL)).checks
    assert (check.api_version, check.id) == (KH_V3_API, "default/dns.internal")
    assert (check.interval, check.timeout) == (600.0, 30.0)  # v3's constants
    assert check.single_run_only is True
    assert dict(check.pod_labels) == {"app.kubernetes.io/name": "dns"}
    assert dict(check.pod_annotations) == {"owner": "platform team"}
    assert check.pod_spec == {
        "restartPolicy": "Never",
        "containers": [
            {"name": "main", "image": "kuberhealthy/dns-resolution-check:v1.5.0", "args": ["-v"]}
        ],
    }


def test_a_json_manifest_and_an_object_from_the_api(tmp_path: Path) -> None:
    obj: dict[str, object] = {
        "apiVersion": KH_V3_API,
        "kind": "HealthCheck",
        "metadata": {"name": "ping", "namespace": "ops", "uid": "1234", "resourceVersion": "9"},
        "spec": {
            "runInterval": "1m30s",
            "timeout": "45s",
            "podSpec": {"spec": {"containers": [{"name": "c", "image": "busybox"}]}},
        },
        "status": {"ok": True, "currentUUID": ""},
    }
    (from_file,) = load_kh_manifests(_write(tmp_path, json.dumps(obj), "c.json")).checks
    from_api = parse_kh_check(obj, source="the API")
    assert from_file.interval == from_api.interval == 90.0
    assert from_api.source == "the API" and from_api.id == "ops/ping"


def test_every_problem_of_every_document_is_reported_in_line_order(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        """\
apiVersion: comcast.github.io/v1
kind: KuberhealthyCheck
metadata:
  name: old
spec:
  runInterval: 0s
  podSpec:
    spec:
      containers: []
  extraLabels:
    team: true
    bad key!: x
    long: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa
  extraAnnotations: [1]
---
apiVersion: kuberhealthy.github.io/v2
kind: HealthCheck
metadata: {name: new, namespace: Kube_System}
spec:
  runInterval: 90
  timeout: 5x
  singleRunOnly: "yes"
  podSpec:
    containers: []
    spec:
      restartPolicy: Sometimes
      containers:
        - name: same
        - name: same
          image: ""
          command: run
          env:
            - {name: A, value: 1}
            - value: "x"
        - just-a-string
""",
    )
    assert _errors(path) == [
        "F:5: KuberhealthyCheck default/old: spec.timeout: is required: "
        "a Go duration like '30s', '5m' or '1h30m'",
        "F:6: KuberhealthyCheck default/old: spec.runInterval: "
        "must be at least 1s and at most 365 days (got '0s')",
        "F:7: KuberhealthyCheck default/old: spec.podSpec.containers: "
        "is required: a list of at least one container",
        "F:8: KuberhealthyCheck default/old: spec.podSpec.spec: not a pod spec field: in "
        "comcast.github.io/v1 the pod's fields sit directly under podSpec "
        "(the spec/metadata wrapper is HealthCheck's form)",
        "F:11: KuberhealthyCheck default/old: spec.extraLabels.team: "
        "must be a string (quote numbers and booleans) (got True)",
        "F:12: KuberhealthyCheck default/old: spec.extraLabels.bad key!: "
        "not a valid key: [prefix/]name, name at most 63 characters (got 'bad key!')",
        "F:13: KuberhealthyCheck default/old: spec.extraLabels.long: not a valid label value: "
        f"at most 63 letters, digits, '-', '_', '.' (got '{'a' * 66}')",
        "F:14: KuberhealthyCheck default/old: spec.extraAnnotations: "
        "must be a mapping of strings to strings (got a list)",
        "F:18: HealthCheck: metadata.namespace: must be a Kubernetes namespace name "
        "(got 'Kube_System')",
        "F:20: HealthCheck Kube_System/new: spec.runInterval: must be a Go duration string "
        "like '30s', '5m' or '1h30m' (got 90)",
        "F:21: HealthCheck Kube_System/new: spec.timeout: "
        "not a Go duration like '30s', '5m' or '1h30m' (got '5x')",
        "F:22: HealthCheck Kube_System/new: spec.singleRunOnly: must be true or false (got 'yes')",
        "F:24: HealthCheck Kube_System/new: spec.podSpec.containers: unknown field "
        "(in kuberhealthy.github.io/v2 the pod's fields go under podSpec.spec)",
        "F:26: HealthCheck Kube_System/new: spec.podSpec.spec.restartPolicy: "
        "must be Always, OnFailure or Never (got 'Sometimes')",
        "F:28: HealthCheck Kube_System/new: spec.podSpec.spec.containers[0].image: "
        "is required: the container image to run",
        "F:29: HealthCheck Kube_System/new: spec.podSpec.spec.containers[1].name: "
        "another container of the pod has this name (got 'same')",
        "F:30: HealthCheck Kube_System/new: spec.podSpec.spec.containers[1].image: "
        "is required: the container image to run (got '')",
        "F:31: HealthCheck Kube_System/new: spec.podSpec.spec.containers[1].command: "
        "must be a list of strings (got 'run')",
        "F:33: HealthCheck Kube_System/new: spec.podSpec.spec.containers[1].env[0].value: "
        "must be a string (quote numbers and booleans) (got 1)",
        "F:34: HealthCheck Kube_System/new: spec.podSpec.spec.containers[1].env[1].name: "
        "is required: the variable's name",
        "F:35: HealthCheck Kube_System/new: spec.podSpec.spec.containers[2]: "
        "must be a container (a mapping with name and image) (got 'just-a-string')",
    ]


def test_the_documentation_drift_forms_are_explained(tmp_path: Path) -> None:
    """kuberhealthy/python's README shows KuberhealthyCheck + kuberhealthy.github.io/v2 + image."""
    path = _write(
        tmp_path,
        "apiVersion: kuberhealthy.github.io/v2\nkind: KuberhealthyCheck\n"
        "metadata: {name: py}\nspec:\n  image: me/check:1\n  runInterval: 1m\n"
        "---\napiVersion: comcast.github.io/v9\nkind: KuberhealthyCheck\n"
        "metadata: {name: old}\nspec: {runInterval: 1m, timeout: 1m, "
        "podSpec: {containers: [{name: c, image: i}]}}\n",
    )
    assert _errors(path) == [
        "F:2: KuberhealthyCheck: kind: kuberhealthy.github.io/v2 has no KuberhealthyCheck: "
        "write kind: HealthCheck, or apiVersion: comcast.github.io/v1 (got 'KuberhealthyCheck')",
        "F:4: KuberhealthyCheck default/py: spec.podSpec: "
        "is required: a mapping with the pod's metadata and spec",
        "F:4: KuberhealthyCheck default/py: spec.podSpec.spec: "
        "is required: a pod spec (a mapping with containers)",
        "F:5: KuberhealthyCheck default/py: spec.image: "
        "unknown field (the image goes in a container of spec.podSpec)",
        "F:8: KuberhealthyCheck: apiVersion: must be comcast.github.io/v1 for a "
        "KuberhealthyCheck (got 'comcast.github.io/v9')",
    ]


def test_whose_documents_are_whose(tmp_path: Path) -> None:
    assert is_kh_check({"kind": "KuberhealthyCheck"})
    assert is_kh_check({"kind": "HealthCheck", "apiVersion": "kuberhealthy.github.io/v4"})
    assert not is_kh_check({"kind": "HealthCheck", "apiVersion": "example.com/v1"})
    assert not is_kh_check({"kind": "KuberhealthyJob", "apiVersion": KH_V2_API})
    assert not is_kh_check(["kind", "KuberhealthyCheck"])
    other = "apiVersion: example.com/v1\nkind: HealthCheck\nmetadata: {name: x}\n"
    assert load_kh_manifests(_write(tmp_path, other)).skipped == ("HealthCheck",)


def test_duplicates_and_documents_that_are_not_objects(tmp_path: Path) -> None:
    one = V3_MINIMAL.replace("dns.internal", "twice")
    path = _write(tmp_path, f"{one}---\n{one}---\n- a list\n---\nkind: 3\n")
    assert _errors(path) == [
        "F:16: HealthCheck default/twice: metadata.name: the check at line 1 has this "
        "namespace/name",
        "F:31: expected a Kubernetes object with apiVersion and kind",
        "F:33: expected a Kubernetes object with apiVersion and kind",
    ]
    with pytest.raises(ManifestError, match=r"^the API: expected a Kubernetes object"):
        parse_kh_check("text", source="the API")


def _alias_bomb() -> bytes:
    """Ten to the ninth values from a few hundred bytes ("billion laughs")."""
    lines, previous = ["a: &a [x, x, x, x, x, x, x, x, x, x]"], "a"
    for i in range(8):
        lines.append(f"b{i}: &b{i} [" + ", ".join([f"*{previous}"] * 10) + "]")
        previous = f"b{i}"
    return "\n".join(lines).encode() + b"\n"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"apiVersion: v1\nkind: [\n", r"x\.yaml:3:1: invalid YAML: did not find expected node"),
        (b"\xff\xfe", r"x\.yaml: not UTF-8 text \(invalid start byte at byte 0\)"),
        (_alias_bomb(), r"x\.yaml: more than 200000 values \(aliases expanding\?\)"),
        (
            b"kind: KuberhealthyCheck\nspec: " + b"[" * 5000 + b"]" * 5000 + b"\n",
            r"x\.yaml:1: KuberhealthyCheck: metadata: is required",
        ),
    ],
)
def test_hostile_files_are_refused_with_a_reason(
    tmp_path: Path, content: bytes, message: str
) -> None:
    path = tmp_path / "x.yaml"
    path.write_bytes(content)
    with pytest.raises(ConfigError, match=message):
        load_kh_manifests(path)


def test_oversized_and_missing_files(tmp_path: Path) -> None:
    big = tmp_path / "big.yaml"
    big.write_bytes(b"#" * (MAX_CONFIG_BYTES + 1))
    with pytest.raises(ConfigError, match="the limit is"):
        load_kh_manifests(big)
    with pytest.raises(ConfigError, match="cannot read"):
        load_kh_manifests(tmp_path / "none.yaml")


def test_objects_of_other_kinds_are_refused_by_name() -> None:
    pod: dict[str, object] = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}}
    with pytest.raises(ManifestError) as caught:
        parse_kh_check(pod, source="api")
    assert caught.value.errors[0] == (
        "api: Pod: kind: must be KuberhealthyCheck or HealthCheck (got 'Pod')"
    )
    job = {**pod, "apiVersion": KH_V2_API, "kind": "KuberhealthyJob"}
    with pytest.raises(ManifestError) as caught:
        parse_kh_check(job, source="api")
    assert caught.value.errors[0] == (
        "api: KuberhealthyJob: kind: comcast.github.io/v1 has no KuberhealthyJob: "
        "write kind: KuberhealthyCheck (got 'KuberhealthyJob')"
    )
