"""Comparing validated configs: the same file read twice is the same; any real change is not."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from healthwatch.agent_checks import configured_alerting, configured_checks
from healthwatch.agent_problems import configured_daemons
from healthwatch.config.agent import AgentConfig, load_config
from healthwatch.config.compare import config_key, same_config

PROVENANCE = ("origin", "warnings")

AGENT_FILE = """\
log_monitors:
  - name: app-log
    source: file
    path: LOG
    conditions:
      - {type: DiskBroken, reason: DiskIsFine, message: disk is fine}
    rules:
      - {type: temporary, reason: Boom, pattern: 'BOOM \\d+'}
      - {type: permanent, condition: DiskBroken, reason: DiskFailed, pattern: 'disk failed.*'}
plugin_monitors:
  - name: ntp
    interval: 5s
    timeout: 1s
    conditions: [{type: NTPProblem, reason: NTPIsUp, message: ntp is up}]
    rules:
      - {type: permanent, condition: NTPProblem, reason: NTPIsDown, path: /bin/true}
stats_monitor: {}
service_monitors:
  - component: kubelet
    log_patterns:
      - {pattern: "Failed to start ContainerManager", count: 3}
gpu: true
alerting:
  routes:
    - name: hook
      kind: webhook
      url: http://127.0.0.1:1/hook
      template: '{"text": "{{check}} {{state}}"}'
  default_routes: [hook]
checks:
  - name: web
    kind: http
    url: http://127.0.0.1:1/
    headers: {X-Probe: healthwatch}
    conditions: ["status == 200", "latency < 300ms"]
    labels: {team: shop}
    maintenance:
      - {days: [sat], from: "02:00", to: "04:00", timezone: Europe/Berlin}
  - {name: port, kind: tcp, host: 127.0.0.1, port: 1}
  - {name: cert, kind: tls, host: 127.0.0.1, port: 1}
  - {name: names, kind: dns, query: example.org, record_type: A, server: 127.0.0.1}
  - {name: script, kind: exec, argv: [/bin/true], env: {A: b}}
"""


def _npd(tmp_path: Path, log: Path) -> Path:
    path = tmp_path / "kernel-monitor.json"
    path.write_text(
        json.dumps(
            {
                "plugin": "filelog",
                "pluginConfig": {
                    "timestamp": "^.{15}",
                    "message": "kernel: (.*)",
                    "timestampFormat": "Jan _2 15:04:05",
                },
                "logPath": str(log),
                "source": "kernel-monitor",
                "conditions": [{"type": "KernelDeadlock", "reason": "Fine", "message": "ok"}],
                "rules": [{"type": "permanent", "condition": "KernelDeadlock",
                           "reason": "DockerHung", "pattern": "task docker:\\w+ blocked.*"}],
            }
        )
    )  # fmt: skip
    return path


def _load(tmp_path: Path, text: str) -> AgentConfig:
    path = tmp_path / "agent.yaml"
    path.write_text(text)
    log = tmp_path / "app.log"
    return load_config(str(path), system_log_monitors=(str(_npd(tmp_path, log)),))


def test_every_daemon_check_and_route_read_twice_is_the_same(tmp_path: Path) -> None:
    text = AGENT_FILE.replace("LOG", str(tmp_path / "app.log"))
    first, second = _load(tmp_path, text), _load(tmp_path, text)
    daemons = list(zip(configured_daemons(first), configured_daemons(second), strict=True))
    assert {a.kind for a, _ in daemons} == {
        "logmonitor",
        "pluginmonitor",
        "statsmonitor",
        "servicemonitor",
        "gpu",
    }
    for a, b in daemons:
        assert a.config is not b.config
        assert same_config(a.config, b.config, ignore=PROVENANCE), a.kind
    checks = list(zip(configured_checks(first), configured_checks(second), strict=True))
    assert len(checks) == 5
    for one, other in checks:
        assert same_config(one, other), one.id
    assert same_config(configured_alerting(first), configured_alerting(second))


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("pattern: 'disk failed.*'", "pattern: 'disk broke.*'"),
        ("interval: 5s", "interval: 6s"),
        ("path: /bin/true}", "path: /bin/false}"),
        ("count: 3", "count: 4"),
        ('"latency < 300ms"', '"latency < 301ms"'),
        ("X-Probe: healthwatch", "X-Probe: other"),
        ("timezone: Europe/Berlin", "timezone: Europe/Paris"),
        ("record_type: A,", "record_type: AAAA,"),
        ("env: {A: b}", "env: {A: c}"),
        ("{{check}} {{state}}", "{{state}} {{check}}"),
    ],
)
def test_a_change_anywhere_is_a_change(tmp_path: Path, old: str, new: str) -> None:
    assert AGENT_FILE.count(old) == 1
    log = str(tmp_path / "app.log")
    before = _load(tmp_path, AGENT_FILE.replace("LOG", log))
    after = _load(tmp_path, AGENT_FILE.replace(old, new).replace("LOG", log))
    pairs = [
        (config_key(a.config, ignore=PROVENANCE), config_key(b.config, ignore=PROVENANCE))
        for a, b in zip(configured_daemons(before), configured_daemons(after), strict=True)
    ]
    pairs += [
        (config_key(a), config_key(b))
        for a, b in zip(configured_checks(before), configured_checks(after), strict=True)
    ]
    pairs.append((config_key(configured_alerting(before)), config_key(configured_alerting(after))))
    assert sum(a != b for a, b in pairs) == 1  # exactly the one that changed


@dataclass(frozen=True)
class _Compiled:
    pattern: str
    regex: re.Pattern[str]
    test: object
    _cache: list[int] = field(default_factory=list)


class _Opaque:
    """A third-party object comparing by identity: it stands for itself."""

    __module__ = "somewhere.else"


def test_derived_parts_are_left_out_and_unknown_objects_stand_for_themselves() -> None:
    one = _Compiled("a+", re.compile("a+"), lambda s: "a" in s, [1])
    two = _Compiled("a+", re.compile("a+"), lambda s: s.startswith("a"), [2])
    assert same_config(one, two)  # the lambdas and the private cache were compiled from "a+"
    assert not same_config(one, _Compiled("a+", re.compile("a+", re.I), None))
    thing = _Opaque()
    assert same_config([thing], [thing])
    assert not same_config([thing], [_Opaque()])
    assert same_config({"b": 1, "a": {2, 3}}, {"a": {3, 2}, "b": 1})
    assert not same_config({"a": 1}, {"a": 1.5})
    assert not same_config((1, 2), (2, 1))


def test_fields_of_provenance_can_be_ignored() -> None:
    @dataclass(frozen=True)
    class Spec:
        name: str
        origin: str

    assert not same_config(Spec("x", "a.yaml [0]"), Spec("x", "a.yaml [1]"))
    assert same_config(Spec("x", "a.yaml [0]"), Spec("x", "a.yaml [1]"), ignore=["origin"])


def test_a_hostile_depth_is_refused_not_recursed_forever() -> None:
    nested: object = 1
    for _ in range(200):
        nested = [nested]
    with pytest.raises(ValueError, match="nested too deeply"):
        config_key(nested)
