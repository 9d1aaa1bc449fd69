"""The SDK's payouts, merchant-account and mandate services against the emulator, each
test run twice: in-process (ASGI transport) and served on loopback (real HTTP)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest
import pytest_asyncio

from tests.support.e2e import fresh_emulator, session_on
from truelayer_async import Session
from truelayer_async.testing import FakeTrueLayer


@pytest.fixture(params=["in-process", "served"])
def fake(request: pytest.FixtureRequest) -> Iterator[FakeTrueLayer]:
    """A fresh emulator, reached in-process or over a real loopback socket."""
    with fresh_emulator(served=request.param == "served") as emulator:
        yield emulator


@pytest_asyncio.fixture
async def tl(fake: FakeTrueLayer) -> AsyncIterator[Session]:
    """A Session wired to ``fake``."""
    async with session_on(fake) as session:
        yield session
