"""The fake API server's patch formats: strategic merge, RFC 7386 merge, RFC 6902 JSON patch."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from healthwatch.testing.kubefake.failures import FakeApiError
from healthwatch.testing.kubefake.kinds import BUILTIN_RESOURCES
from healthwatch.testing.kubefake.patches import json_patch, merge_patch, strategic_merge

NODE = next(r for r in BUILTIN_RESOURCES if r.plural == "nodes")
POD = next(r for r in BUILTIN_RESOURCES if r.plural == "pods")


def node_smp(target: Any, patch: Any) -> Any:
    return strategic_merge(target, patch, keys=NODE.strategic_keys(), sets=NODE.merge_sets)


def pod_smp(target: Any, patch: Any) -> Any:
    return strategic_merge(target, patch, keys=POD.strategic_keys(), sets=POD.merge_sets)


NODE_OBJ: dict[str, Any] = {
    "metadata": {"name": "n1", "labels": {"a": "1", "b": "2"}, "finalizers": ["x"]},
    "status": {
        "conditions": [
            {"type": "Ready", "status": "True", "reason": "KubeletReady"},
            {"type": "MemoryPressure", "status": "False"},
        ],
        "capacity": {"cpu": "2"},
    },
}


def test_conditions_merge_by_type_and_keep_the_others() -> None:
    patched = node_smp(
        NODE_OBJ,
        {
            "status": {
                "conditions": [
                    {"type": "KernelDeadlock", "status": "False", "reason": "KernelHasNoDeadlock"},
                    {"type": "Ready", "reason": "Changed"},
                ]
            }
        },
    )
    assert patched["status"]["conditions"] == [
        {"type": "Ready", "status": "True", "reason": "Changed"},
        {"type": "MemoryPressure", "status": "False"},
        {"type": "KernelDeadlock", "status": "False", "reason": "KernelHasNoDeadlock"},
    ]
    assert patched["status"]["capacity"] == {"cpu": "2"}
    assert NODE_OBJ["status"]["conditions"][0]["reason"] == "KubeletReady"  # input untouched


def test_a_merge_patch_replaces_the_whole_list() -> None:
    patched = merge_patch(NODE_OBJ, {"status": {"conditions": [{"type": "X", "status": "True"}]}})
    assert patched["status"]["conditions"] == [{"type": "X", "status": "True"}]


def test_directives() -> None:
    deleted = node_smp(
        NODE_OBJ, {"status": {"conditions": [{"type": "Ready", "$patch": "delete"}]}}
    )
    assert [c["type"] for c in deleted["status"]["conditions"]] == ["MemoryPressure"]
    replaced = node_smp(
        NODE_OBJ, {"status": {"conditions": [{"$patch": "replace"}, {"type": "Only"}]}}
    )
    assert replaced["status"]["conditions"] == [{"type": "Only"}]
    whole = node_smp(NODE_OBJ, {"metadata": {"labels": {"$patch": "replace", "c": "3"}}})
    assert whole["metadata"]["labels"] == {"c": "3"}
    gone = node_smp(NODE_OBJ, {"status": {"$patch": "delete"}})
    assert "status" not in gone
    retained = node_smp(NODE_OBJ, {"metadata": {"$retainKeys": ["name"], "name": "n1"}})
    assert retained["metadata"] == {"name": "n1"}
    ordered = node_smp(NODE_OBJ, {"status": {"$setElementOrder/conditions": [{"type": "Ready"}]}})
    assert ordered == NODE_OBJ


def test_maps_merge_null_deletes_and_finalizers_are_a_set() -> None:
    patched = node_smp(
        NODE_OBJ, {"metadata": {"labels": {"a": None, "c": "3"}, "finalizers": ["x", "y"]}}
    )
    assert patched["metadata"]["labels"] == {"b": "2", "c": "3"}
    assert patched["metadata"]["finalizers"] == ["x", "y"]
    removed = node_smp(patched, {"metadata": {"$deleteFromPrimitiveList/finalizers": ["x"]}})
    assert removed["metadata"]["finalizers"] == ["y"]


def test_nested_lists_merge_by_their_own_keys() -> None:
    pod = {
        "spec": {
            "containers": [
                {"name": "app", "image": "a:1", "env": [{"name": "A", "value": "1"}]},
                {"name": "side", "image": "s:1"},
            ]
        }
    }
    patched = pod_smp(
        pod,
        {
            "spec": {
                "containers": [
                    {"name": "app", "image": "a:2", "env": [{"name": "B", "value": "2"}]}
                ]
            }
        },
    )
    app, side = patched["spec"]["containers"]
    assert app["image"] == "a:2"
    assert app["env"] == [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}]
    assert side == {"name": "side", "image": "s:1"}


@pytest.mark.parametrize(
    "patch",
    [
        {"status": {"conditions": [{"status": "True"}]}},  # item without its merge key
        {"status": {"conditions": ["Ready"]}},
        {"$patch": "explode"},
        {"metadata": {"$retainKeys": "name"}},
        {"metadata": {"$unknown": 1}},
    ],
)
def test_malformed_strategic_patches_are_400(patch: dict[str, Any]) -> None:
    with pytest.raises(FakeApiError) as caught:
        node_smp(NODE_OBJ, patch)
    assert caught.value.code == 400


def test_rfc7386_examples() -> None:
    target = {
        "title": "Goodbye!",
        "author": {"givenName": "John", "familyName": "Doe"},
        "tags": ["example", "sample"],
        "content": "This will be unchanged",
    }
    patch = {
        "title": "Hello!",
        "phoneNumber": "+01-123-456-7890",
        "author": {"familyName": None},
        "tags": ["example"],
    }
    assert merge_patch(target, patch) == {
        "title": "Hello!",
        "author": {"givenName": "John"},
        "tags": ["example"],
        "content": "This will be unchanged",
        "phoneNumber": "+01-123-456-7890",
    }
    assert merge_patch({"a": "b"}, {"a": {"b": None}}) == {"a": {}}
    assert merge_patch({"a": [{"b": "c"}]}, {"a": [1]}) == {"a": [1]}
    assert merge_patch(["a", "b"], {"a": "b"}) == {"a": "b"}
    assert merge_patch({"a": "foo"}, "bar") == "bar"


def test_rfc6902_operations() -> None:
    doc = {"foo": ["bar", "baz"], "a": {"b~c": 1, "d/e": 2}}
    patched = json_patch(
        doc,
        [
            {"op": "add", "path": "/foo/1", "value": "qux"},
            {"op": "add", "path": "/foo/-", "value": "end"},
            {"op": "remove", "path": "/a/b~0c"},
            {"op": "replace", "path": "/a/d~1e", "value": 3},
            {"op": "copy", "from": "/a", "path": "/copied"},
            {"op": "move", "from": "/foo/0", "path": "/first"},
            {"op": "test", "path": "/first", "value": "bar"},
        ],
    )
    assert patched == {
        "foo": ["qux", "baz", "end"],
        "a": {"d/e": 3},
        "copied": {"d/e": 3},
        "first": "bar",
    }
    assert doc == {"foo": ["bar", "baz"], "a": {"b~c": 1, "d/e": 2}}
    assert json_patch(doc, [{"op": "replace", "path": "", "value": 5}]) == 5


@pytest.mark.parametrize(
    ("operations", "code"),
    [
        ({"op": "add"}, 400),
        (["add"], 400),
        ([{"op": "jump", "path": "/a"}], 400),
        ([{"op": "add", "path": "a", "value": 1}], 400),
        ([{"op": "add", "path": "/a/b"}], 400),
        ([{"op": "remove", "path": "/missing"}], 422),
        ([{"op": "replace", "path": "/foo/9", "value": 1}], 422),
        ([{"op": "add", "path": "/foo/01", "value": 1}], 422),
        ([{"op": "add", "path": "/foo/x/y", "value": 1}], 422),
        ([{"op": "test", "path": "/foo/0", "value": "nope"}], 422),
        ([{"op": "move", "from": "/a", "path": "/a/b"}], 422),
        ([{"op": "add", "path": "/a/b~1c/deep", "value": 1}], 422),
    ],
)
def test_bad_json_patches(operations: Any, code: int) -> None:
    doc = {"foo": ["bar"], "a": {"b": 1}}
    with pytest.raises(FakeApiError) as caught:
        json_patch(doc, operations)
    assert caught.value.code == code
    assert doc == {"foo": ["bar"], "a": {"b": 1}}


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=5),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=5), children, max_size=4)
    ),
    max_leaves=20,
)
PLAIN_KEYS = st.text(alphabet="abcxyz", min_size=1, max_size=3)
PLAIN = st.recursive(
    st.booleans() | st.integers() | st.text(max_size=5),
    lambda children: (
        st.lists(children, max_size=3)
        | st.dictionaries(PLAIN_KEYS, children | st.none(), max_size=3)
    ),
    max_leaves=15,
)


@settings(max_examples=200, deadline=None)
@given(target=JSON, patch=JSON)
def test_hostile_patches_fail_only_as_status(target: Any, patch: Any) -> None:
    """Whatever the input, each patch function returns or refuses with a Status code."""
    codes: set[int] = set()
    before = copy.deepcopy(target)
    for apply in (merge_patch, node_smp, pod_smp, json_patch):
        try:
            apply(target, patch)
        except FakeApiError as error:
            codes.add(error.code)
    assert codes <= {400, 422}
    assert target == before


@settings(max_examples=200, deadline=None)
@given(
    target=st.dictionaries(PLAIN_KEYS, PLAIN, max_size=4),
    patch=st.dictionaries(PLAIN_KEYS, PLAIN, max_size=4),
)
def test_strategic_merge_without_keys_is_a_merge_patch(target: Any, patch: Any) -> None:
    assert strategic_merge(target, patch, keys={}) == merge_patch(target, patch)
    assert merge_patch(merge_patch(target, patch), patch) == merge_patch(target, patch)
