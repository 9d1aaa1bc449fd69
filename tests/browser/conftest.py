"""The FastAPI example as a real process (app and emulator on loopback), for a real browser."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

from tests.examples.serving import ServedApp, example_environment, serving_fastapi_app

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


@pytest.fixture
def served_app(tmp_path: Path) -> Iterator[ServedApp]:
    """``python examples/fastapi_app.py`` as a user starts it: the app and the emulator it
    serves on free loopback ports (the emulator accepts the app's /callback)."""
    with serving_fastapi_app(example_environment(tmp_path)) as served:
        yield served
    assert "Traceback" not in "".join(served.output)


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
