"""Validation of the ``checks:`` section: good minimal forms and every error with file:line."""

from __future__ import annotations

from pathlib import Path

import pytest

from healthwatch.checks.runners.exec import ExecTarget
from healthwatch.checks.runners.http import HttpTarget
from healthwatch.checks.runners.tcp import TcpTarget
from healthwatch.checks.runners.tls import TlsTarget
from healthwatch.checks.spec import CheckEntry, build_checks
from healthwatch.config.yamlfile import load_yaml
from healthwatch.model.errors import ConfigError

DESIGN_FORM = """\
checks:
  - name: web            # unique within its namespace
    namespace: default   # optional, default "default"
    kind: http
    url: http://127.0.0.1:8080/healthz
    interval: 30s
    timeout: 5s
    conditions: ["status == 200", "latency < 300ms"]
"""


def _load(tmp_path: Path, text: str) -> tuple[list[object], dict[str, int], str]:
    path = tmp_path / "agent.yaml"
    path.write_text(text)
    data, lines = load_yaml(path)
    assert isinstance(data, dict)
    checks = data["checks"]
    assert isinstance(checks, list)
    return checks, lines, str(path)


def test_the_design_minimal_form(tmp_path: Path) -> None:
    entries, lines, source = _load(tmp_path, DESIGN_FORM)
    (spec,) = build_checks(entries, source=source, lines=lines)

    assert spec.id == "default/web" and spec.kind == "http"
    assert spec.interval == 30.0 and spec.timeout == 5.0
    assert [c.text for c in spec.conditions] == ["status == 200", "latency < 300ms"]
    assert spec.retries == 0 and spec.failure_threshold == spec.success_threshold == 1
    assert isinstance(spec.target, HttpTarget)
    assert spec.target.url == "http://127.0.0.1:8080/healthz" and spec.target.method == "GET"


def test_each_kind_gets_its_target_and_default_conditions() -> None:
    entries: list[object] = [
        {"name": "web", "kind": "http", "url": "https://example.test/", "verify": False},
        {"name": "db", "namespace": "prod", "kind": "tcp", "host": "db", "port": 5432,
         "send": "PING\r\n", "expect": "PONG", "interval": 10, "timeout": "1.5s"},
        {"name": "cert", "kind": "tls", "host": "example.test", "server_name": "www.example.test"},
        {"name": "disk.check", "kind": "exec", "argv": ["/bin/true"], "env": {"A": "1"},
         "retries": 5, "failure_threshold": 3, "success_threshold": 2, "labels": {"team": "x"}},
    ]  # fmt: skip
    web, db, cert, disk = build_checks(entries, source="c.yaml")

    assert isinstance(web.target, HttpTarget) and web.target.verify_tls is False
    assert [c.text for c in web.conditions] == ["status < 400"]
    assert isinstance(db.target, TcpTarget) and db.target.send == b"PING\r\n"
    assert db.id == "prod/db" and db.interval == 10.0 and db.timeout == 1.5
    assert [c.text for c in db.conditions] == ["tcp.connected == true"]
    assert isinstance(cert.target, TlsTarget) and cert.target.port == 443
    assert cert.target.server_name == "www.example.test"
    assert "cert.chain_ok == true" in cert.conditions[0].text
    assert isinstance(disk.target, ExecTarget) and tuple(disk.target.argv) == ("/bin/true",)
    assert [c.text for c in disk.conditions] == ["exit_code == 0"]
    assert (disk.retries, disk.failure_threshold, disk.success_threshold) == (5, 3, 2)
    assert dict(disk.labels) == {"team": "x"}


def test_the_tls_default_condition_reads_what_the_runner_observes() -> None:
    (spec,) = build_checks([{"name": "c", "kind": "tls", "host": "h"}], source="c.yaml")
    good = {"cert": {"chain_ok": True, "hostname_ok": True, "expiry": 86400.0}}
    expired = {"cert": {"chain_ok": True, "hostname_ok": True, "expiry": -5.0}}
    assert spec.conditions[0].evaluate(good).ok
    assert not spec.conditions[0].evaluate(expired).ok


BASE = "checks:\n  - name: web\n    kind: http\n    url: http://127.0.0.1/\n"


