"""Where the deployment files are, and their renderings, shared by the deploy tests.

Renderings are made once per test session by the in-test renderer (``kustomize``) and
handed out as deep copies, so a test that edits an object to prove a check catches
something cannot disturb another test.
"""

from __future__ import annotations

import copy
import functools
import os
from collections.abc import Sequence
from pathlib import Path

from tests.deploy.kustomize import Obj, identity, render

__all__ = [
    "DEPLOY",
    "KERNEL_LOG_COMPONENT",
    "OVERLAYS",
    "ROOT",
    "TARGETS",
    "container",
    "find",
    "rendered",
    "write_kustomization",
]

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
OVERLAYS = ("agent-only", "with-controller", "kuberhealthy-compatible-crds")
KERNEL_LOG_COMPONENT = DEPLOY / "components" / "kernel-log-privileged"
TARGETS = (
    *(f"overlays/{name}" for name in OVERLAYS),
    "base",
    "crds",
    "controller",
    "prometheus",
    "grafana",
)
"""Every directory that is a kustomization a user may apply."""


@functools.cache
def _rendered(target: str) -> tuple[Obj, ...]:
    return tuple(render(DEPLOY / target))


def rendered(target: str) -> list[Obj]:
    """The objects of ``deploy/<target>`` (a fresh copy each call)."""
    return copy.deepcopy(list(_rendered(target)))


def find(objects: list[Obj], kind: str, name: str) -> Obj:
    """The one object of that kind and name."""
    found = [o for o in objects if identity(o)[0] == kind and identity(o)[2] == name]
    assert len(found) == 1, f"{kind}/{name}: {len(found)} objects"
    return found[0]


def container(workload: Obj, name: str = "healthwatch") -> Obj:
    """A container of a workload's pod template."""
    containers = workload["spec"]["template"]["spec"]["containers"]
    found = [c for c in containers if c["name"] == name]
    assert len(found) == 1, f"container {name}: {len(found)}"
    result: Obj = found[0]
    return result


def write_kustomization(
    directory: Path, *, resources: Sequence[Path], components: Sequence[Path] = ()
) -> Path:
    """A kustomization in ``directory`` naming the given directories by relative path."""

    def relative(path: Path) -> str:
        return os.path.relpath(path, directory)

    lines = ["resources:", *(f"  - {relative(p)}" for p in resources)]
    if components:
        lines += ["components:", *(f"  - {relative(p)}" for p in components)]
    (directory / "kustomization.yaml").write_text("\n".join(lines) + "\n")
    return directory
