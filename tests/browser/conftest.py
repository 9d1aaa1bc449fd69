"""The FastAPI example and the emulator as real servers on loopback, for a real browser."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import attrs
import pytest

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "examples"
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


@attrs.frozen
class Servers:
    app_url: str
    emulator_url: str


def _fastapi_example() -> ModuleType:
    if str(EXAMPLES) not in sys.path:
        sys.path.insert(0, str(EXAMPLES))
    import fastapi_app

    return fastapi_app


@pytest.fixture
def servers() -> Iterator[Servers]:
    """The app on one free port and the emulator on another; the emulator accepts the
    app's /callback as a redirect URI."""
    example = _fastapi_example()
    host = "127.0.0.1"
    port = example.free_port(host)
    with (
        example.emulator_app(host, port, 0) as (app, emulator_url),
        example.serve_in_thread(app, host, port) as app_url,
    ):
        yield Servers(app_url, emulator_url)


@pytest.fixture
def artifacts() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS


def require_playwright() -> ModuleType:
    try:
        import playwright.sync_api
    except ImportError:
        if os.environ.get("CI") == "true":
            pytest.fail("playwright is required in CI (the [dev] extra installs it)")
        pytest.skip("playwright is not installed (pip install playwright)")
    return playwright.sync_api
