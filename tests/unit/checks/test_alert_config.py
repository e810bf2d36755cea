"""The ``alerting:`` section and checks' ``alerts:``: good forms, hostile input, no secrets."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from healthwatch.agent_checks import configured_alerting, configured_checks
from healthwatch.checks.alertspec import DEFAULT_REPEAT, build_alerting, check_alert_routes
from healthwatch.checks.spec import build_checks
from healthwatch.config.agent import load_config
from healthwatch.model.errors import ConfigError

EXAMPLE = """\
alerting:
  routes:
    - name: ops
      kind: alertmanager
      url: http://127.0.0.1:9093
      timeout: 5s
    - name: chat
      kind: slack
      url: ${SLACK_URL}
    - name: hook
      kind: webhook
      url: http://127.0.0.1:8080/alerts
      headers: {Authorization: "Bearer ${ALERT_TOKEN}"}
      template: '{"text": "{{check}} is {{state}}: {{errors}}"}'
  default_routes: [ops]
checks:
  - {name: web, kind: http, url: "http://127.0.0.1:8080/", alerts: [ops, chat]}
  - {name: db, kind: tcp, host: 127.0.0.1, port: 5432}
  - {name: quiet, kind: tcp, host: 127.0.0.1, port: 5433, alerts: []}
"""
ENV = {"SLACK_URL": "https://hooks.slack.example/T000/B000/XXX", "ALERT_TOKEN": "s3cr3t"}


def _write(tmp_path: Path, text: str) -> str:
    path = tmp_path / "agent.yaml"
    path.write_text(text)
    return str(path)


def test_the_documented_example(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for key, value in ENV.items():
        monkeypatch.setenv(key, value)
    config = load_config(_write(tmp_path, EXAMPLE))
    alerting = configured_alerting(config)
    web, db, quiet = configured_checks(config)

    ops, chat, hook = (alerting.routes[n] for n in ("ops", "chat", "hook"))
    assert ops.kind == "alertmanager" and ops.timeout == 5.0 and ops.repeat == DEFAULT_REPEAT
    assert chat.url == ENV["SLACK_URL"] and chat.timeout == 5.0
    assert hook.headers == {"Authorization": "Bearer s3cr3t"} and hook.template is not None
    assert [r.name for r in alerting.routes_for(web.alerts)] == ["ops", "chat"]
    assert [r.name for r in alerting.routes_for(db.alerts)] == ["ops"]
    assert alerting.routes_for(quiet.alerts) == ()
    # Logged forms never carry the path (Slack's secret) or a header value.
    assert chat.display == "chat (slack https://hooks.slack.example)"
    assert "s3cr3t" not in repr(hook.display)


def test_no_section_means_no_routes(tmp_path: Path) -> None:
    config = load_config(_write(tmp_path, "checks: []\n"))
    assert configured_alerting(config).routes == {}
    assert build_alerting(None, source="x").routes_for(None) == ()


def _error(text: str, environ: dict[str, str] | None = None) -> str:
    with pytest.raises(ConfigError) as caught:
        build_alerting(yaml.safe_load(text), source="agent.yaml", environ=environ or {})
    return str(caught.value)


@pytest.mark.parametrize(
    ("section", "expected"),
    [
        ("routes: [{name: a, kind: pagerduty, url: 'http://h/'}]", "alerting.routes[0].kind"),
        ("routes: [{name: a, kind: webhook, url: 'ftp://h/x'}]", "alerting.routes[0].url"),
        ("routes: [{name: a, kind: webhook, url: 'not a url'}]", "absolute http"),
        ("routes: [{name: a, kind: webhook, url: 'http://h:99999/'}]", "not a URL"),
        ("routes: [{name: a, kind: webhook, url: 'http:///path'}]", "absolute http"),
        ("routes: [{name: A B, kind: webhook, url: 'http://h/'}]", "alerting.routes[0].name"),
        (
            "routes: [{name: a, kind: webhook, url: 'http://h/'}, {name: a, kind: slack, "
            "url: 'http://h/'}]",
            "routes[1].name: another route has this name",
        ),
        ("routes: [{name: a, kind: webhook, url: 'http://h/', timeout: -1s}]", "timeout"),
        ("routes: [{name: a, kind: webhook, url: 'http://h/', timeout: 0s}]", "more than 0"),
        ("routes: [{name: a, kind: webhook, url: 'http://h/', timeout: 2m}]", "at most 60s"),
        ("routes: [{name: a, kind: webhook, url: 'http://h/', repeat: 1m}]", "only alertmanager"),
        ("routes: [{name: a, kind: alertmanager, url: 'http://h/', repeat: 0s}]", "between 1s"),
        (
            "routes: [{name: a, kind: alertmanager, url: 'http://h/', template: '{}'}]",
            "takes no template",
        ),
        (
            "routes: [{name: a, kind: webhook, url: 'http://h/', template: '{\"t\": \"{{x}}\"}'}]",
            "routes[0].template: unknown placeholder {{x}}",
        ),
        ("routes: [{name: a, kind: webhook, url: 'http://h/', secret: 1}]", "secret"),
        ("routes: [{name: a, kind: webhook, url: 'http://h/', headers: {'a b': x}}]", "header"),
        ("routes: [{name: a, kind: webhook, url: 'http://h/', headers: {Host: x}}]", "Host"),
        ("routes: [{name: a, kind: webhook, url: '${NOPE}'}]", "NOPE is not set"),
        ("{routes: [], default_routes: [ops]}", "alerting.default_routes[0]: no alert route"),
        ("dashboard_url: 'javascript:alert(1)'", "alerting.dashboard_url"),
        ("[]", "alerting"),
    ],
)
def test_hostile_sections_name_the_field(section: str, expected: str) -> None:
    assert expected in _error(section)


def test_errors_never_show_secrets() -> None:
    message = _error(
        "routes: [{name: a, kind: webhook, url: 'http://h/', headers: {X-Token: '${T}'}}]",
        {"T": "line1\r\nInjected: yes"},
    )
    assert "headers.X-Token" in message and "line breaks" in message
    assert "line1" not in message and "Injected" not in message
    message = _error("routes: [{name: a, kind: slack, url: '${U}'}]", {"U": "ftp://x/SECRET"})
    assert "alerting.routes[0].url" in message and "SECRET" not in message
    message = _error("routes: [{name: a, kind: slack, url: 'ftp://user:pw@host/T0/B0/SECRET'}]")
    assert "pw" not in message and "SECRET" not in message and "ftp://host/" in message


def test_a_literal_dollar_brace_is_written_twice() -> None:
    alerting = build_alerting(
        {
            "routes": [
                {"name": "a", "kind": "webhook", "url": "http://h/x", "headers": {"X": "$${A}"}}
            ]
        },
        source="agent.yaml",
        environ={},
    )
    assert alerting.routes["a"].headers == {"X": "${A}"}


def test_an_unknown_route_name_in_a_check_names_file_line_field_and_value(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "alerting:\n"
        "  routes: [{name: ops, kind: webhook, url: 'http://127.0.0.1:1/'}]\n"
        "checks:\n"
        "  - name: web\n"
        "    kind: http\n"
        "    url: http://127.0.0.1:1/\n"
        "    alerts:\n"
        "      - ops\n"
        "      - opz\n",
    )
    with pytest.raises(ConfigError) as caught:
        configured_checks(load_config(path))
    assert str(caught.value) == (
        f"{path}:9: checks[0].alerts[1]: no alert route of this name (routes: ops) (got 'opz')"
    )


def test_route_names_in_checks_are_checked_for_form_and_repeats() -> None:
    with pytest.raises(ConfigError, match=r"checks\[0\]\.alerts\[1\]: route named twice"):
        build_checks(
            [{"name": "w", "kind": "http", "url": "http://h/", "alerts": ["a", "a"]}], source="a"
        )
    with pytest.raises(ConfigError, match=r"checks\[0\]\.alerts\[0\]: not a route name"):
        build_checks(
            [{"name": "w", "kind": "http", "url": "http://h/", "alerts": [""]}], source="a"
        )
    with pytest.raises(ConfigError, match=r"checks\[0\]\.alerts: Expected `array \| null`"):
        build_checks([{"name": "w", "kind": "http", "url": "http://h/", "alerts": "a"}], source="a")
    specs = build_checks(
        [{"name": "w", "kind": "http", "url": "http://h/", "alerts": ["x"]}], source="a"
    )
    with pytest.raises(ConfigError, match=r"routes: none are configured"):
        check_alert_routes(specs, build_alerting(None, source="a"), source="a")


def test_validate_reports_alerting_errors_even_for_the_embedded_self_check(tmp_path: Path) -> None:
    path = _write(tmp_path, "alerting:\n  routes:\n    - {name: x, kind: sms, url: 'http://h/'}\n")
    with pytest.raises(ConfigError, match=r"agent.yaml:3: alerting.routes\[0\].kind"):
        configured_checks(load_config(path))
