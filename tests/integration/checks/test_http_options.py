"""HTTP check options from config: redirects, client certificates, every resolved address."""

from __future__ import annotations

import errno
import socket
import ssl
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest
import trustme
from aiohttp import web

from healthwatch.aio import SystemClock
from healthwatch.checks.engine import run_check
from healthwatch.checks.runners.base import Probe
from healthwatch.checks.runners.http import HttpTarget, run_http
from healthwatch.checks.runners.http_addresses import (
    per_address,
    probe_every_address,
    resolve_addresses,
)
from healthwatch.checks.spec import CheckSpec, build_checks
from healthwatch.model.errors import ConfigError


async def _who(request: web.Request) -> web.Response:
    """Says which listener answered, the Host header and the client certificate's name."""
    assert request.transport is not None
    peer = request.transport.get_extra_info("peercert")
    subject = dict(pair for rdn in peer["subject"] for pair in rdn) if peer else {}
    local = request.transport.get_extra_info("sockname")[0]
    return web.json_response(
        {"local": local, "host": request.host, "client": subject.get("commonName")}
    )


async def _moved(_request: web.Request) -> web.Response:
    raise web.HTTPFound("/who")


def _app() -> web.Application:
    app = web.Application()
    app.router.add_get("/who", _who)
    app.router.add_get("/moved", _moved)
    return app


Serve = Callable[..., Awaitable[int]]


@pytest.fixture
async def serve() -> AsyncIterator[Serve]:
    """Serve the app on the given loopback hosts, all on one OS-chosen port."""
    runners: list[web.AppRunner] = []

    async def start(*hosts: str, port: int = 0, context: ssl.SSLContext | None = None) -> int:
        runner = web.AppRunner(_app())
        await runner.setup()
        runners.append(runner)
        for host in hosts:
            site = web.TCPSite(runner, host, port, ssl_context=context)
            await site.start()
            port = port or runner.addresses[0][1]
        return port

    yield start
    for runner in runners:
        await runner.cleanup()


def _spec(entry: dict[str, object]) -> CheckSpec:
    (spec,) = build_checks([{"name": "web", "kind": "http", **entry}], source="c.yaml")
    return spec


def _skip_without_ipv6_loopback() -> None:
    try:
        with socket.socket(socket.AF_INET6) as sock:
            sock.bind(("::1", 0))
    except OSError as error:
        print(f"skipping: cannot bind ::1 here ({error})")
        pytest.skip(f"cannot bind ::1 here: {error}")


async def _both_loopbacks(serve: Serve) -> int:
    """One port served on 127.0.0.1 and ::1 (the OS picks it; retried if ::1 has it taken)."""
    _skip_without_ipv6_loopback()
    for _ in range(10):
        port = await serve("127.0.0.1")
        try:
            await serve("::1", port=port)
        except OSError as error:
            if error.errno != errno.EADDRINUSE:  # taken on ::1: another port
                raise
            continue
        return port
    raise RuntimeError("no port free on both loopback addresses")


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture
def client_files(ca: trustme.CA, tmp_path: Path) -> tuple[str, str]:
    leaf = ca.issue_cert("probe@example.test", common_name="healthwatch-probe")
    cert, key = tmp_path / "client.pem", tmp_path / "client.key"
    for blob in leaf.cert_chain_pems:
        blob.write_to_path(str(cert), append=True)
    leaf.private_key_pem.write_to_path(str(key))
    return str(cert), str(key)


def test_the_options_reach_the_target(client_files: tuple[str, str]) -> None:
    cert, key = client_files
    spec = _spec({"url": "https://h/", "follow_redirects": True, "max_redirects": 2,
                  "client_cert": cert, "client_key": key, "all_addresses": True})  # fmt: skip
    assert isinstance(spec.target, HttpTarget)
    assert spec.target.follow_redirects and spec.target.max_redirects == 2
    assert (spec.target.client_cert, spec.target.client_key) == (cert, key)
    assert spec.target.all_addresses

    plain = _spec({"url": "http://h/"}).target
    assert isinstance(plain, HttpTarget)
    assert (plain.follow_redirects, plain.max_redirects, plain.all_addresses) == (True, 5, False)


