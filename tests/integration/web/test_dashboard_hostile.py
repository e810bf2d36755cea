"""The dashboard refuses what it must: unknown files, hostile paths, details for strangers.

Uses the in-process node of ``test_dashboard_pages`` (real checks service, history
file and log monitor). Raw requests are written to the socket exactly as given,
so no client normalises ``..`` or percent-escapes away first.
"""

from __future__ import annotations

import asyncio

import pytest

from healthwatch.health.routes import DetailAccess, DetailMode
from tests.integration.web.test_dashboard_pages import (
    Client,
    Node,
    get,
    node,
    problems_written,
    ran,
)

__all__ = ["node"]

pytestmark = pytest.mark.slow
TOKEN = "s3cret-token"


async def test_static_files_are_the_three_known_ones(node: Node) -> None:
    for name, kind in (
        ("dashboard.css", "text/css"),
        ("dashboard.js", "text/javascript"),
        ("favicon.svg", "image/svg+xml"),
    ):
        async with node.client.get(f"/static/{name}?v=1") as answer:
            assert answer.status == 200 and answer.content_type == kind
            etag = answer.headers["ETag"]
        async with node.client.get(f"/static/{name}", headers={"If-None-Match": etag}) as again:
            assert again.status == 304
    for name in ("app.py", "..%2Fapp.py", "%2e%2e%2f%2e%2e%2fpyproject.toml", "DASHBOARD.CSS"):
        await get(node.client, f"/static/{name}", 404)


async def test_details_are_withheld_from_callers_not_allowed_them(node: Node) -> None:
    await ran(node)
    await problems_written(node)
    client = node.serve(DetailAccess(mode=DetailMode.NEVER, token=TOKEN))
    await client.start_server()
    page = await get(client, "/")
    assert "withheld" in page and "kmsg" not in page and "saw" not in page
    assert "DiskFailed" in page  # names and states stay
    evidence = await get(client, "/problems/app-log/Boom")
    assert "BOOM 7" not in evidence and "withheld" in evidence
    async with client.get("/api/v1/dashboard") as answer:
        state = await answer.json()
    assert state["components"]["agent"]["message"].startswith("withheld")
    shown = await get(client, "/problems/app-log/Boom", Authorization=f"Bearer {TOKEN}")
    assert "BOOM 7" in shown


async def raw_get(client: Client, target: str) -> tuple[int, bytes]:
    """Send ``target`` exactly as written (no client normalisation); the status and body."""
    reader, writer = await asyncio.open_connection("127.0.0.1", client.port)
    try:
        writer.write(f"GET {target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
        await writer.drain()
        data = await asyncio.wait_for(reader.read(), 5)
    finally:
        writer.close()
        await writer.wait_closed()
    head, _, body = data.partition(b"\r\n\r\n")
    return int(head.split()[1]), body


@pytest.mark.parametrize(
    "target",
    [
        "/static/../../pyproject.toml",
        "/static/%2e%2e/%2e%2e/pyproject.toml",
        "/components/../../../etc/passwd",
        "/components/%00",
        "/checks/default/%00%ff",
        "/checks/..%2f..%2fetc/passwd",
        "/problems/%2e%2e/%2e%2e",
        "/problems/a/b/c",
        "/components/" + "%41" * 3000,
        "/checks/default/x?period=%00",
    ],
)
async def test_hostile_paths_get_an_answer_and_nothing_else(node: Node, target: str) -> None:
    status, body = await raw_get(node.client, target)
    assert status < 500
    assert status in (200, 400, 404)
    assert b"[build-system]" not in body and b"root:" not in body


@pytest.mark.parametrize(
    "path",
    [
        "/checks/%7B/x",
        "/checks/a%2Fb/c",
        "/problems/%7B%7D/x",
        "/components/%C3%A0%0A",
        "/components/a%2Fb",
        "/static/%7B",
    ],
)
async def test_odd_names_get_the_dashboards_own_not_found_page(node: Node, path: str) -> None:
    async with node.client.get(path) as answer:
        assert answer.status == 404
        assert answer.content_type == "text/html"
        assert "Content-Security-Policy" in answer.headers
