"""The kustomizations render: to the expected objects, as ``kubectl kustomize`` renders them.

The in-test renderer is what every other deploy test reads, so it is checked here
against the real kustomize (built into kubectl) where one is installed, and against
hostile kustomizations that it must refuse rather than render wrongly.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from tests.deploy.kustomize import KustomizeError, Obj, identity, render, strategic_merge
from tests.deploy.manifests import (
    DEPLOY,
    KERNEL_LOG_COMPONENT,
    TARGETS,
    rendered,
    write_kustomization,
)

KUBECTL = shutil.which("kubectl")
_OUTPUT_CAP = 4 << 20

AGENT = {
    ("Namespace", "", "healthwatch"),
    ("ServiceAccount", "healthwatch", "healthwatch-agent"),
    ("ClusterRole", "", "healthwatch-agent"),
    ("ClusterRoleBinding", "", "healthwatch-agent"),
    ("ConfigMap", "healthwatch", "healthwatch-agent"),
    ("DaemonSet", "healthwatch", "healthwatch-agent"),
    ("Service", "healthwatch", "healthwatch-agent"),
}
MONITORING = {
    ("ServiceMonitor", "healthwatch", "healthwatch"),
    ("PrometheusRule", "healthwatch", "healthwatch"),
    ("ConfigMap", "healthwatch", "healthwatch-grafana-dashboard"),
}
CONTROLLER = {
    ("CustomResourceDefinition", "", "healthchecks.healthwatch.io"),
    ("ServiceAccount", "healthwatch", "healthwatch-controller"),
    ("ClusterRole", "", "healthwatch-controller"),
    ("ClusterRoleBinding", "", "healthwatch-controller"),
    ("Role", "healthwatch", "healthwatch-controller-leader"),
    ("RoleBinding", "healthwatch", "healthwatch-controller-leader"),
    ("ClusterRole", "", "healthwatch-controller-check-pods"),
    ("RoleBinding", "healthwatch", "healthwatch-controller-check-pods"),
    ("ConfigMap", "healthwatch", "healthwatch-controller"),
    ("Deployment", "healthwatch", "healthwatch-controller"),
    ("Service", "healthwatch", "healthwatch-controller"),
    ("PodDisruptionBudget", "healthwatch", "healthwatch-controller"),
}


def _kubectl_kustomize(directory: Path) -> list[Obj]:
    assert KUBECTL is not None
    done = subprocess.run(
        [KUBECTL, "kustomize", str(directory)], capture_output=True, timeout=60, check=False
    )
    assert len(done.stdout) < _OUTPUT_CAP
    assert done.returncode == 0, done.stderr.decode(errors="replace")[-2000:]
    return [d for d in yaml.safe_load_all(done.stdout) if d is not None]


def _by_identity(objects: list[Obj]) -> dict[tuple[str, str, str], Obj]:
    return {identity(o): o for o in objects}


def test_overlays_hold_exactly_the_expected_objects() -> None:
    def ids(target: str) -> set[tuple[str, str, str]]:
        return {identity(o) for o in rendered(target)}

    assert ids("base") == AGENT
    assert ids("overlays/agent-only") == AGENT | MONITORING
    assert ids("overlays/with-controller") == AGENT | MONITORING | CONTROLLER
    assert ids("overlays/kuberhealthy-compatible-crds") == {
        ("CustomResourceDefinition", "", "khchecks.comcast.github.io"),
        ("CustomResourceDefinition", "", "healthchecks.kuberhealthy.github.io"),
    }


def test_overlays_set_the_image_of_every_container() -> None:
    for target in ("overlays/agent-only", "overlays/with-controller"):
        for obj in rendered(target):
            for c in obj.get("spec", {}).get("template", {}).get("spec", {}).get("containers", []):
                assert c["image"].startswith("healthwatch:"), (target, c["image"])
    base = [o for o in rendered("base") if o["kind"] == "DaemonSet"]
    assert base[0]["spec"]["template"]["spec"]["containers"][0]["image"] == "healthwatch"


@pytest.mark.parametrize("target", TARGETS)
def test_rendering_matches_kubectl_kustomize(target: str) -> None:
    if KUBECTL is None:
        pytest.skip("kubectl is not installed: the in-test renderer is not cross-checked")
    assert _by_identity(_kubectl_kustomize(DEPLOY / target)) == _by_identity(rendered(target))


def test_kernel_log_component_renders_as_kubectl_renders_it(tmp_path: Path) -> None:
    write_kustomization(tmp_path, resources=[DEPLOY / "base"], components=[KERNEL_LOG_COMPONENT])
    ours = render(tmp_path)
    pod = next(o for o in ours if o["kind"] == "DaemonSet")["spec"]["template"]["spec"]
    assert pod["securityContext"]["runAsUser"] == 0
    assert "supplementalGroups" not in pod["securityContext"]
    assert pod["containers"][0]["securityContext"]["privileged"] is True
    assert "capabilities" not in pod["containers"][0]["securityContext"]
    if KUBECTL is None:
        pytest.skip("kubectl is not installed: the component is not cross-checked")
    assert _by_identity(_kubectl_kustomize(tmp_path)) == _by_identity(ours)


def test_strategic_merge_merges_maps_and_keyed_lists_and_deletes_nulls() -> None:
    base: Obj = {
        "a": {"keep": 1, "drop": 2},
        "containers": [{"name": "x", "image": "old", "env": [{"name": "A", "value": "1"}]}],
        "args": ["one"],
    }
    strategic_merge(
        base,
        {
            "a": {"drop": None, "new": 3},
            "containers": [
                {"name": "x", "image": "new", "env": [{"name": "B", "value": "2"}]},
                {"name": "y"},
            ],
            "args": ["two"],
        },
    )
    assert base == {
        "a": {"keep": 1, "new": 3},
        "containers": [
            {
                "name": "x",
                "image": "new",
                "env": [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}],
            },
            {"name": "y"},
        ],
        "args": ["two"],
    }


def _kustomization(directory: Path, text: str, **files: str) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "kustomization.yaml").write_text(text)
    for name, content in files.items():
        (directory / name.replace("__", ".")).write_text(content)
    return directory


CM = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c, namespace: n}\ndata: {k: v}\n"


@pytest.mark.parametrize(
    ("text", "files", "problem"),
    [
        ("namePrefix: x-\nresources: [cm.yaml]\n", {"cm__yaml": CM}, "does not support"),
        ("resources: [../outside.yaml]\n", {}, "outside"),
        ("resources: [missing.yaml]\n", {}, "not a file"),
        ("resources: [cm.yaml, cm.yaml]\n", {"cm__yaml": CM}, "appears twice"),
        ("resources: [cm.yaml]\n", {"cm__yaml": "- a list\n"}, "not a mapping"),
        ("resources: [cm.yaml]\n", {"cm__yaml": "a: [unclosed\n"}, "cm.yaml"),
        (
            "resources: [cm.yaml]\npatches: [{path: p.yaml}]\n",
            {
                "cm__yaml": CM,
                "p__yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: other}\n",
            },
            "matches 0 objects",
        ),
        (
            "resources: [cm.yaml]\npatches: [{patch: 'x', target: {kind: ConfigMap}}]\n",
            {"cm__yaml": CM},
            "only patches with a path",
        ),
        ("configMapGenerator: [{name: g, files: [cm.yaml]}]\n", {"cm__yaml": CM}, "hash"),
        ("kind: Component\nresources: []\n", {}, "expected"),
        (
            "resources: [cm.yaml]\nimages: [{name: x, digest: sha256:0}]\n",
            {"cm__yaml": CM},
            "images",
        ),
    ],
)
def test_renderer_refuses_what_it_cannot_render_faithfully(
    tmp_path: Path, text: str, files: dict[str, str], problem: str
) -> None:
    (tmp_path / "outside.yaml").write_text(CM)
    directory = _kustomization(tmp_path / "k", text, **files)
    with pytest.raises(KustomizeError, match=problem):
        render(directory)


def test_renderer_needs_a_kustomization_file(tmp_path: Path) -> None:
    with pytest.raises(KustomizeError, match=r"no kustomization\.yaml"):
        render(tmp_path)
