"""``service_monitors:`` entries: component defaults; errors name file, line, field and value."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from healthwatch.config.yamlfile import load_yaml
from healthwatch.model.errors import ConfigError
from healthwatch.problems.servicemonitor.components import Component, RuntimeKind
from healthwatch.problems.servicemonitor.config import (
    build_service_monitor,
    build_service_monitors,
)

AGENT_FILE = """\
agent:
  listen: 127.0.0.1:9800
service_monitors:
  - component: kubelet
    interval: 30s
    timeout: 10s
    log_patterns:
      - {pattern: "Failed to start ContainerManager", count: 3}
    loopback: 5m
    enable_repair: true
    cooldown: 2m
    max_repairs_per_hour: 3
  - component: containerd
    runtime_endpoint: unix:///run/containerd/containerd.sock
    runtime_timeout: 1s
  - component: docker
    condition: DockerUnhealthy
  - component: unit
    unit: chronyd
    health_url: https://127.0.0.1:8443/health?full=1
"""


def load(tmp_path: Path, text: str) -> tuple[object, dict[str, int], str]:
    path = tmp_path / "agent.yaml"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    data, lines = load_yaml(path)
    return data, lines, str(path)


def test_agent_file_with_every_component(tmp_path: Path) -> None:
    data, lines, source = load(tmp_path, AGENT_FILE)
    assert isinstance(data, dict)
    kubelet, containerd, docker, chronyd = build_service_monitors(
        data["service_monitors"], source=source, lines=lines
    )
    assert (kubelet.name, kubelet.unit, kubelet.condition) == (
        "service-kubelet",
        "kubelet.service",
        "KubeletUnhealthy",
    )
    assert kubelet.health_url == "http://127.0.0.1:10248/healthz"
    assert (kubelet.interval, kubelet.timeout, kubelet.loopback, kubelet.cooldown) == (
        30.0,
        10.0,
        300.0,
        120.0,
    )
    (pattern,) = kubelet.log_patterns
    assert pattern.count == 3 and pattern.regex.search("failed to START containermanager")
    assert kubelet.enable_repair and kubelet.max_repairs_per_hour == 3
    assert containerd.runtime is RuntimeKind.CRI
    assert containerd.runtime_endpoint == "unix:///run/containerd/containerd.sock"
    assert (containerd.runtime_timeout, containerd.condition) == (1.0, "ContainerRuntimeUnhealthy")
    assert (docker.runtime, docker.condition, docker.reason_prefix) == (
        RuntimeKind.DOCKER,
        "DockerUnhealthy",
        "Docker",
    )
    assert (chronyd.component, chronyd.unit) == (Component.UNIT, "chronyd.service")
    assert (chronyd.condition, chronyd.reason_prefix) == ("ChronydUnhealthy", "Chronyd")
    assert chronyd.health_url == "https://127.0.0.1:8443/health?full=1"
    assert not chronyd.enable_repair and chronyd.origin == f"{source} (service_monitors[3])"


def test_defaults() -> None:
    config = build_service_monitor({"component": "cri-o"}, source="a.yaml")
    assert (config.unit, config.runtime_endpoint) == (
        "crio.service",
        "unix:///var/run/crio/crio.sock",
    )
    assert (config.interval, config.timeout, config.runtime_timeout) == (30.0, 10.0, 2.0)
    assert (config.enable_repair, config.cooldown, config.max_repairs_per_hour) == (
        False,
        120.0,
        3,
    )
    assert (config.flap_restarts, config.flap_window, config.loopback) == (3, 600.0, 0.0)
    short = build_service_monitor(
        {"component": "containerd", "timeout": "1s", "interval": "1s"}, source="a.yaml"
    )
    assert short.runtime_timeout == 1.0  # crictl's own timeout never outlasts ours
    off = build_service_monitor({"component": "kubelet", "health_url": ""}, source="a.yaml")
    assert off.health_url == ""


@pytest.mark.parametrize(
    ("entry", "field", "shown"),
    [
        ("{component: kubelet, colour: blue}", "", "unknown field `colour`"),
        ("{component: kubelet, interval: [1]}", "interval", "got `array`"),
        ("{component: kubelet, enable_repair: maybe}", "enable_repair", "maybe"),
        ("{component: podman}", "component", "'podman'"),
        ("{component: kubelet, interval: -5s}", "interval", "negative (got '-5s')"),
        ("{component: kubelet, cooldown: -1}", "cooldown", "must not be negative (got -1)"),
        ("{component: kubelet, loopback: soon}", "loopback", "'soon'"),
        ("{component: kubelet, interval: 500ms}", "interval", "at least 1s"),
        ("{component: kubelet, timeout: 1m}", "timeout", "at most the interval (got '1m')"),
        ("{component: kubelet, timeout: 0s}", "timeout", "above 0"),
        ("{component: containerd, runtime_timeout: 20s}", "runtime_timeout", "'20s'"),
        ("{component: kubelet, runtime_timeout: 1s}", "runtime_timeout", "not kubelet"),
        ("{component: docker, runtime_endpoint: 'unix:///x'}", "runtime_endpoint", "docker"),
        ("{component: containerd, runtime_endpoint: '/run/c.sock'}", "runtime_endpoint", "unix"),
        ("{component: cri-o, runtime_endpoint: 'tcp://host'}", "runtime_endpoint", "host:port"),
        ("{component: kubelet, health_url: 'ftp://x/'}", "health_url", "'ftp://x/'"),
        ("{component: kubelet, health_url: 'http:///healthz'}", "health_url", "host"),
        ("{component: kubelet, health_url: 'http://u:p@h/'}", "health_url", "credentials"),
        ("{component: kubelet, health_url: 'http://h:99999/'}", "health_url", "port"),
        ("{component: kubelet, health_url: 'http://h/a b'}", "health_url", "without spaces"),
        ("{component: kubelet, max_repairs_per_hour: 0}", "max_repairs_per_hour", "got 0"),
        ("{component: kubelet, max_repairs_per_hour: -3}", "max_repairs_per_hour", "got -3"),
        ("{component: kubelet, flap_restarts: -1}", "flap_restarts", "got -1"),
        ("{component: kubelet, flap_window: 0s}", "flap_window", "above 0"),
        ("{component: kubelet, name: '../x'}", "name", "'../x'"),
        ("{component: kubelet, condition: 'kubelet bad'}", "condition", "CamelCase"),
        ("{component: unit}", "unit", "needs the name of a systemd unit"),
        ("{component: kubelet, log_patterns: [{pattern: '(unclosed'}]}", "pattern", "regex"),
        ("{component: kubelet, log_patterns: [{pattern: ''}]}", "pattern", "empty"),
        ("{component: kubelet, log_patterns: [{pattern: x, count: 0}]}", "count", "got 0"),
        ("{component: kubelet, log_patterns: [{pattern: x, typo: 1}]}", "", "`typo`"),
        ("{component: kubelet, log_patterns: x}", "log_patterns", "Expected `array`"),
    ],
)
def test_bad_entries_name_file_line_field_and_value(
    tmp_path: Path, entry: str, field: str, shown: str
) -> None:
    data, lines, source = load(tmp_path, f"agent: {{}}\nservice_monitors:\n  - {entry}\n")
    assert isinstance(data, dict)
    with pytest.raises(ConfigError) as caught:
        build_service_monitors(data["service_monitors"], source=source, lines=lines)
    message = str(caught.value)
    assert message.startswith(f"{source}:3: service_monitors[0]"), message
    assert f".{field}" in message if field else True, message
    assert shown in message, message


@pytest.mark.parametrize(
    "unit",
    [
        "kubelet; reboot",
        "kubelet.service && rm -rf /",
        "$(reboot)",
        "`id`",
        "--help",
        "-kubelet",
        "kubelet\nExecStart=/bin/sh",
        "kube\x00let",
        "../../etc/passwd",
        "kubelet service",
        ".service",
        "x" * 300,
        "getty@.service",
        "",
        "kubelet|cat",
        "kübelet",
    ],
)
def test_hostile_unit_names_are_rejected(unit: str) -> None:
    with pytest.raises(ConfigError) as caught:
        build_service_monitor(
            {"component": "unit", "unit": unit},
            source="agent.yaml",
            prefix="service_monitors[2]",
        )
    message = str(caught.value)
    assert message.startswith("agent.yaml: service_monitors[2].unit: "), message
    if unit:
        assert repr(unit)[:100] in message


def test_not_a_mapping_or_not_a_list() -> None:
    with pytest.raises(ConfigError, match=r"a\.yaml: service_monitors\[0\]: Expected `object`"):
        build_service_monitors(["kubelet"], source="a.yaml")
    with pytest.raises(ConfigError, match="expected a list of service monitors"):
        build_service_monitors("kubelet", source="a.yaml")


def test_repeated_names_and_conditions(tmp_path: Path) -> None:
    data, lines, source = load(
        tmp_path,
        """\
        service_monitors:
          - component: docker
          - component: containerd
        """,
    )
    assert isinstance(data, dict)
    with pytest.raises(ConfigError) as caught:
        build_service_monitors(data["service_monitors"], source=source, lines=lines)
    assert str(caught.value) == (
        f"{source}:3: service_monitors[1].condition: also the condition of "
        "service_monitors[0]; give one of them a condition of its own "
        "(got 'ContainerRuntimeUnhealthy')"
    )
    twice = [{"component": "kubelet"}, {"component": "unit", "unit": "kubelet.service"}]
    with pytest.raises(ConfigError, match=r"service_monitors\[1\]\.name: also the name"):
        build_service_monitors(twice, source="a.yaml")


def test_default_names_are_safe_for_any_unit() -> None:
    config = build_service_monitor(
        {"component": "unit", "unit": "my\\x2dapp@in:st_1.socket"}, source="a.yaml"
    )
    assert config.name == "service-my-x2dapp-in-st_1"
    assert config.unit == "my\\x2dapp@in:st_1.socket"
    long_unit = "a" * 200 + ".service"
    assert (
        len(build_service_monitor({"component": "unit", "unit": long_unit}, source="a").name) == 63
    )
