"""Parsing what a dns check names: query names, server addresses, resolv.conf; hostile input."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from healthwatch.checks.runners.dns import DnsServer, DnsTarget, system_servers
from healthwatch.checks.targets import MAX_NAME, parse_server, query_name


@pytest.mark.parametrize(
    ("text", "record_type", "expected"),
    [
        ("example.org", "A", "example.org."),
        ("example.org.", "A", "example.org."),
        ("_sip._tcp.example.org", "SRV", "_sip._tcp.example.org."),
        ("*.example.org", "A", "*.example.org."),
        (".", "NS", "."),
        ("bücher.example", "A", "xn--bcher-kva.example."),
        ("10.0.0.1", "PTR", "1.0.0.10.in-addr.arpa."),
        ("10.0.0.1", "A", "10.0.0.1."),
        ("a" * 63 + ".org", "A", "a" * 63 + ".org."),
    ],
)
def test_query_names_become_absolute_ascii(text: str, record_type: str, expected: str) -> None:
    assert query_name(text, record_type) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("10.0.0.53", DnsServer(address="10.0.0.53")),
        ("10.0.0.53:5353", DnsServer(address="10.0.0.53", port=5353)),
        ("::1", DnsServer(address="::1")),
        ("2001:DB8::0053", DnsServer(address="2001:db8::53")),
        ("[::1]", DnsServer(address="::1")),
        ("[::1]:5353", DnsServer(address="::1", port=5353)),
        ("[10.0.0.1]:54", DnsServer(address="10.0.0.1", port=54)),
        ("[fe80::1%eth0]:53", DnsServer(address="fe80::1%eth0")),
    ],
)
def test_servers_are_addresses_with_an_optional_port(text: str, expected: DnsServer) -> None:
    assert parse_server(text) == expected


@pytest.mark.parametrize(
    "text", ["", ":53", "10.0.0.1:x", "10.0.0.1:-1", "10.0.0.1:٥٣", "[::1]:", "[::1]53", "h:53"]
)
def test_bad_servers_are_refused(text: str) -> None:
    with pytest.raises(ValueError, match=r"."):
        parse_server(text)


def test_targets_refuse_what_config_would_never_give() -> None:
    with pytest.raises(ValueError, match="record type"):
        DnsTarget(query="a.", record_type="ANY")
    with pytest.raises(ValueError, match="protocol"):
        DnsTarget(query="a.", protocol="quic")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="absolute"):
        DnsTarget(query="a")


def test_resolv_conf_servers_are_read_as_libc_reads_them(tmp_path: Path) -> None:
    path = tmp_path / "resolv.conf"
    path.write_text(
        "# comment\nsearch example.org\noptions ndots:2\nnameserver 10.0.0.1\n"
        "nameserver   fe80::1%eth0\nnameserver not-an-address\n; comment\n"
        "nameserver 2001:db8::1\nnameserver 10.0.0.2\nnameserver 10.0.0.3\n"
    )
    assert system_servers(str(path)) == (
        DnsServer(address="10.0.0.1"),
        DnsServer(address="fe80::1%eth0"),
        DnsServer(address="2001:db8::1"),
    )


def test_without_name_servers_libc_asks_the_local_host(tmp_path: Path) -> None:
    empty = tmp_path / "resolv.conf"
    empty.write_text("search example.org\n")
    local = (DnsServer(address="127.0.0.1"),)
    assert system_servers(str(empty)) == local
    assert system_servers(str(tmp_path / "missing")) == local
    (tmp_path / "binary").write_bytes(b"\xff\xfe nameserver \x00\n")
    assert system_servers(str(tmp_path / "binary")) == local


@given(st.text(max_size=300), st.sampled_from(["A", "PTR", "TXT"]))
def test_query_name_returns_a_name_or_says_why_not(text: str, record_type: str) -> None:
    try:
        name = query_name(text, record_type)
    except ValueError as error:
        if not str(error):
            pytest.fail("refused without saying why")
        return
    assert name.endswith(".") and name.isascii() and len(name) <= MAX_NAME + 1
    assert all(0 < len(label) <= 63 for label in name[:-1].split(".")) or name == "."


@given(st.text(alphabet="0123456789abcdef:.[]%x ", max_size=60))
def test_parse_server_returns_an_address_or_says_why_not(text: str) -> None:
    try:
        server = parse_server(text)
    except ValueError as error:
        if not str(error):
            pytest.fail("refused without saying why")
        return
    assert 0 < server.port < 65536 and parse_server(str(server)) == server
