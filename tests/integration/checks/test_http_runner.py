"""The HTTP runner against real aiohttp servers on loopback, plain and TLS."""

from __future__ import annotations

import asyncio
import socket
import ssl
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import aiohttp
import pytest
import trustme
from aiohttp import web

from healthwatch.checks.expressions import compile_condition
from healthwatch.checks.runners.base import MAX_BODY
from healthwatch.checks.runners.http import HttpTarget, redact_url, run_http, timing_trace_config

BIG = b"x" * (1024 * 1024 + 512 * 1024)
RELEASE = web.AppKey("release", asyncio.Event)


async def _json(_request: web.Request) -> web.Response:
    return web.json_response({"status": "UP", "checks": {"db": "ok"}}, headers={"X-Custom": "yes"})


async def _status(request: web.Request) -> web.Response:
    return web.Response(status=int(request.match_info["code"]), text="status page")


async def _slow(request: web.Request) -> web.Response:
    await asyncio.wait_for(request.app[RELEASE].wait(), timeout=10)
    return web.Response(text="late")


async def _trickle(request: web.Request) -> web.StreamResponse:
    response = web.StreamResponse()
    response.content_length = 100
    await response.prepare(request)
    for _ in range(100):
        if request.app[RELEASE].is_set():
            break
        await response.write(b"x")
        await asyncio.sleep(0.1)
    return response


async def _big(_request: web.Request) -> web.Response:
    return web.Response(body=BIG, content_type="application/json")


async def _hop(request: web.Request) -> web.Response:
    left = int(request.match_info["left"])
    raise web.HTTPFound("/json" if left == 0 else f"/hop/{left - 1}")


async def _loop(_request: web.Request) -> web.Response:
    raise web.HTTPFound("/loop")


async def _echo(request: web.Request) -> web.Response:
    body = await request.read()
    return web.Response(
        body=f"{request.method} {request.headers.get('X-Token', '')} {body.decode()}".encode(),
        headers={"Content-Type": "text/plain; charset=not-a-charset"},
    )


def _app() -> web.Application:
    app = web.Application()
    app[RELEASE] = asyncio.Event()
    app.router.add_get("/json", _json)
    app.router.add_get("/status/{code}", _status)
    app.router.add_get("/slow", _slow)
    app.router.add_get("/trickle", _trickle)
    app.router.add_get("/big", _big)
    app.router.add_get("/hop/{left}", _hop)
    app.router.add_get("/loop", _loop)
    app.router.add_route("*", "/echo", _echo)
    return app


Serve = Callable[..., Awaitable[str]]


@pytest.fixture
async def serve() -> AsyncIterator[Serve]:
    """Start the test app on 127.0.0.1 with an OS-chosen port; returns its base URL."""
    runners: list[tuple[web.AppRunner, web.Application]] = []

    async def start(ssl_context: ssl.SSLContext | None = None) -> str:
        app = _app()
        runner = web.AppRunner(app)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0, ssl_context=ssl_context)
        await site.start()
        runners.append((runner, app))
        host, port = runner.addresses[0][:2]
        return f"{'https' if ssl_context else 'http'}://{host}:{port}"

    yield start
    for runner, app in runners:
        app[RELEASE].set()
        await runner.cleanup()


@pytest.fixture
async def base(serve: Serve) -> str:
    return await serve()


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture
async def tls_base(serve: Serve, ca: trustme.CA) -> str:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1", "localhost").configure_cert(context)
    return await serve(context)


@pytest.fixture
def ca_file(ca: trustme.CA, tmp_path: Path) -> str:
    path = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(path))
    return str(path)


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


async def test_json_response_feeds_the_conditions_language(base: str) -> None:
    probe = await run_http(HttpTarget(url=f"{base}/json"), timeout=5)

    assert probe.reached and probe.error == ""
    context = probe.context
    assert context["status"] == 200
    assert context["json"] == {"status": "UP", "checks": {"db": "ok"}}
    assert isinstance(context["headers"], dict) and context["headers"]["x-custom"] == "yes"
    assert context["url"] == f"{base}/json" and context["redirects"] == 0
    assert context["body_truncated"] is False
    timings = context["timings"]
    assert isinstance(timings, dict) and set(timings) == {
        "dns", "connect", "tls", "first_byte", "total"
    }  # fmt: skip
    assert timings["tls"] is None and timings["connect"] is not None
    assert 0 < timings["first_byte"] <= timings["total"] == context["latency"]
    for text in (
        'status == 200 and json.status == "UP" and latency < 2s',
        'headers["X-CUSTOM"] == "yes" and json.checks.db == "ok"',
    ):
        assert compile_condition(text).evaluate(context).ok, text


@pytest.mark.parametrize("code", [200, 404, 503])
async def test_status_codes_are_observed_not_errors(base: str, code: int) -> None:
    probe = await run_http(HttpTarget(url=f"{base}/status/{code}"), timeout=5)

    assert probe.reached and probe.error == ""
    assert probe.context["status"] == code and probe.context["body"] == "status page"
    assert "json" not in probe.context
    assert compile_condition(f"status == {code}").evaluate(probe.context).ok


async def test_a_slow_handler_times_out_within_the_budget(base: str) -> None:
    probe = await run_http(HttpTarget(url=f"{base}/slow"), timeout=0.3)

    assert not probe.reached
    assert "timed out after 0.3s waiting for a response" in probe.error
    assert probe.duration < 2


