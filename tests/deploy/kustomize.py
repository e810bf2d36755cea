"""A small kustomize for the subset of it that ``deploy/`` uses, so tests need no binary.

It renders ``resources`` (files and directories), ``components`` (``kind: Component``),
``patches`` (strategic merge patches from files, aimed by the patch's kind and name),
``images`` (``newName``/``newTag``) and ``configMapGenerator`` (``files`` with
``options.labels``, under ``generatorOptions.disableNameSuffixHash``). Any other field
is an error, so ``deploy/`` cannot start using a feature these tests would not render;
``kubectl kustomize`` cross-checks the result where it is installed. As in kustomize, a
file named by a kustomization must lie inside that kustomization's directory.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import yaml

__all__ = ["KustomizeError", "Obj", "identity", "load_documents", "render", "strategic_merge"]

Obj = dict[str, Any]

KUSTOMIZATION = ("kustomize.config.k8s.io/v1beta1", "Kustomization")
COMPONENT = ("kustomize.config.k8s.io/v1alpha1", "Component")
_FIELDS = frozenset(
    {"apiVersion", "kind", "resources", "components", "patches", "images"}
    | {"configMapGenerator", "generatorOptions"}
)
_MERGE_KEYS = {
    "containers": "name",
    "initContainers": "name",
    "volumes": "name",
    "volumeMounts": "name",
    "env": "name",
    "ports": "containerPort",
}
"""List fields merged item by item (by this key) in a strategic merge; others are replaced."""


class KustomizeError(Exception):
    """A kustomization this renderer refuses: unknown fields, missing files, bad patches."""


def identity(obj: Obj) -> tuple[str, str, str]:
    """Kind, namespace and name: what must be unique in one rendering."""
    meta = obj.get("metadata") or {}
    return str(obj.get("kind")), str(meta.get("namespace", "")), str(meta.get("name"))


def load_documents(path: Path) -> list[Obj]:
    """The YAML documents of a file, empty ones left out; each must be a mapping."""
    try:
        documents = [d for d in yaml.safe_load_all(path.read_text()) if d is not None]
    except (OSError, yaml.YAMLError) as error:
        raise KustomizeError(f"{path}: {error}") from None
    for document in documents:
        if not isinstance(document, dict):
            raise KustomizeError(f"{path}: a document is not a mapping")
    return documents


def render(directory: Path) -> list[Obj]:
    """Every object the kustomization in ``directory`` produces."""
    return _build(directory, KUSTOMIZATION[1], [])


def _inside(directory: Path, entry: str) -> Path:
    path = (directory / entry).resolve()
    if not path.is_relative_to(directory.resolve()):
        raise KustomizeError(f"{directory}: {entry!r} is outside the kustomization's directory")
    if not path.is_file():
        raise KustomizeError(f"{directory}: {entry!r} is not a file")
    return path


def _kustomization(directory: Path, kind: str) -> Obj:
    files = [directory / "kustomization.yaml"]
    if not files[0].is_file():
        raise KustomizeError(f"{directory}: no kustomization.yaml")
    documents = load_documents(files[0])
    if len(documents) != 1:
        raise KustomizeError(f"{files[0]}: one document expected, got {len(documents)}")
    spec = documents[0]
    unknown = sorted(set(spec) - _FIELDS)
    if unknown:
        raise KustomizeError(f"{files[0]}: fields this renderer does not support: {unknown}")
    expected = KUSTOMIZATION if kind == KUSTOMIZATION[1] else COMPONENT
    found = (spec.get("apiVersion", expected[0]), spec.get("kind", KUSTOMIZATION[1]))
    if found != expected:
        raise KustomizeError(f"{files[0]}: expected {expected}, got {found}")
    return spec


def _build(directory: Path, kind: str, objects: list[Obj]) -> list[Obj]:
    spec = _kustomization(directory, kind)
    for entry in spec.get("resources") or []:
        target = directory / entry
        if target.is_dir():
            objects.extend(render(target))
        else:
            objects.extend(load_documents(_inside(directory, entry)))
    objects.extend(_generated(directory, spec))
    for entry in spec.get("components") or []:
        _build(directory / entry, COMPONENT[1], objects)
    for patch in spec.get("patches") or []:
        if set(patch) != {"path"}:
            raise KustomizeError(f"{directory}: only patches with a path are supported: {patch}")
        for document in load_documents(_inside(directory, patch["path"])):
            _apply_patch(objects, document, where=f"{directory}/{patch['path']}")
    for image in spec.get("images") or []:
        _set_image(objects, image, where=str(directory))
    seen: set[tuple[str, str, str]] = set()
    for obj in objects:
        if identity(obj) in seen:
            raise KustomizeError(f"{directory}: {identity(obj)} appears twice")
        seen.add(identity(obj))
    return objects


def _generated(directory: Path, spec: Obj) -> list[Obj]:
    generators = spec.get("configMapGenerator") or []
    if generators and not (spec.get("generatorOptions") or {}).get("disableNameSuffixHash"):
        raise KustomizeError(f"{directory}: name suffix hashes are not supported")
    made: list[Obj] = []
    for generator in generators:
        unknown = sorted(set(generator) - {"name", "namespace", "files", "options"})
        if unknown or set(generator.get("options") or {}) - {"labels"}:
            raise KustomizeError(f"{directory}: unsupported configMapGenerator fields {unknown}")
        data: dict[str, str] = {}
        for entry in generator.get("files") or []:
            key, _, name = entry.rpartition("=")
            path = _inside(directory, name)
            data[key or path.name] = path.read_text()
        metadata: Obj = {"name": generator["name"]}
        if "namespace" in generator:
            metadata["namespace"] = generator["namespace"]
        labels = (generator.get("options") or {}).get("labels")
        if labels:
            metadata["labels"] = dict(labels)
        made.append({"apiVersion": "v1", "kind": "ConfigMap", "metadata": metadata, "data": data})
    return made


def strategic_merge(base: Obj, patch: Obj) -> None:
    """Merge ``patch`` into ``base`` in place: maps merge, ``null`` deletes, keyed lists merge."""
    for key, value in patch.items():
        current = base.get(key)
        if value is None:
            base.pop(key, None)
        elif isinstance(value, dict) and isinstance(current, dict):
            strategic_merge(current, value)
        elif isinstance(value, list) and isinstance(current, list) and key in _MERGE_KEYS:
            merge_key = _MERGE_KEYS[key]
            for item in value:
                match = [c for c in current if c.get(merge_key) == item.get(merge_key)]
                if match:
                    strategic_merge(match[0], item)
                else:
                    current.append(copy.deepcopy(item))
        else:
            base[key] = copy.deepcopy(value)


def _apply_patch(objects: list[Obj], patch: Obj, *, where: str) -> None:
    kind, namespace, name = identity(patch)
    targets = [
        obj
        for obj in objects
        if identity(obj)[0] == kind
        and identity(obj)[2] == name
        and (not namespace or identity(obj)[1] == namespace)
    ]
    if len(targets) != 1:
        raise KustomizeError(f"{where}: patch for {kind}/{name} matches {len(targets)} objects")
    body = {k: v for k, v in patch.items() if k not in ("apiVersion", "kind", "metadata")}
    strategic_merge(targets[0], body)


def _set_image(objects: list[Obj], image: Obj, *, where: str) -> None:
    unknown = sorted(set(image) - {"name", "newName", "newTag"})
    if unknown or "name" not in image:
        raise KustomizeError(f"{where}: images entries take name, newName, newTag: {image}")
    for obj in objects:
        pod = ((obj.get("spec") or {}).get("template") or {}).get("spec") or {}
        for container in (pod.get("containers") or []) + (pod.get("initContainers") or []):
            reference = str(container.get("image", ""))
            slash = reference.rfind("/")
            colon = reference.rfind(":")
            name, tag = (
                (reference, "") if colon <= slash else (reference[:colon], reference[colon + 1 :])
            )
            if name == image["name"]:
                tag = str(image.get("newTag", tag))
                container["image"] = str(image.get("newName", name)) + (f":{tag}" if tag else "")
