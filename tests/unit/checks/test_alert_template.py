"""Webhook templates: placeholders filled and JSON-escaped; bad templates refused at load."""

from __future__ import annotations

import json

import pytest

from healthwatch.checks.alerts.notification import AlertState, Notification
from healthwatch.checks.alerts.template import (
    MAX_TEMPLATE_CHARS,
    PLACEHOLDERS,
    TemplateError,
    compile_template,
)
from healthwatch.checks.alerts.webhook import render_template


def _notification(**extra: object) -> Notification:
    values: dict[str, object] = {
        "check_id": "shop/web",
        "namespace": "shop",
        "name": "web",
        "state": AlertState.FIRING,
        "sequence": 3,
        "errors": ("status < 400 (observed status=503)",),
        "labels": {"team": "payments"},
        "started_at": 1_800_000_000.5,
        "url": "http://127.0.0.1:9800/checks/shop/web",
        **extra,
    }
    return Notification(**values)  # type: ignore[arg-type]


def test_the_documented_example_renders_to_the_expected_json() -> None:
    template = compile_template('{"text": "{{check}} is {{state}}: {{errors}}"}')
    body = json.loads(render_template(template, _notification()))
    assert body == {"text": "shop/web is firing: status < 400 (observed status=503)"}


def test_every_placeholder_and_labels_are_available() -> None:
    fields = ", ".join(f'"{name}": "{{{{{name}}}}}"' for name in sorted(PLACEHOLDERS))
    template = compile_template(
        "{" + fields + ', "team": "{{labels.team}}", "none": "{{ labels.missing }}"}'
    )
    body = json.loads(render_template(template, _notification()))
    assert body["check"] == "shop/web" and body["namespace"] == "shop" and body["name"] == "web"
    assert body["state"] == "firing" and body["sequence"] == "3"
    assert body["summary"] == "check shop/web is failing"
    assert body["started_at"] == "2027-01-15T08:00:00.500Z" and body["ended_at"] == ""
    assert body["url"].endswith("/checks/shop/web")
    assert body["team"] == "payments" and body["none"] == ""
    assert template.names >= {"check", "labels.team", "labels.missing"}


def test_hostile_values_are_escaped_and_cannot_inject_fields() -> None:
    template = compile_template('{"text": "{{errors}}", "state": "{{state}}"}')
    evil = 'x", "state": "resolved", "y": "\n\t\\ \u2028 </script>'
    body = json.loads(render_template(template, _notification(errors=(evil,))))
    assert body == {"text": evil, "state": "firing"}


def test_a_number_placeholder_outside_quotes_is_allowed() -> None:
    template = compile_template('{"n": {{sequence}}}')
    assert json.loads(render_template(template, _notification())) == {"n": 3}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('{"text": "{{chek}}"}', "unknown placeholder {{chek}} at character 11"),
        ('{"text": "{{labels.}}"}', "does not open a placeholder"),
        ('{"text": "{{ check"}', "'{{' at character 11 does not open a placeholder"),
        ('{"text": "{{os.environ}}"}', "unknown placeholder {{os.environ}}"),
        ('{"text": "{{__import__}}"}', "unknown placeholder"),
        ('{"text": {{check}}}', "does not render to JSON"),
        ("not json at all", "does not render to JSON"),
        ("", "does not render to JSON"),
    ],
)
def test_bad_templates_are_refused_with_the_reason(text: str, message: str) -> None:
    with pytest.raises(TemplateError) as caught:
        compile_template(text)
    assert message in str(caught.value)


def test_an_oversized_template_is_refused() -> None:
    with pytest.raises(TemplateError, match="limit"):
        compile_template('{"t": "' + "x" * MAX_TEMPLATE_CHARS + '"}')
