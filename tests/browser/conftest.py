"""The FastAPI example as a real process (app and emulator on loopback), for a real browser.

Helpers are in ``tests.support.browser``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.browser import (
    ARTIFACTS,
)
from tests.support.examples import example_environment
from tests.support.fastapi_example import ServedApp, serving_fastapi_app


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
