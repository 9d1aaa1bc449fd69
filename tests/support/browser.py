"""The browser tests' pieces: Chromium's flags, the artifacts folder, require_playwright."""

from __future__ import annotations

import os
from pathlib import Path
from types import ModuleType

import pytest

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
    try:
        import playwright.sync_api
    except ImportError:
        if os.environ.get("CI") == "true":
            pytest.fail("playwright is required in CI (the [dev] extra installs it)")
        pytest.skip("playwright is not installed (pip install playwright)")
    return playwright.sync_api
