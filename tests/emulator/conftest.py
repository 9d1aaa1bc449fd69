"""Fixtures for the emulator's own tests."""

from __future__ import annotations

import importlib.metadata
from collections.abc import AsyncIterator

import httpx
import pytest
import pytest_asyncio

from truelayer_async.testing import FakeClock, FakeTrueLayer

#: 2024-05-01T10:00:00Z: a fixed start makes the synthetic data identical run after run.
START = 1_714_557_600.0

PLUGIN_INSTALLED = any(
    ep.name == "truelayer_async" for ep in importlib.metadata.entry_points(group="pytest11")
)
if not PLUGIN_INSTALLED:
    # The package is not pip-installed yet, so pytest did not load the plugin through its
    # entry point; expose its fixtures here instead.
    from truelayer_async.testing.pytest_plugin import (  # noqa: F401
        truelayer_fake,
        truelayer_fake_server,
    )


@pytest.fixture
def fake() -> FakeTrueLayer:
    return FakeTrueLayer(clock=FakeClock(START))


@pytest_asyncio.fixture
async def client(fake: FakeTrueLayer) -> AsyncIterator[httpx.AsyncClient]:
    async with fake.http_client() as http:
        yield http