@pytest.mark.parametrize(
    ("extra", "field", "line", "words"),
    [
        ("    interval: soon\n", "checks[0].interval", 5, "expected a duration"),
        ("    interval: 500ms\n", "checks[0].interval", 5, "at least 1s"),
        ("    timeout: 0s\n", "checks[0].timeout", 5, "more than 0"),
        ("    interval: 10s\n    timeout: 11s\n", "checks[0].timeout", 6, "at most the interval"),
        ("    retries: 6\n", "checks[0].retries", 5, "between 0 and 5"),
        ("    retries: -1\n", "checks[0].retries", 5, "(got -1)"),
        ("    failure_threshold: 0\n", "checks[0].failure_threshold", 5, "at least 1"),
        ("    success_threshold: 0\n", "checks[0].success_threshold", 5, "at least 1"),
        ("    argv: [ls]\n", "checks[0].argv", 5, "not a field of a http check"),
        ("    port: 80\n", "checks[0].port", 5, "(got 80)"),
        ("    namespace: Prod\n", "checks[0].namespace", 5, "(got 'Prod')"),
        ("    method: get\n", "checks[0].method", 5, "upper-case"),
        ("    colour: red\n", "checks[0]", 2, "unknown field `colour`"),
        ("    labels: {a: [1]}\n", "checks[0].labels", 5, "Expected `str`, got `array`"),
    ],
)
def test_errors_name_file_line_field_and_value(
    tmp_path: Path, extra: str, field: str, line: int, words: str
) -> None:
    entries, lines, source = _load(tmp_path, BASE + extra)
    with pytest.raises(ConfigError) as caught:
        build_checks(entries, source=source, lines=lines)
    message = str(caught.value)
    assert message.startswith(f"{source}:{line}: {field}"), message
    assert words in message


@pytest.mark.parametrize(
    ("entry", "field", "words"),
    [
        ({"name": "Web", "kind": "http", "url": "http://h/"}, "name", "(got 'Web')"),
        ({"name": "-web", "kind": "http", "url": "http://h/"}, "name", "letters, digits"),
        ({"name": "w", "kind": "http"}, "url", "needs a url"),
        ({"name": "w", "kind": "http", "url": "ftp://h/"}, "url", "(got 'ftp://h/')"),
        ({"name": "w", "kind": "http", "url": "/healthz"}, "url", "absolute"),
        ({"name": "w", "kind": "tcp", "port": 80}, "host", "needs a host"),
        ({"name": "w", "kind": "tcp", "host": "h"}, "port", "needs a port"),
        ({"name": "w", "kind": "tcp", "host": "h", "port": 70000}, "port", "(got 70000)"),
        ({"name": "w", "kind": "tcp", "host": "h", "port": 1, "expect": "("}, "expect", "regex"),
        ({"name": "w", "kind": "tcp", "host": "h", "port": 1, "url": "http://h/"}, "url",
         "not a field of a tcp check"),
        ({"name": "w", "kind": "tls", "host": "h", "send": "x"}, "send", "tls"),
        ({"name": "w", "kind": "exec"}, "argv", "non-empty argv"),
        ({"name": "w", "kind": "exec", "argv": []}, "argv", "(got [])"),
        ({"name": "w", "kind": "exec", "argv": ["x"], "server_name": "h"}, "server_name",
         "exec"),
        ({"name": "w", "kind": "ftp"}, "kind", "Invalid enum value 'ftp'"),
        ({"kind": "http"}, "", "missing required field `name`"),
    ],
)  # fmt: skip
def test_errors_without_lines_name_the_file_and_field(
    entry: dict[str, object], field: str, words: str
) -> None:
    entries: list[object] = [{"name": "ok", "kind": "exec", "argv": ["true"]}, entry]
    with pytest.raises(ConfigError) as caught:
        build_checks(entries, source="c.yaml")
    message = str(caught.value)
    expected = f"checks[1].{field}" if field else "checks[1]"
    assert message.startswith(f"c.yaml: {expected}"), message
    assert words in message, message


def test_duplicate_ids_are_errors_but_namespaces_separate_names(tmp_path: Path) -> None:
    text = BASE + "  - name: web\n    namespace: other\n    kind: tcp\n    host: h\n    port: 1\n"
    entries, lines, source = _load(tmp_path, text)
    assert [s.id for s in build_checks(entries, source=source, lines=lines)] == [
        "default/web",
        "other/web",
    ]
    entries, lines, source = _load(tmp_path, text + BASE.removeprefix("checks:\n"))
    with pytest.raises(ConfigError, match=r":10: checks\[2\]\.name: .*'default/web'"):
        build_checks(entries, source=source, lines=lines)


def test_a_condition_syntax_error_points_at_line_and_column(tmp_path: Path) -> None:
    text = BASE + '    conditions:\n      - status == 200\n      - "latency < 3xs"\n'
    entries, lines, source = _load(tmp_path, text)
    with pytest.raises(ConfigError) as caught:
        build_checks(entries, source=source, lines=lines)
    message = str(caught.value)
    first, *rest = message.splitlines()
    assert first.startswith(f"{source}:7: checks[0].conditions[1]: "), first
    assert "invalid duration '3xs'" in first and "at column 11" in first
    assert rest == ["    latency < 3xs", "              ^"]


def test_a_custom_prefix_is_used_in_fields() -> None:
    with pytest.raises(ConfigError, match=r"^c\.yaml: extra\.checks\[0\]\.url"):
        build_checks([{"name": "w", "kind": "http"}], source="c.yaml", prefix="extra.checks")


def test_the_entry_struct_is_frozen_and_strict() -> None:
    entry = CheckEntry(name="w", kind="http", url="http://h/")
    with pytest.raises(AttributeError):
        entry.name = "x"  # type: ignore[misc]
