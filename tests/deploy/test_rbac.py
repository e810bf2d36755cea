"""RBAC grants exactly the permissions docs/kubernetes.md lists, and nothing wider.

Each role's rules are flattened to (API group, resource, verb, resource name) and
compared with the documented set, so a new permission needs a deliberate change here
and in the docs. Wildcards, secrets and non-resource URLs are refused outright, and the
bindings are checked to give each role to its own service account only, with the
namespaced grants (Lease, check pods) kept namespaced.
"""

from __future__ import annotations

from tests.deploy.kustomize import Obj, identity
from tests.deploy.manifests import find, rendered

Grant = tuple[str, str, str, str]
"""API group, resource, verb, resource name ("" for any)."""


def _grants(role: Obj) -> set[Grant]:
    grants: set[Grant] = set()
    for rule in role["rules"]:
        assert "nonResourceURLs" not in rule, identity(role)
        for group in rule["apiGroups"]:
            for resource in rule["resources"]:
                for verb in rule["verbs"]:
                    for name in rule.get("resourceNames") or [""]:
                        grants.add((group, resource, verb, name))
    return grants


def _read(group: str, resource: str) -> set[Grant]:
    return {(group, resource, verb, "") for verb in ("get", "list", "watch")}


EVENTS = {("", "events", "create", ""), ("events.k8s.io", "events", "create", "")}
EXPECTED: dict[tuple[str, str], set[Grant]] = {
    ("ClusterRole", "healthwatch-agent"): {
        ("", "nodes", "get", ""),
        ("", "nodes/status", "patch", ""),
        *EVENTS,
    },
    ("ClusterRole", "healthwatch-controller"): {
        *_read("healthwatch.io", "healthchecks"),
        *{("healthwatch.io", "healthchecks/status", v, "") for v in ("get", "patch", "update")},
        *_read("comcast.github.io", "khchecks"),
        *_read("kuberhealthy.github.io", "healthchecks"),
        *EVENTS,
    },
    ("Role", "healthwatch-controller-leader"): {
        ("coordination.k8s.io", "leases", "create", ""),
        *{
            ("coordination.k8s.io", "leases", v, "healthwatch-controller")
            for v in ("get", "update", "patch")
        },
    },
    ("ClusterRole", "healthwatch-controller-check-pods"): {
        ("", "pods", v, "") for v in ("create", "delete", "get", "list", "watch")
    },
}
SUBJECTS = {
    "healthwatch-agent": "healthwatch-agent",
    "healthwatch-controller": "healthwatch-controller",
    "healthwatch-controller-leader": "healthwatch-controller",
    "healthwatch-controller-check-pods": "healthwatch-controller",
}


def _everything() -> list[Obj]:
    return rendered("overlays/with-controller")


def test_each_role_grants_exactly_the_documented_permissions() -> None:
    roles = [o for o in _everything() if o["kind"] in ("Role", "ClusterRole")]
    assert {(r["kind"], r["metadata"]["name"]) for r in roles} == set(EXPECTED)
    for role in roles:
        assert _grants(role) == EXPECTED[(role["kind"], role["metadata"]["name"])], identity(role)


def test_no_wildcards_no_secrets_no_escalation_verbs() -> None:
    for role in (o for o in _everything() if o["kind"] in ("Role", "ClusterRole")):
        for group, resource, verb, _ in _grants(role):
            assert "*" not in (group, resource, verb), identity(role)
            assert resource not in {"secrets", "serviceaccounts/token", "pods/exec"}
            assert verb not in {"escalate", "bind", "impersonate", "deletecollection"}


def test_bindings_give_each_role_to_its_own_service_account() -> None:
    bindings = [o for o in _everything() if o["kind"] in ("RoleBinding", "ClusterRoleBinding")]
    accounts = {o["metadata"]["name"] for o in _everything() if o["kind"] == "ServiceAccount"}
    assert {b["roleRef"]["name"] for b in bindings} == set(SUBJECTS)
    for binding in bindings:
        (subject,) = binding["subjects"]
        assert subject == {
            "kind": "ServiceAccount",
            "name": SUBJECTS[binding["roleRef"]["name"]],
            "namespace": "healthwatch",
        }
        assert subject["name"] in accounts


def test_namespaced_grants_stay_namespaced() -> None:
    objects = _everything()
    leader = find(objects, "RoleBinding", "healthwatch-controller-leader")
    assert leader["roleRef"]["kind"] == "Role"
    assert leader["metadata"]["namespace"] == "healthwatch"
    pods = [
        o
        for o in objects
        if o["kind"] in ("RoleBinding", "ClusterRoleBinding")
        and o["roleRef"]["name"] == "healthwatch-controller-check-pods"
    ]
    assert [p["kind"] for p in pods] == ["RoleBinding"]  # never cluster-wide


def test_workloads_use_their_own_service_accounts() -> None:
    objects = _everything()
    agent = find(objects, "DaemonSet", "healthwatch-agent")["spec"]["template"]["spec"]
    controller = find(objects, "Deployment", "healthwatch-controller")["spec"]["template"]["spec"]
    assert agent["serviceAccountName"] == "healthwatch-agent"
    assert controller["serviceAccountName"] == "healthwatch-controller"