def test_bad_options_are_errors_naming_the_field_and_value(
    client_files: tuple[str, str], tmp_path: Path
) -> None:
    cert, key = client_files
    garbage = tmp_path / "garbage.pem"
    garbage.write_text("-----BEGIN CERTIFICATE-----\nnot base64\n")
    other_key = tmp_path / "other.key"
    trustme.CA().issue_cert("x.test").private_key_pem.write_to_path(str(other_key))
    cases: list[tuple[dict[str, object], str, str]] = [
        ({"client_cert": str(tmp_path / "missing.pem")}, "client_cert", "no such file"),
        ({"client_cert": str(tmp_path)}, "client_cert", "no such file"),
        ({"client_cert": cert, "client_key": str(tmp_path / "nokey")}, "client_key",
         "no such file"),
        ({"client_key": key}, "client_key", "needs client_cert"),
        ({"client_cert": str(garbage)}, "client_cert", "cannot load the certificate and key"),
        ({"client_cert": cert, "client_key": str(other_key)}, "client_cert",
         "cannot load the certificate and key"),
        ({"max_redirects": -1}, "max_redirects", "between 0 and 20 (got -1)"),
        ({"max_redirects": 21}, "max_redirects", "between 0 and 20"),
        ({"follow_redirects": False, "max_redirects": 3}, "max_redirects",
         "needs follow_redirects: true (got 3)"),
        ({"follow_redirects": "no"}, "follow_redirects", "Expected `bool | null`, got `str`"),
        ({"all_addresses": "maybe"}, "all_addresses", "Expected `bool | null`, got `str`"),
        ({"query": "h"}, "query", "not a field of a http check"),
    ]  # fmt: skip
    for extra, field, words in cases:
        with pytest.raises(ConfigError) as caught:
            _spec({"url": "https://h/", **extra})
        message = str(caught.value)
        assert message.startswith(f"c.yaml: checks[0].{field}"), (extra, message)
        assert words in message, (extra, message)


async def test_follow_redirects_false_observes_the_302(serve: Serve) -> None:
    port = await serve("127.0.0.1")
    spec = _spec({"url": f"http://127.0.0.1:{port}/moved", "follow_redirects": False,
                  "conditions": ["status == 302", 'headers["Location"] == "/who"']})  # fmt: skip
    result = await run_check(spec, clock=SystemClock())
    assert result.ok, result.errors

    followed = _spec({"url": f"http://127.0.0.1:{port}/moved", "max_redirects": 1,
                      "conditions": ["status == 200", "redirects == 1"]})  # fmt: skip
    result = await run_check(followed, clock=SystemClock())
    assert result.ok, result.errors

    strict = _spec({"url": f"http://127.0.0.1:{port}/moved", "max_redirects": 0})
    result = await run_check(strict, clock=SystemClock())
    assert not result.ok and result.errors[0] == "too many redirects (more than 0)"


async def test_a_client_certificate_is_presented(
    serve: Serve, ca: trustme.CA, client_files: tuple[str, str], tmp_path: Path
) -> None:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(context)
    ca.configure_trust(context)
    context.verify_mode = ssl.CERT_REQUIRED
    port = await serve("127.0.0.1", context=context)
    ca_file = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    cert, key = client_files
    url = f"https://127.0.0.1:{port}/who"

    spec = _spec({"url": url, "ca_file": str(ca_file), "client_cert": cert, "client_key": key,
                  "conditions": ['json.client == "healthwatch-probe"']})  # fmt: skip
    result = await run_check(spec, clock=SystemClock())
    assert result.ok, result.errors

    anonymous = await run_check(_spec({"url": url, "ca_file": str(ca_file)}), clock=SystemClock())
    assert not anonymous.ok and anonymous.errors[0]
    assert "status < 400 (observed status=<missing>)" in anonymous.errors


