"""The dns runner and dns checks against a real DNS server on loopback (UDP and TCP)."""

from __future__ import annotations

import socket
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from healthwatch.aio import SystemClock
from healthwatch.checks.engine import run_check
from healthwatch.checks.expressions import compile_condition
from healthwatch.checks.runners.dns import DnsServer, DnsTarget, run_dns
from healthwatch.checks.spec import CheckSpec, build_checks
from healthwatch.config.yamlfile import load_yaml
from tests.integration.checks.dns_server import DnsTestServer, closed_port, silent_udp_port


@pytest.fixture
async def server() -> AsyncIterator[DnsTestServer]:
    started = await DnsTestServer().start()
    yield started
    await started.close()


def _target(server: DnsTestServer, query: str, record_type: str = "A", **kw: str) -> DnsTarget:
    address = DnsServer(address=server.host, port=server.port)
    return DnsTarget(query=query, record_type=record_type, server=address, **kw)  # type: ignore[arg-type]


def _dns(context: object) -> dict[str, object]:
    assert isinstance(context, dict)
    return context


def _spec(tmp_path: Path, server: str, extra: str = "") -> CheckSpec:
    path = tmp_path / "agent.yaml"
    path.write_text(
        "checks:\n  - name: resolve\n    kind: dns\n    timeout: 2s\n"
        f"    server: '{server}'\n{extra}"
    )
    data, lines = load_yaml(path)
    assert isinstance(data, dict) and isinstance(data["checks"], list)
    (spec,) = build_checks(data["checks"], source=str(path), lines=lines)
    return spec


async def test_a_records_are_observed(server: DnsTestServer) -> None:
    probe = await run_dns(_target(server, "web.test."), timeout=2)

    assert probe.reached and probe.error == ""
    assert _dns(probe.context["dns"]) == {
        "rcode": "NOERROR",
        "answers": ["10.0.0.1", "10.0.0.2"],
        "ttl": 60,
        "authoritative": True,
        "server": server.address,
        "protocol": "udp",
    }
    for text in (
        '"10.0.0.1" in dns.answers',
        'dns.rcode == "NOERROR" and dns.authoritative == true',
        "dns.ttl == 60 and dns.ttl < 5m and latency < 1s",
        'dns.answers == ["10.0.0.1", "10.0.0.2"]',
    ):
        assert compile_condition(text).evaluate(probe.context).ok, text
    assert server.asked == [("udp", "web.test.", "A")]


@pytest.mark.parametrize(
    ("query", "record_type", "answers", "ttl"),
    [
        ("web.test.", "AAAA", ["2001:db8::1"], 300),
        ("mail.test.", "MX", ["10 mx1.mail.test.", "20 mx2.mail.test."], 300),
        ("txt.test.", "TXT", ["v=spf1 -all"], 300),
        ("alias.test.", "A", ["10.0.0.1", "10.0.0.2"], 30),  # the CNAME's TTL counts
        ("alias.test.", "CNAME", ["web.test."], 30),
        ("1.0.0.10.in-addr.arpa.", "PTR", ["web.test."], 300),
    ],
)
async def test_each_record_type_is_observed_as_text(
    server: DnsTestServer, query: str, record_type: str, answers: list[str], ttl: int
) -> None:
    probe = await run_dns(_target(server, query, record_type), timeout=2)

    dns = _dns(probe.context["dns"])
    assert probe.reached and dns["rcode"] == "NOERROR"
    assert dns["answers"] == answers and dns["ttl"] == ttl


@pytest.mark.parametrize(
    ("query", "rcode", "authoritative"),
    [("missing.test.", "NXDOMAIN", True), ("servfail.test.", "SERVFAIL", False)],
)
async def test_error_rcodes_are_observations_not_errors(
    server: DnsTestServer, query: str, rcode: str, authoritative: bool
) -> None:
    probe = await run_dns(_target(server, query), timeout=2)

    assert probe.reached and probe.error == ""
    dns = _dns(probe.context["dns"])
    assert dns["rcode"] == rcode and dns["answers"] == [] and dns["ttl"] is None
    assert dns["authoritative"] is authoritative
    assert compile_condition(f'dns.rcode == "{rcode}"').evaluate(probe.context).ok


async def test_a_truncated_udp_answer_is_asked_again_over_tcp(server: DnsTestServer) -> None:
    probe = await run_dns(_target(server, "big.test.", "TXT"), timeout=2)

    dns = _dns(probe.context["dns"])
    assert probe.reached and dns["protocol"] == "tcp"
    assert isinstance(dns["answers"], list) and len(dns["answers"]) == 7
    assert server.asked == [("udp", "big.test.", "TXT"), ("tcp", "big.test.", "TXT")]


async def test_tcp_can_be_chosen(server: DnsTestServer) -> None:
    probe = await run_dns(_target(server, "web.test.", protocol="tcp"), timeout=2)

    assert probe.reached and _dns(probe.context["dns"])["protocol"] == "tcp"
    assert server.asked == [("tcp", "web.test.", "A")]


