"""The agent DaemonSet and the controller Deployment are configured as documented.

Host mounts are read-only (recursively where the runtime can), probes ask the health
listener's paths on the port the agent binds, security contexts are the ones
docs/kubernetes.md describes (and the kernel-log component changes only what it says),
and the resource figures keep the measured footprint inside the limits.
"""

from __future__ import annotations

import re
from pathlib import Path

from tests.deploy.kustomize import Obj, render
from tests.deploy.manifests import (
    DEPLOY,
    KERNEL_LOG_COMPONENT,
    ROOT,
    container,
    find,
    rendered,
    write_kustomization,
)

HOST_MOUNTS = {
    "/dev/kmsg": ("/dev/kmsg", "CharDevice"),
    "/proc": ("/host/proc", "Directory"),
    "/sys": ("/host/sys", "Directory"),
    "/var/log": ("/host/var/log", "Directory"),
    "/etc/os-release": ("/host/etc/os-release", "File"),
}
MIB = 1 << 20


def _quantity(value: str) -> float:
    """Bytes or cores of a Kubernetes quantity (the suffixes deploy/ uses)."""
    units = {"Ki": 1 << 10, "Mi": MIB, "Gi": 1 << 30, "m": 0.001, "": 1}
    match = re.fullmatch(r"([0-9.]+)(Ki|Mi|Gi|m|)", str(value))
    assert match, value
    return float(match[1]) * units[match[2]]


def _agent(objects: list[Obj] | None = None) -> Obj:
    return find(objects or rendered("base"), "DaemonSet", "healthwatch-agent")


def _controller() -> Obj:
    return find(rendered("controller"), "Deployment", "healthwatch-controller")


def _args(workload: Obj) -> dict[str, str]:
    flags = [a for a in container(workload)["args"] if a.startswith("--")]
    return dict(a[2:].split("=", 1) for a in flags)


def test_agent_mounts_the_host_read_only_under_host_root() -> None:
    pod = _agent()["spec"]["template"]["spec"]
    volumes = {v["name"]: v for v in pod["volumes"]}
    mounts = {m["name"]: m for m in container(_agent())["volumeMounts"]}
    host = {
        v["hostPath"]["path"]: (mounts[name]["mountPath"], v["hostPath"]["type"])
        for name, v in volumes.items()
        if "hostPath" in v
    }
    assert host == HOST_MOUNTS
    for name, volume in volumes.items():
        mount = mounts[name]
        assert "mountPropagation" not in mount
        if "hostPath" in volume:
            assert mount["readOnly"] is True, name
            if volume["hostPath"]["type"] == "Directory":
                assert mount["recursiveReadOnly"] == "IfPossible", name
        elif "configMap" in volume:
            assert mount["readOnly"] is True
        else:
            assert "emptyDir" in volume and volume["emptyDir"]["sizeLimit"], name
    assert _args(_agent())["host-root"] == "/host"
    for flag in ("hostNetwork", "hostPID", "hostIPC"):
        assert flag not in pod


def test_agent_reads_its_node_name_from_the_downward_api() -> None:
    env = {e["name"]: e for e in container(_agent())["env"]}
    assert env["NODE_NAME"]["valueFrom"] == {"fieldRef": {"fieldPath": "spec.nodeName"}}
    tolerations = _agent()["spec"]["template"]["spec"]["tolerations"]
    assert tolerations == [{"operator": "Exists"}]  # every node


def _probes(workload: Obj, health_listen: str) -> None:
    c = container(workload)
    ports = {p["name"]: p["containerPort"] for p in c["ports"]}
    host, _, port = health_listen.rpartition(":")
    assert host == "0.0.0.0" and int(port) == ports["health"] == 9801
    expected = {"startupProbe": "/startupz", "livenessProbe": "/livez", "readinessProbe": "/readyz"}
    for probe, path in expected.items():
        assert c[probe]["httpGet"] == {"path": path, "port": "health"}, probe
        assert c[probe]["timeoutSeconds"] < c[probe]["periodSeconds"]
    startup = c["startupProbe"]
    assert startup["periodSeconds"] * startup["failureThreshold"] >= 60


