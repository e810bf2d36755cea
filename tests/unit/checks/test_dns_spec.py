"""The ``dns`` kind in ``checks:``: its fields, defaults and every error with file:line."""

from __future__ import annotations

from pathlib import Path

import pytest

from healthwatch.checks.runners.dns import DnsServer, DnsTarget
from healthwatch.checks.spec import CheckEntry, build_checks
from healthwatch.config.yamlfile import load_yaml
from healthwatch.model.errors import ConfigError

BASE = "checks:\n  - name: resolve\n    kind: dns\n    query: example.org\n"


def _load(tmp_path: Path, text: str) -> tuple[list[object], dict[str, int], str]:
    path = tmp_path / "agent.yaml"
    path.write_text(text)
    data, lines = load_yaml(path)
    assert isinstance(data, dict)
    checks = data["checks"]
    assert isinstance(checks, list)
    return checks, lines, str(path)


def test_the_minimal_form_asks_the_system_resolver_for_a_records(tmp_path: Path) -> None:
    entries, lines, source = _load(tmp_path, BASE)
    (spec,) = build_checks(entries, source=source, lines=lines)

    assert spec.kind == "dns"
    assert spec.target == DnsTarget(query="example.org.", record_type="A", server=None)
    assert [c.text for c in spec.conditions] == ['dns.rcode == "NOERROR" and dns.answers != []']


def test_every_field_is_read(tmp_path: Path) -> None:
    text = BASE + (
        "    record_type: mx\n    server: '[2001:db8::53]:5353'\n    protocol: tcp\n"
        "    conditions: ['\"10 mx.example.org.\" in dns.answers', 'dns.ttl >= 5m']\n"
    )
    entries, lines, source = _load(tmp_path, text)
    (spec,) = build_checks(entries, source=source, lines=lines)

    assert spec.target == DnsTarget(
        query="example.org.",
        record_type="MX",
        server=DnsServer(address="2001:db8::53", port=5353),
        protocol="tcp",
    )
    assert str(DnsServer(address="2001:db8::53", port=5353)) == "[2001:db8::53]:5353"


def test_the_default_condition_reads_what_the_runner_observes() -> None:
    (spec,) = build_checks([{"name": "d", "kind": "dns", "query": "a.test"}], source="c.yaml")
    condition = spec.conditions[0]
    answered = {"dns": {"rcode": "NOERROR", "answers": ["10.0.0.1"]}}
    nodata = {"dns": {"rcode": "NOERROR", "answers": []}}
    nxdomain = {"dns": {"rcode": "NXDOMAIN", "answers": []}}

    assert condition.evaluate(answered).ok
    assert not condition.evaluate(nodata).ok
    observed = condition.evaluate(nxdomain)
    assert not observed.ok and observed.observed == 'dns.rcode="NXDOMAIN", dns.answers=[]'


def test_a_ptr_query_may_name_an_address() -> None:
    entries: list[object] = [
        {"name": "v4", "kind": "dns", "query": "10.0.0.1", "record_type": "PTR"},
        {"name": "v6", "kind": "dns", "query": "2001:db8::1", "record_type": "PTR"},
    ]
    v4, v6 = build_checks(entries, source="c.yaml")

    assert isinstance(v4.target, DnsTarget) and v4.target.query == "1.0.0.10.in-addr.arpa."
    assert isinstance(v6.target, DnsTarget) and v6.target.query.endswith(
        ".8.b.d.0.1.0.0.2.ip6.arpa."
    )


@pytest.mark.parametrize(
    ("extra", "field", "line", "words"),
    [
        ("    record_type: AXFR\n", "record_type", 5, "must be one of A, AAAA, CNAME"),
        ("    record_type: ''\n", "record_type", 5, "(got '')"),
        ("    server: dns.example.org\n", "server", 5, "IPv4 or IPv6 address"),
        ("    server: 10.0.0.1:70000\n", "server", 5, "between 1 and 65535 (got '10.0.0.1:70000')"),
        ("    server: 10.0.0.1:0\n", "server", 5, "between 1 and 65535"),
        ("    server: '10.0.0.1:'\n", "server", 5, "empty port"),
        ("    server: '[::1'\n", "server", 5, "[IPv6]:port"),
        ("    server: '[::1]x'\n", "server", 5, "[IPv6]:port"),
        ("    server: '10.0.0.1%eth0'\n", "server", 5, "IPv4 or IPv6 address"),
        ("    server: 300.1.1.1\n", "server", 5, "(got '300.1.1.1')"),
        ("    protocol: TLS\n", "protocol", 5, "must be udp or tcp (got 'TLS')"),
        ("    url: http://h/\n", "url", 5, "not a field of a dns check"),
        ("    host: h\n", "host", 5, "not a field of a dns check"),
        ("    all_addresses: true\n", "all_addresses", 5, "not a field of a dns check"),
        ("    colour: red\n", "", 2, "unknown field `colour`"),
        ("    server: 53\n", "server", 5, "Expected `str | null`, got `int`"),
    ],
)
def test_errors_name_file_line_field_and_value(
    tmp_path: Path, extra: str, field: str, line: int, words: str
) -> None:
    entries, lines, source = _load(tmp_path, BASE + extra)
    with pytest.raises(ConfigError) as caught:
        build_checks(entries, source=source, lines=lines)
    message = str(caught.value)
    path = f"checks[0].{field}" if field else "checks[0]"
    assert message.startswith(f"{source}:{line}: {path}"), message
    assert words in message, message


@pytest.mark.parametrize(
    ("query", "words"),
    [
        (None, "needs a query"),
        ("", "must not be empty"),
        ("a" * 254, "longer than 253 characters"),
        (".".join(["abcdefg"] * 32) + ".", "longer than 253"),
        ("a" * 64 + ".org", "longer than 63 characters"),
        ("a..b", "empty label"),
        (".org", "empty label"),
        ("has space.org", "special character"),
        ("back\\slash.org", "special character"),
        ("new\nline.org", "special character"),
    ],
)
def test_bad_query_names_are_refused(query: str | None, words: str) -> None:
    entry: dict[str, object] = {"name": "d", "kind": "dns"}
    if query is not None:
        entry["query"] = query
    with pytest.raises(ConfigError) as caught:
        build_checks([entry], source="c.yaml")
    message = str(caught.value)
    assert message.startswith("c.yaml: checks[0].query: "), message
    assert words in message, message


def test_dns_fields_are_errors_on_other_kinds() -> None:
    for field, value in (("query", "a.test"), ("record_type", "A"), ("server", "10.0.0.1")):
        entry = {"name": "w", "kind": "http", "url": "http://h/", field: value}
        with pytest.raises(ConfigError, match=rf"checks\[0\]\.{field}: not a field of a http"):
            build_checks([entry], source="c.yaml")


def test_the_entry_has_query_because_name_is_the_checks_own() -> None:
    entry = CheckEntry(name="resolver-up", kind="dns", query="example.org")
    (spec,) = build_checks([{"name": entry.name, "kind": "dns", "query": entry.query}], source="x")
    assert spec.name == "resolver-up"
    assert isinstance(spec.target, DnsTarget) and spec.target.query == "example.org."
