"""Label and field selectors of the fake API server, including the malformed ones."""

from __future__ import annotations

from typing import Any

import pytest

from healthwatch.testing.kubefake.failures import FakeApiError
from healthwatch.testing.kubefake.selectors import field_selector, label_selector

POD: dict[str, Any] = {
    "metadata": {"name": "web-1", "namespace": "prod", "labels": {"app": "web", "tier": "front"}},
    "spec": {"nodeName": "n1", "hostNetwork": False},
    "status": {"phase": "Running"},
}


@pytest.mark.parametrize(
    ("selector", "matches"),
    [
        ("", True),
        ("app=web", True),
        ("app==web", True),
        ("app!=web", False),
        ("app=db", False),
        ("app=web,tier=front", True),
        ("app=web,tier=back", False),
        ("app in (web, db)", True),
        ("app notin (web,db)", False),
        ("tier notin (back)", True),
        ("tier", True),
        ("!tier", False),
        ("missing", False),
        ("!missing", True),
        ("missing!=x", True),
        ("app=", False),
        ("example.com/role in (a),app=web", False),
    ],
)
def test_label_selectors(selector: str, matches: bool) -> None:
    assert label_selector(selector)(POD) is matches


@pytest.mark.parametrize(
    "selector", ["=web", "app in web", "app in ((web))", "a)b", "app=web=x", "x" * 5000]
)
def test_malformed_label_selectors_are_400(selector: str) -> None:
    with pytest.raises(FakeApiError) as caught:
        label_selector(selector)
    assert caught.value.code == 400


@pytest.mark.parametrize(
    ("selector", "matches"),
    [
        ("metadata.name=web-1", True),
        ("metadata.name==web-2", False),
        ("metadata.namespace!=prod", False),
        ("spec.nodeName=n1,status.phase=Running", True),
        ("spec.hostNetwork=false", True),
        ("spec.missing=", True),
    ],
)
def test_field_selectors(selector: str, matches: bool) -> None:
    assert field_selector(selector)(POD) is matches


@pytest.mark.parametrize("selector", ["metadata.name", "meta data=x", "a=b,,", "x" * 5000])
def test_malformed_field_selectors_are_400(selector: str) -> None:
    with pytest.raises(FakeApiError) as caught:
        field_selector(selector)
    assert caught.value.code == 400
