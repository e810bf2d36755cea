"""What the service monitor knows about each kind of node service, and what a unit name may be.

A component (``kubelet``, ``containerd``, ...) brings defaults: its systemd unit,
its health endpoint or container-runtime check, the condition it holds and the
prefix of its reasons. ``unit`` is any other systemd unit, named by the user.

Unit names end up as arguments of ``systemctl`` and ``journalctl``. Nothing goes
through a shell, but a name starting with ``-`` would still be read as an option,
so names are held to systemd's own grammar at load time.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from typing import Final

__all__ = [
    "COMPONENT_DEFAULTS",
    "MAX_UNIT_NAME",
    "UNIT_SUFFIXES",
    "Component",
    "ComponentDefaults",
    "RuntimeKind",
    "camel_case",
    "unit_name",
    "unit_stem",
]

MAX_UNIT_NAME: Final = 256
"""systemd's limit on a unit name, suffix included."""
UNIT_SUFFIXES: Final = frozenset(
    {
        "service",
        "socket",
        "target",
        "device",
        "mount",
        "automount",
        "swap",
        "timer",
        "path",
        "slice",
        "scope",
    }
)
"""Unit types systemd knows; a name with none of them gets ``.service``, as systemctl does."""
_UNIT_CHARS = re.compile(r"[A-Za-z0-9:_.\\@-]+")
_WORDS = re.compile(r"[A-Za-z0-9]+")


class Component(StrEnum):
    """The services the monitor has defaults for; ``unit`` is any other systemd unit."""

    KUBELET = "kubelet"
    KUBE_PROXY = "kube-proxy"
    CONTAINERD = "containerd"
    DOCKER = "docker"
    CRIO = "cri-o"
    UNIT = "unit"


class RuntimeKind(StrEnum):
    """How a container runtime's reachability is checked."""

    CRI = "cri"
    """``crictl --runtime-endpoint=... pods --latest``."""
    DOCKER = "docker"
    """``docker ps``."""


@dataclass(frozen=True, slots=True, kw_only=True)
class ComponentDefaults:
    """A component's defaults (node-problem-detector's health checker uses the same)."""

    unit: str
    """systemd unit (empty: the user must name one)."""
    health_url: str
    """Health endpoint answering 200 when healthy (empty: none)."""
    runtime: RuntimeKind | None
    """Container-runtime reachability check, if the component is a runtime."""
    runtime_endpoint: str
    """CRI socket for ``crictl`` (cri runtimes only)."""
    condition: str
    """Condition type held by the monitor (empty: from the unit's name)."""
    reason_prefix: str
    """Start of every reason (``Kubelet`` → ``KubeletNotActive``); empty: from the unit."""


COMPONENT_DEFAULTS: Final[dict[Component, ComponentDefaults]] = {
    Component.KUBELET: ComponentDefaults(
        unit="kubelet.service",
        health_url="http://127.0.0.1:10248/healthz",
        runtime=None,
        runtime_endpoint="",
        condition="KubeletUnhealthy",
        reason_prefix="Kubelet",
    ),
    Component.KUBE_PROXY: ComponentDefaults(
        unit="kube-proxy.service",
        health_url="http://127.0.0.1:10256/livez",
        runtime=None,
        runtime_endpoint="",
        condition="KubeProxyUnhealthy",
        reason_prefix="KubeProxy",
    ),
    Component.CONTAINERD: ComponentDefaults(
        unit="containerd.service",
        health_url="",
        runtime=RuntimeKind.CRI,
        runtime_endpoint="unix:///var/run/containerd/containerd.sock",
        condition="ContainerRuntimeUnhealthy",
        reason_prefix="Containerd",
    ),
    Component.DOCKER: ComponentDefaults(
        unit="docker.service",
        health_url="",
        runtime=RuntimeKind.DOCKER,
        runtime_endpoint="",
        condition="ContainerRuntimeUnhealthy",
        reason_prefix="Docker",
    ),
    Component.CRIO: ComponentDefaults(
        unit="crio.service",
        health_url="",
        runtime=RuntimeKind.CRI,
        runtime_endpoint="unix:///var/run/crio/crio.sock",
        condition="ContainerRuntimeUnhealthy",
        reason_prefix="CriO",
    ),
    Component.UNIT: ComponentDefaults(
        unit="",
        health_url="",
        runtime=None,
        runtime_endpoint="",
        condition="",
        reason_prefix="",
    ),
}


def unit_name(text: str) -> str:
    """``text`` as a full unit name (``kubelet`` → ``kubelet.service``); ValueError if hostile.

    Accepted: systemd's unit-name characters (letters, digits, ``:_.\\@-``), not
    starting with ``-`` or ``.``, at most :data:`MAX_UNIT_NAME` characters with the
    suffix. Anything else (spaces, ``;``, ``$(...)``, ``/``, control characters) is
    refused rather than cleaned, so the name used is the name written.
    """
    if not text:
        raise ValueError("a unit name must not be empty")
    if _UNIT_CHARS.fullmatch(text) is None:
        raise ValueError(
            "a unit name may hold only letters, digits and ':', '_', '.', '\\', '@', '-'"
        )
    if text[0] in "-.":
        raise ValueError(f"a unit name must not start with {text[0]!r}")
    stem, dot, suffix = text.rpartition(".")
    full = text if dot and stem and suffix in UNIT_SUFFIXES else f"{text}.service"
    prefix = unit_stem(full)
    if prefix.endswith("."):
        raise ValueError("a unit name must not have '.' just before its type")
    if prefix.endswith("@"):
        raise ValueError("a template unit cannot run: name an instance (name@instance.service)")
    if len(full) > MAX_UNIT_NAME:
        raise ValueError(f"a unit name must be at most {MAX_UNIT_NAME} characters")
    return full


def unit_stem(unit: str) -> str:
    """The unit name without its type suffix (``kubelet.service`` → ``kubelet``)."""
    stem, dot, suffix = unit.rpartition(".")
    return stem if dot and suffix in UNIT_SUFFIXES else unit


def camel_case(text: str) -> str:
    """``my-app@1`` → ``MyApp1``: a unit's stem as a condition or reason prefix.

    The result always starts with a capital letter (``1password`` → ``Unit1password``).
    """
    joined = "".join(word[0].upper() + word[1:] for word in _WORDS.findall(text))
    return joined if joined[:1].isalpha() else f"Unit{joined}"
