"""Fixtures for the emulator's own tests; helpers are in ``tests.support.emulator``."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
import pytest_asyncio

from tests.support.emulator import PLUGIN_INSTALLED, START
from truelayer_async.testing import FakeClock, FakeTrueLayer

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