def test_probes_ask_the_health_listener_on_the_port_it_binds() -> None:
    _probes(_agent(), _args(_agent())["health-listen"])
    config = find(rendered("controller"), "ConfigMap", "healthwatch-controller")
    listen = re.search(r"health_listen: (\S+)", config["data"]["controller.yaml"])
    assert listen
    _probes(_controller(), listen[1])


def test_agent_listeners_expose_only_health_and_metrics() -> None:
    args = _args(_agent())
    assert args["listen"].startswith("127.0.0.1:")  # dashboard through port-forward only
    assert args["metrics-listen"] == "0.0.0.0:9802"
    service = find(rendered("base"), "Service", "healthwatch-agent")
    assert [p["targetPort"] for p in service["spec"]["ports"]] == ["metrics"]


def _security(workload: Obj) -> tuple[Obj, Obj]:
    return workload["spec"]["template"]["spec"]["securityContext"], container(workload)[
        "securityContext"
    ]


def test_security_contexts_are_least_privilege() -> None:
    for workload in (_agent(), _controller()):
        pod, own = _security(workload)
        assert pod["runAsNonRoot"] is True
        assert pod["runAsUser"] == pod["runAsGroup"] == 65532
        assert pod["seccompProfile"] == {"type": "RuntimeDefault"}
        assert own == {
            "privileged": False,
            "allowPrivilegeEscalation": False,
            "readOnlyRootFilesystem": True,
            "capabilities": {"drop": ["ALL"]},
        }
    assert _security(_agent())[0]["supplementalGroups"] == [4]  # adm: syslog files
    assert "supplementalGroups" not in _security(_controller())[0]
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert re.search(r"^USER 65532:65532$", dockerfile, re.MULTILINE)


def test_kernel_log_component_changes_only_the_privileges(tmp_path: Path) -> None:
    write_kustomization(tmp_path, resources=[DEPLOY / "base"], components=[KERNEL_LOG_COMPONENT])
    privileged = _agent(render(tmp_path))
    pod, own = _security(privileged)
    assert pod == {
        "runAsNonRoot": False,
        "runAsUser": 0,
        "runAsGroup": 0,
        "seccompProfile": {"type": "RuntimeDefault"},
    }
    assert own == {
        "privileged": True,
        "allowPrivilegeEscalation": True,
        "readOnlyRootFilesystem": True,
    }
    base = _agent()
    for workload in (base, privileged):
        spec = workload["spec"]["template"]["spec"]
        del spec["securityContext"], spec["containers"][0]["securityContext"]
    assert privileged == base


def test_resources_hold_the_measured_footprint() -> None:
    for workload, idle_mib, peak_mib in ((_agent(), 50, 50 + 40), (_controller(), 50, 250)):
        resources = container(workload)["resources"]
        requests, limits = resources["requests"], resources["limits"]
        assert _quantity(requests["memory"]) >= idle_mib * MIB
        assert _quantity(limits["memory"]) >= max(peak_mib, 250) * MIB
        assert _quantity(limits["memory"]) <= 4 * _quantity(requests["memory"]) + 64 * MIB
        assert 0.001 <= _quantity(requests["cpu"]) <= _quantity(limits["cpu"])


def test_controller_runs_two_replicas_with_its_identity_and_config() -> None:
    controller = _controller()
    assert controller["spec"]["replicas"] == 2
    env = {e["name"]: e["valueFrom"]["fieldRef"]["fieldPath"] for e in container(controller)["env"]}
    assert env == {"POD_NAME": "metadata.name", "POD_NAMESPACE": "metadata.namespace"}
    assert container(controller)["args"] == ["run", "--config=/etc/healthwatch/controller.yaml"]
    budget = find(rendered("controller"), "PodDisruptionBudget", "healthwatch-controller")
    assert budget["spec"]["selector"] == controller["spec"]["selector"]


def test_services_select_their_pods_and_name_existing_ports() -> None:
    objects = rendered("overlays/with-controller")
    for service in (o for o in objects if o["kind"] == "Service"):
        workloads = [
            o
            for o in objects
            if o["kind"] in ("DaemonSet", "Deployment")
            and service["spec"]["selector"].items()
            <= o["spec"]["template"]["metadata"]["labels"].items()
        ]
        assert len(workloads) == 1, service["metadata"]["name"]
        names = {p["name"] for p in container(workloads[0])["ports"]}
        assert {p["targetPort"] for p in service["spec"]["ports"]} <= names
