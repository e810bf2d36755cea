"""The three patch formats the API server accepts, applied the way it applies them.

- :func:`merge_patch`: RFC 7386 JSON merge patch (maps merge, ``null``
  deletes, anything else, lists included, replaces);
- :func:`strategic_merge`: Kubernetes' strategic merge patch: like a merge
  patch, but lists declared with a merge key merge item by item on that key
  (node ``status.conditions`` by ``type``, pod ``spec.containers`` by
  ``name``), set-like lists of scalars merge as sets (``metadata.finalizers``),
  and the directives ``$patch: replace|delete``, ``$retainKeys`` and
  ``$deleteFromPrimitiveList/<field>`` are honoured (``$setElementOrder`` is
  accepted and ignored);
- :func:`json_patch`: RFC 6902 JSON patch with RFC 6901 pointers.

Each returns a new document and raises :class:`FakeApiError` (400 for a
malformed patch, 422 when it does not apply) without touching its input.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from healthwatch.testing.kubefake.failures import FakeApiError

__all__ = ["json_patch", "merge_patch", "strategic_merge"]

_DELETE = object()
_MAX_OPERATIONS = 10_000


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386: ``patch`` applied to ``target``."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result = copy.deepcopy(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


def _strip(value: Any) -> Any:
    """``value`` without strategic-merge directives (for items added whole)."""
    if isinstance(value, dict):
        return {k: _strip(v) for k, v in value.items() if not str(k).startswith("$")}
    if isinstance(value, list):
        return [_strip(item) for item in value if item != {"$patch": "replace"}]
    return copy.deepcopy(value)


def strategic_merge(
    target: Any,
    patch: Any,
    *,
    keys: Mapping[str, str],
    sets: frozenset[str] = frozenset(),
    path: str = "",
) -> Any:
    """A strategic-merge ``patch`` applied to ``target``; ``keys`` maps list paths to merge keys."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    patch = dict(patch)
    directive = patch.pop("$patch", None)
    if directive == "replace":
        return _strip(patch)
    if directive == "delete":
        return _DELETE
    if directive is not None:
        raise FakeApiError(400, f"{path or '<root>'}: unknown $patch directive {directive!r}")
    result = copy.deepcopy(target) if isinstance(target, dict) else {}
    retain = _directives(result, patch, path)
    for name, value in patch.items():
        where = f"{path}.{name}" if path else str(name)
        if value is None:
            result.pop(name, None)
        elif isinstance(value, dict):
            merged = strategic_merge(result.get(name), value, keys=keys, sets=sets, path=where)
            if merged is _DELETE:
                result.pop(name, None)
            else:
                result[name] = merged
        elif isinstance(value, list) and (where in keys or where in sets):
            result[name] = _merge_list(result.get(name), value, keys=keys, sets=sets, path=where)
        else:
            result[name] = _strip(value)
    if retain is not None:
        result = {key: value for key, value in result.items() if key in retain}
    return result


def _directives(result: dict[str, Any], patch: dict[str, Any], path: str) -> list[Any] | None:
    """Apply and remove the ``$`` keys of ``patch``; return ``$retainKeys`` if given."""
    retain = patch.pop("$retainKeys", None)
    if retain is not None and not isinstance(retain, list):
        raise FakeApiError(400, f"{path or '<root>'}: $retainKeys must be a list")
    for name in [name for name in patch if str(name).startswith("$")]:
        value = patch.pop(name)
        if name.startswith("$deleteFromPrimitiveList/"):
            field = name.partition("/")[2]
            if isinstance(value, list) and isinstance(result.get(field), list):
                result[field] = [item for item in result[field] if item not in value]
        elif not name.startswith("$setElementOrder/"):
            raise FakeApiError(400, f"{path or '<root>'}: unknown directive {name!r}")
    return retain


def _merge_list(
    target: Any, items: list[Any], *, keys: Mapping[str, str], sets: frozenset[str], path: str
) -> list[Any]:
    if path not in keys:  # a set of scalars
        current = target if isinstance(target, list) else []
        return current + [item for item in items if item not in current]
    key = keys[path]
    if {"$patch": "replace"} in items:
        return [_strip(item) for item in items if item != {"$patch": "replace"}]
    result = [copy.deepcopy(item) for item in target] if isinstance(target, list) else []
    for item in items:
        if not isinstance(item, dict) or key not in item:
            raise FakeApiError(
                400, f"{path}: every item must be an object with the merge key {key!r}"
            )
        found = next(
            (
                index
                for index, old in enumerate(result)
                if isinstance(old, dict) and old.get(key) == item[key]
            ),
            None,
        )
        if item.get("$patch") == "delete":
            if found is not None:
                del result[found]
            continue
        merged = strategic_merge(
            result[found] if found is not None else {}, item, keys=keys, sets=sets, path=f"{path}[]"
        )
        if found is None:
            result.append(merged)
        else:
            result[found] = merged
    return result


