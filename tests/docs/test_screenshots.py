"""The built site in headless Chromium: the home page and a guide render with their
navigation and highlighted code, and screenshots of both are saved under artifacts/docs/."""

from __future__ import annotations

import functools
import http.server
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.binaries import require_binary
from tests.support.browser import CHROMIUM_ARGS, REPO, require_playwright

from .conftest import BuiltSite

ARTIFACTS = REPO / "artifacts" / "docs"

pytestmark = pytest.mark.browser


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def site_url(built_site: BuiltSite) -> Iterator[str]:
    """The built site over HTTP on a free loopback port (as ``mkdocs serve`` would)."""
    handler = functools.partial(_QuietHandler, directory=str(built_site.root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


@pytest.fixture
def page(site_url: str) -> Iterator[Any]:
    chromium = require_binary("chromium")
    sync_api = require_playwright()
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=chromium, headless=True, args=CHROMIUM_ARGS, timeout=20_000
        )
        try:
            page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
            page.set_default_timeout(10_000)
            yield page
        finally:
            browser.close()


def _screenshot(page: Any, name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=False)
    assert path.stat().st_size > 10_000  # a rendered page, not a blank one
    return path


def _assert_navigation(page: Any) -> None:
    nav = page.locator("nav.md-nav--primary")
    assert nav.count() == 1
    labels = nav.locator("a.md-nav__link").all_inner_texts()
    for label in ("Quickstart", "Errors and retries", "truelayer_async", "Design choices"):
        assert any(label in text for text in labels), (label, labels)
    # Material's stylesheet is applied: the header bar has the theme's colour.
    header = page.locator("header.md-header")
    assert header.evaluate("e => getComputedStyle(e).backgroundColor") != "rgba(0, 0, 0, 0)"


def _assert_highlighted_code(page: Any) -> None:
    """Pygments' token spans are there and styled: a keyword is not plain text's colour."""
    code = page.locator("div.highlight pre code").first
    assert code.is_visible()
    keyword = code.locator("span.kn, span.k").first
    plain = code.locator("span.n").first
    colour = "e => getComputedStyle(e).color"
    assert keyword.evaluate(colour) != plain.evaluate(colour)


def test_the_home_page_renders_with_navigation_and_highlighted_code(
    page: Any, site_url: str
) -> None:
    page.goto(f"{site_url}/")
    assert page.title().startswith("truelayer_async")
    assert page.locator("article h1").inner_text().rstrip("¶") == "truelayer_async"
    _assert_navigation(page)
    _assert_highlighted_code(page)
    _screenshot(page, "home")


def test_a_guide_renders_with_navigation_and_highlighted_code(page: Any, site_url: str) -> None:
    page.goto(f"{site_url}/guides/web-backend/")
    heading = page.locator("article h1").inner_text().rstrip("¶")
    assert heading == "Connecting users in a web backend"
    _assert_navigation(page)
    _assert_highlighted_code(page)
    # The page's table of contents lists its sections.
    toc = page.locator("nav.md-nav--secondary").all_inner_texts()
    assert any("FastAPI" in text and "aiohttp" in text for text in toc), toc
    _screenshot(page, "guide-web-backend")
