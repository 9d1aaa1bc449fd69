"""The browser tests' pieces: Chromium's flags, the artifacts folder, require_playwright."""

from __future__ import annotations

from pathlib import Path
from types import ModuleType

from tests.support.binaries import require_module

REPO = Path(__file__).resolve().parents[2]
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