def _pointer(path: Any, where: str) -> list[str]:
    if not isinstance(path, str) or (path and not path.startswith("/")):
        raise FakeApiError(400, f"{where}: {path!r} is not a JSON pointer")
    if not path:
        return []
    return [part.replace("~1", "/").replace("~0", "~") for part in path[1:].split("/")]


def _index(container: list[Any], step: str, where: str, *, adding: bool) -> int:
    if adding and step == "-":
        return len(container)
    if not step.isdigit() or (len(step) > 1 and step.startswith("0")):
        raise FakeApiError(422, f"{where}: {step!r} is not an array index")
    index = int(step)
    if index > len(container) or (index == len(container) and not adding):
        raise FakeApiError(422, f"{where}: index {index} is out of range")
    return index


def _parent(doc: Any, parts: list[str], where: str) -> Any:
    node = doc
    for token in parts[:-1]:
        if isinstance(node, dict) and token in node:
            node = node[token]
        elif isinstance(node, list):
            node = node[_index(node, token, where, adding=False)]
        else:
            raise FakeApiError(422, f"{where}: the path does not exist")
    return node


def _get(doc: Any, parts: list[str], where: str) -> Any:
    if not parts:
        return doc
    parent = _parent(doc, parts, where)
    token = parts[-1]
    if isinstance(parent, dict) and token in parent:
        return parent[token]
    if isinstance(parent, list):
        return parent[_index(parent, token, where, adding=False)]
    raise FakeApiError(422, f"{where}: the path does not exist")


def _remove(doc: Any, parts: list[str], where: str) -> Any:
    value = _get(doc, parts, where)
    parent = _parent(doc, parts, where)
    if isinstance(parent, dict):
        del parent[parts[-1]]
    else:
        del parent[_index(parent, parts[-1], where, adding=False)]
    return value


def _add(doc: Any, parts: list[str], value: Any, where: str) -> Any:
    if not parts:
        return copy.deepcopy(value)
    parent = _parent(doc, parts, where)
    if isinstance(parent, dict):
        parent[parts[-1]] = copy.deepcopy(value)
    elif isinstance(parent, list):
        parent.insert(_index(parent, parts[-1], where, adding=True), copy.deepcopy(value))
    else:
        raise FakeApiError(422, f"{where}: cannot add below a scalar")
    return doc


def json_patch(target: Any, operations: Any) -> Any:
    """RFC 6902: ``operations`` applied in order to a copy of ``target``; all or nothing."""
    if not isinstance(operations, list):
        raise FakeApiError(400, "a JSON patch must be a list of operations")
    if len(operations) > _MAX_OPERATIONS:
        raise FakeApiError(400, f"a JSON patch may hold at most {_MAX_OPERATIONS} operations")
    doc = copy.deepcopy(target)
    for number, operation in enumerate(operations):
        doc = _apply(doc, operation, f"operation {number}")
    return doc


def _apply(doc: Any, operation: Any, where: str) -> Any:
    if not isinstance(operation, dict) or not isinstance(operation.get("op"), str):
        raise FakeApiError(400, f"{where}: not an object with an 'op'")
    op = operation["op"]
    parts = _pointer(operation.get("path"), where)
    if op in ("add", "replace", "test") and "value" not in operation:
        raise FakeApiError(400, f"{where}: {op!r} needs a 'value'")
    if op == "add":
        return _add(doc, parts, operation["value"], where)
    if op == "remove":
        _remove(doc, parts, where)
        return doc
    if op == "replace":
        if parts:
            _remove(doc, parts, where)
        return _add(doc, parts, operation["value"], where)
    if op in ("move", "copy"):
        source = _pointer(operation.get("from"), where)
        if op == "move" and parts[: len(source)] == source and parts != source:
            raise FakeApiError(422, f"{where}: cannot move a value into itself")
        value = _remove(doc, source, where) if op == "move" else _get(doc, source, where)
        return _add(doc, parts, value, where)
    if op == "test":
        if _get(doc, parts, where) != operation["value"]:
            raise FakeApiError(422, f"{where}: test of {operation.get('path')!r} failed")
        return doc
    raise FakeApiError(400, f"{where}: unknown op {op!r}")