async def test_a_server_that_never_answers_times_out_naming_server_and_name() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        port = silent_udp_port(sock)
        target = DnsTarget(query="web.test.", server=DnsServer(address="127.0.0.1", port=port))
        start = time.perf_counter()
        probe = await run_dns(target, timeout=0.4)

    assert not probe.reached and "dns" not in probe.context
    assert probe.error == f"no answer from 127.0.0.1:{port} (UDP) to web.test. A within 0.4s"
    assert 0.3 < time.perf_counter() - start < 1.5


@pytest.mark.parametrize("protocol", ["udp", "tcp"])
async def test_a_closed_port_is_refused_at_once(protocol: str) -> None:
    port = closed_port()
    server = DnsServer(address="127.0.0.1", port=port)
    probe = await run_dns(
        DnsTarget(query="web.test.", server=server, protocol=protocol),  # type: ignore[arg-type]
        timeout=3,
    )

    assert not probe.reached
    assert probe.error == (
        f"connection refused by 127.0.0.1:{port} ({protocol.upper()}) asking web.test. A"
    )
    assert probe.duration < 1
    assert not compile_condition('dns.rcode == "NOERROR"').evaluate(probe.context).ok


async def test_an_ipv6_server_is_asked() -> None:
    try:
        started = await DnsTestServer(host="::1").start()
    except OSError as error:
        pytest.skip(f"cannot bind ::1 here: {error}")
    try:
        probe = await run_dns(_target(started, "web.test.", "AAAA"), timeout=2)
    finally:
        await started.close()
    dns = _dns(probe.context["dns"])
    assert probe.reached and dns["answers"] == ["2001:db8::1"]
    assert dns["server"] == f"[::1]:{started.port}"


async def test_without_a_server_the_resolv_conf_servers_are_asked_in_turn(
    tmp_path: Path,
) -> None:
    resolv_conf = tmp_path / "resolv.conf"
    resolv_conf.write_text("nameserver 127.0.0.9\nnameserver 127.0.0.10\n")

    probe = await run_dns(DnsTarget(query="web.test."), timeout=2, resolv_conf=str(resolv_conf))

    assert not probe.reached
    assert probe.error == (
        "connection refused by 127.0.0.9:53 (UDP) asking web.test. A; "
        "connection refused by 127.0.0.10:53 (UDP) asking web.test. A"
    )


async def test_a_check_passes_on_the_default_conditions(
    server: DnsTestServer, tmp_path: Path
) -> None:
    spec = _spec(tmp_path, server.address, "    query: web.test\n")
    result = await run_check(spec, clock=SystemClock())

    assert result.ok, result.errors
    assert [o.observed for o in result.observations] == [
        'dns.rcode="NOERROR", dns.answers=["10.0.0.1", "10.0.0.2"]'
    ]


@pytest.mark.parametrize(
    ("query", "observed"),
    [
        ("missing.test", 'dns.rcode="NXDOMAIN", dns.answers=[]'),
        ("servfail.test", 'dns.rcode="SERVFAIL", dns.answers=[]'),
        ("nodata.test", 'dns.rcode="NOERROR", dns.answers=[]'),
    ],
)
async def test_a_failing_check_reports_the_observed_answer(
    server: DnsTestServer, tmp_path: Path, query: str, observed: str
) -> None:
    spec = _spec(tmp_path, server.address, f"    query: {query}\n")
    result = await run_check(spec, clock=SystemClock())

    assert not result.ok and result.attempts == 1
    assert result.errors == (f'dns.rcode == "NOERROR" and dns.answers != [] (observed {observed})',)


async def test_conditions_over_answers_report_what_was_seen(
    server: DnsTestServer, tmp_path: Path
) -> None:
    extra = (
        "    query: mail.test\n    record_type: MX\n    conditions:\n"
        "      - '\"10 mx1.mail.test.\" in dns.answers'\n"
        "      - '\"5 backup.mail.test.\" in dns.answers'\n"
    )
    result = await run_check(_spec(tmp_path, server.address, extra), clock=SystemClock())

    assert not result.ok
    assert [o.ok for o in result.observations] == [True, False]
    assert result.errors == (
        '"5 backup.mail.test." in dns.answers '
        '(observed dns.answers=["10 mx1.mail.test.", "20 mx2.mail.test."])',
    )


async def test_an_unreachable_server_fails_the_check_with_its_address(tmp_path: Path) -> None:
    port = closed_port()
    spec = _spec(tmp_path, f"127.0.0.1:{port}", "    query: web.test\n    retries: 1\n")
    result = await run_check(spec, clock=SystemClock())

    assert not result.ok and result.attempts == 2
    assert result.errors[0] == f"connection refused by 127.0.0.1:{port} (UDP) asking web.test. A"
    assert result.errors[1].endswith("(observed dns.rcode=<missing>, dns.answers=<missing>)")