async def test_a_trickling_body_times_out_after_the_response_started(base: str) -> None:
    probe = await run_http(HttpTarget(url=f"{base}/trickle"), timeout=0.5)

    assert probe.reached
    assert "timed out after 0.5s reading the response body" in probe.error
    assert probe.duration < 2


async def test_a_large_body_is_capped_and_not_parsed(base: str) -> None:
    probe = await run_http(HttpTarget(url=f"{base}/big"), timeout=5)

    assert probe.reached and probe.error == ""
    assert probe.context["body_truncated"] is True
    assert probe.context["body"] == "x" * MAX_BODY
    assert "json" not in probe.context


async def test_redirects_are_followed_and_counted(base: str) -> None:
    probe = await run_http(HttpTarget(url=f"{base}/hop/2"), timeout=5)

    assert probe.error == "" and probe.context["status"] == 200
    assert probe.context["redirects"] == 3 and probe.context["url"] == f"{base}/json"


async def test_redirects_can_be_observed_instead_of_followed(base: str) -> None:
    probe = await run_http(HttpTarget(url=f"{base}/hop/0", follow_redirects=False), timeout=5)

    assert probe.context["status"] == 302 and probe.context["redirects"] == 0
    assert isinstance(probe.context["headers"], dict)
    assert probe.context["headers"]["location"] == "/json"


async def test_a_redirect_loop_is_an_error(base: str) -> None:
    probe = await run_http(HttpTarget(url=f"{base}/loop", max_redirects=3), timeout=5)

    assert probe.reached and probe.error == "too many redirects (more than 3)"


async def test_method_headers_and_body_are_sent_and_bad_charsets_tolerated(base: str) -> None:
    target = HttpTarget(
        url=f"{base}/echo", method="POST", headers={"X-Token": "t0k"}, body=b"payload"
    )
    probe = await run_http(target, timeout=5)

    assert probe.error == "" and probe.context["body"] == "POST t0k payload"


async def test_a_closed_port_is_refused() -> None:
    port = _closed_port()
    probe = await run_http(HttpTarget(url=f"http://127.0.0.1:{port}/"), timeout=5)

    assert not probe.reached and "refused" in probe.error
    assert f"127.0.0.1:{port}" in probe.error
    assert "status" not in probe.context
    assert not compile_condition("status == 200").evaluate(probe.context).ok


async def test_credentials_never_appear_in_urls_or_errors(base: str) -> None:
    url = base.replace("http://", "http://user:s3cret@")
    probe = await run_http(HttpTarget(url=f"{url}/json"), timeout=5)
    assert probe.context["status"] == 200 and "s3cret" not in str(probe.context["url"])

    bad = await run_http(HttpTarget(url="http://user:s3cret@127.0.0.1:99999/"), timeout=5)
    assert not bad.reached and bad.error and "s3cret" not in bad.error
    assert redact_url("see https://a:b@h/x and http://h/y") == "see https://***@h/x and http://h/y"


async def test_an_unresolvable_host_is_not_reached() -> None:
    probe = await run_http(HttpTarget(url="http://no-such-host.invalid/"), timeout=3)

    assert not probe.reached
    assert "DNS resolution failed" in probe.error or "timed out" in probe.error


async def test_a_shared_session_is_used_and_left_open(base: str) -> None:
    async with aiohttp.ClientSession(trace_configs=[timing_trace_config()]) as session:
        first = await run_http(HttpTarget(url=f"{base}/json"), timeout=5, session=session)
        second = await run_http(HttpTarget(url=f"{base}/json"), timeout=5, session=session)
        assert not session.closed
    assert first.context["status"] == second.context["status"] == 200
    timings = second.context["timings"]
    assert isinstance(timings, dict) and timings["connect"] == 0.0  # the connection was reused

    async with aiohttp.ClientSession() as untraced:
        plain = await run_http(HttpTarget(url=f"{base}/json"), timeout=5, session=untraced)
    timings = plain.context["timings"]
    assert isinstance(timings, dict) and timings["dns"] is None and timings["total"] > 0


async def test_tls_verified_against_the_given_ca(tls_base: str, ca_file: str) -> None:
    probe = await run_http(HttpTarget(url=f"{tls_base}/json", ca_file=ca_file), timeout=5)

    assert probe.error == "" and probe.context["status"] == 200
    timings = probe.context["timings"]
    assert isinstance(timings, dict) and timings["tls"] is not None and timings["tls"] > 0


async def test_tls_without_verification_accepts_an_unknown_ca(tls_base: str) -> None:
    probe = await run_http(HttpTarget(url=f"{tls_base}/json", verify_tls=False), timeout=5)

    assert probe.error == "" and probe.context["status"] == 200


@pytest.mark.parametrize("trust", ["system", "other-ca"])
async def test_tls_with_an_untrusted_certificate_fails(
    tls_base: str, tmp_path: Path, trust: str
) -> None:
    ca_file = None
    if trust == "other-ca":
        ca_file = str(tmp_path / "other.pem")
        trustme.CA().cert_pem.write_to_path(ca_file)
    probe = await run_http(HttpTarget(url=f"{tls_base}/json", ca_file=ca_file), timeout=5)

    assert not probe.reached
    assert probe.error.startswith("TLS certificate verification failed")


async def test_an_unreadable_ca_file_is_an_error_not_an_exception(
    tls_base: str, tmp_path: Path
) -> None:
    target = HttpTarget(url=f"{tls_base}/json", ca_file=str(tmp_path / "missing.pem"))
    probe = await run_http(target, timeout=5)

    assert not probe.reached and probe.error.startswith("cannot load TLS configuration")
