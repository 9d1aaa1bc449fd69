"""Fixtures for the core tests: every ``anyio``-marked test runs on asyncio and on trio."""

from __future__ import annotations

import pytest

from tests.support.backends import BACKENDS


@pytest.fixture(params=BACKENDS)
def anyio_backend(request: pytest.FixtureRequest) -> str:
    """The event loop of the anyio plugin: asyncio, then trio."""
    backend: str = request.param
    return backend
