"""The browser tests' pieces: Chromium's flags, the artifacts folder, require_playwright,
browser_page."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from types import ModuleType
from typing import Any

from tests.support.binaries import require_binary, require_module
from tests.support.processes import REPO

ARTIFACTS = REPO / "artifacts" / "browser"

#: Debian's chromium, driven by Playwright; never a browser downloaded by Playwright.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def require_playwright() -> ModuleType:
    return require_module("playwright.sync_api")


@contextmanager
def browser_page(**context_options: Any) -> Iterator[Any]:
    """A page of Debian's headless Chromium (through Playwright) in a fresh context."""
    chromium = require_binary("chromium")
    sync_api = require_playwright()
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=chromium, headless=True, args=CHROMIUM_ARGS, timeout=20_000
        )
        try:
            page = browser.new_context(**context_options).new_page()
            page.set_default_timeout(10_000)
            yield page
        finally:
            browser.close()
