"""The dashboard in a real headless Chromium, against a real agent.

A check fails (the file it tests for is missing) and a log line raises a
condition; the overview must show both, clicking through must reach the
evidence, the open page must follow a change without reloading, in light and
dark, on a phone and by keyboard. Every test ends with no console error or
warning and no request to any host but the agent's (127.0.0.1).
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from tests.browser.conftest import Node, Recorder

pytestmark = pytest.mark.slow

Open = Callable[..., Page]
FLAG_ROW = 'tr:has(> th > a[href="/checks/default/flag-file"])'
BADGE = "[class^='st-']"


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture
def open_page(browser: Browser, recorder: Recorder) -> Iterator[Open]:
    """Open pages in fresh contexts; afterwards, no console error and no outside request."""
    contexts: list[BrowserContext] = []

    def open_page(url: str, **options: object) -> Page:
        context = browser.new_context(**options)  # type: ignore[arg-type]
        contexts.append(context)
        page = recorder.attach(context.new_page())
        page.goto(url)
        return page

    yield open_page
    for context in contexts:
        context.close()
    assert recorder.errors() == []
    hosts = {urlsplit(url).hostname for url in recorder.requests}
    assert hosts == {"127.0.0.1"}, hosts


def problem_raised(node: Node) -> None:
    node.write("BOOM 1 <img src=x onerror=alert(1)>\ndisk failed at noon\n")


def test_overview_shows_the_failing_check_and_the_raised_condition_and_leads_to_evidence(
    node: Node, open_page: Open, artifacts: Path
) -> None:
    problem_raised(node)
    page = open_page(f"{node.web}/")
    for _ in range(30):  # the agent reads the line and runs the check within a few seconds
        if (
            page.locator("#conditions-body .st-raised").count()
            and page.locator(f"{FLAG_ROW} .st-failing").count()
        ):
            break
        time.sleep(0.5)
        page.reload()
    expect(page.locator("#sum-conditions")).to_have_text("1 raised")
    expect(page.locator("#sum-checks")).to_contain_text("1 failing")
    row = page.locator(FLAG_ROW)
    expect(row.locator(BADGE)).to_have_text("failing")
    expect(row.locator(".sum")).to_contain_text("exit_code == 0 (saw")
    expect(page.locator("#conditions-body")).to_contain_text("DiskBroken")
    expect(page.locator("#timeline")).to_contain_text("BOOM 1 <img src=x onerror=alert(1)>")
    page.screenshot(path=artifacts / "overview.png", full_page=True)

    row.get_by_role("link", name="flag-file").click()
    expect(page).to_have_url(re.compile(r"/checks/default/flag-file$"))
    expect(page.locator("table.runs")).to_contain_text("exit_code == 0 observed")
    expect(page.locator("svg.pc")).to_have_count(1)
    page.screenshot(path=artifacts / "check.png", full_page=True)

    page.go_back()
    page.locator("#conditions-body").get_by_role("link", name="DiskFailed").click()
    expect(page).to_have_url(re.compile(r"/problems/app-log/DiskFailed$"))
    expect(page.locator(".evidence")).to_contain_text("disk failed at noon")
    expect(page.locator("pre.rule")).to_contain_text("disk failed.*")
    page.screenshot(path=artifacts / "problem.png", full_page=True)

    page.get_by_role("link", name="app-log").first.click()
    expect(page).to_have_url(re.compile(r"/components/daemon:app-log$"))
    expect(page.locator("h1")).to_contain_text("daemon:app-log")


@pytest.mark.parametrize(
    ("scheme", "background"), [("light", "rgb(255, 255, 255)"), ("dark", "rgb(13, 17, 23)")]
)
def test_light_and_dark_follow_the_system_setting(
    node: Node, open_page: Open, artifacts: Path, scheme: str, background: str
) -> None:
    page = open_page(f"{node.web}/", color_scheme=scheme)
    body = page.evaluate("getComputedStyle(document.body).backgroundColor")
    assert body == background
    text = page.evaluate("getComputedStyle(document.body).color")
    assert text != body
    page.screenshot(path=artifacts / f"overview-{scheme}.png", full_page=True)


def test_a_phone_gets_a_page_that_fits(node: Node, open_page: Open, artifacts: Path) -> None:
    page = open_page(
        f"{node.web}/",
        viewport={"width": 390, "height": 844},
        is_mobile=True,
        has_touch=True,
        device_scale_factor=2,
    )
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 1
    expect(page.locator(f"{FLAG_ROW} a")).to_be_visible()
    page.screenshot(path=artifacts / "overview-phone.png", full_page=True)


def test_the_keyboard_reaches_every_link(node: Node, open_page: Open) -> None:
    page = open_page(f"{node.web}/")
    wanted = {"/checks/default/flag-file", "/checks/platform/always", "/components/agent"}
    seen: list[str] = []
    for _ in range(80):
        page.keyboard.press("Tab")
        href = page.evaluate(
            "document.activeElement && document.activeElement.getAttribute('href')"
        )
        seen.append(href or "")
        if wanted <= set(seen):
            break
    assert seen[0] == "#main"  # the skip link comes first
    assert wanted <= set(seen)
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline == "solid"  # focus is visible
    page.keyboard.press("Enter")
    expect(page.locator("main h1")).to_be_visible()


def test_live_refresh_shows_a_change_without_reloading(
    node: Node, open_page: Open, recorder: Recorder
) -> None:
    page = open_page(f"{node.web}/")
    check = page.locator(f"{FLAG_ROW} {BADGE}")
    expect(check).to_have_text("failing")
    expect(page.locator(f"#conditions-body {BADGE}")).to_have_text("raised")
    page.evaluate("window.notReloaded = true")
    node.flag.write_text("")
    node.write("disk ok again\n")
    expect(check).to_have_text("passing", timeout=20_000)
    expect(page.locator(f"#conditions-body {BADGE}")).to_have_text("clear", timeout=20_000)
    expect(page.locator("#sum-conditions")).to_have_text("none raised")
    expect(page.locator("#sum-checks")).to_have_text("2 passing")
    expect(page.locator("#live")).to_have_text("live")
    assert page.evaluate("window.notReloaded") is True
    assert sum(url.endswith("/api/v1/dashboard") for url in recorder.requests) >= 1
    assert sum(urlsplit(url).path == "/" for url in recorder.requests) == 1  # one page load