async def test_every_address_of_localhost_is_probed(serve: Serve) -> None:
    port = await _both_loopbacks(serve)
    expected = await resolve_addresses("localhost", port)
    spec = _spec({"url": f"http://localhost:{port}/who", "all_addresses": True,
                  "conditions": ["status == 200", 'json.host == "localhost:' + str(port) + '"',
                                 "json.local == address"]})  # fmt: skip

    result = await run_check(spec, clock=SystemClock())

    assert result.ok, result.errors
    labels = [f"[{a}]" if ":" in a else a for a in expected]
    assert result.observations[0].observed == "; ".join(f"{x}: status=200" for x in labels)
    if "::1" not in expected:
        print(f"localhost resolves to {expected} here; both families are covered below")


async def _probe_pinned(target: HttpTarget, addresses: list[str]) -> Probe:
    async def known(_host: str, _port: int) -> list[str]:
        return addresses

    return await probe_every_address(
        target.url,
        timeout=3,
        probe=lambda session, seconds: run_http(target, timeout=seconds, session=session),
        resolve=known,
    )


async def test_each_family_gets_the_request_with_the_hosts_name(serve: Serve) -> None:
    port = await _both_loopbacks(serve)
    target = HttpTarget(url=f"http://localhost:{port}/who")

    probe = await _probe_pinned(target, ["127.0.0.1", "::1"])

    assert probe.reached and probe.error == ""
    assert probe.context["addresses"] == ["127.0.0.1", "::1"]
    parts = per_address(probe)
    assert parts is not None and [label for label, _ in parts] == ["127.0.0.1", "[::1]"]
    for (_, part), local in zip(parts, ["127.0.0.1", "::1"], strict=True):
        assert part.context["status"] == 200
        assert part.context["json"] == {"local": local, "host": f"localhost:{port}", "client": None}


async def test_one_failing_address_fails_the_check_naming_it(serve: Serve) -> None:
    port = await serve("127.0.0.1")
    _skip_without_ipv6_loopback()
    target = HttpTarget(url=f"http://localhost:{port}/who")

    probe = await _probe_pinned(target, ["127.0.0.1", "::1"])

    assert not probe.reached
    assert probe.error == f"[::1]: connection refused by localhost:{port}"
    parts = per_address(probe)
    assert parts is not None
    (v4, ok), (v6, refused) = parts
    assert (v4, ok.reached, ok.context["status"]) == ("127.0.0.1", True, 200)
    assert (v6, refused.reached, "status" in refused.context) == ("[::1]", False, False)


async def test_an_address_failing_through_the_engine_is_named(serve: Serve) -> None:
    port = await serve("::1")  # localhost's IPv4 address is left closed
    spec = _spec({"url": f"http://localhost:{port}/who", "all_addresses": True})
    expected = await resolve_addresses("localhost", port)

    result = await run_check(spec, clock=SystemClock())

    assert not result.ok
    if "127.0.0.1" in expected:
        assert f"127.0.0.1: connection refused by localhost:{port}" in result.errors
        assert "127.0.0.1: status < 400 (observed status=<missing>)" in result.errors
    assert not any(error.startswith("[::1]") for error in result.errors)


async def test_an_unresolvable_host_is_one_error() -> None:
    probe = await run_http(HttpTarget(url="http://no-such-host.invalid/", all_addresses=True),
                           timeout=3)  # fmt: skip

    assert not probe.reached and probe.context["addresses"] == []
    assert probe.error.startswith("DNS resolution failed for no-such-host.invalid")
    assert per_address(probe) is None


async def test_a_renewed_trust_file_is_read_again(
    serve: Serve, ca: trustme.CA, tmp_path: Path
) -> None:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(context)
    port = await serve("127.0.0.1", context=context)
    ca_file = tmp_path / "ca.pem"
    trustme.CA().cert_pem.write_to_path(str(ca_file))
    spec = _spec({"url": f"https://127.0.0.1:{port}/who", "ca_file": str(ca_file)})

    before = await run_check(spec, clock=SystemClock())
    ca.cert_pem.write_to_path(str(ca_file))
    after = await run_check(spec, clock=SystemClock())

    assert not before.ok and before.errors[0].startswith("TLS certificate verification failed")
    assert after.ok, after.errors
